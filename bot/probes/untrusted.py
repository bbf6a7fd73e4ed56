"""Text that came from someone else's server (banners, TXT records): made printable and short."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
BANNER_CHARS = 200
TXT_CHARS = 512


def clip(text: str | bytes, limit: int = BANNER_CHARS) -> str:
    """`text` with control and bidi characters replaced, cut to `limit` characters with an ellipsis."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = _CONTROL.sub("\ufffd", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
