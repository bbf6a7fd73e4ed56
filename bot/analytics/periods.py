"""Reads the dates people type (2024-05-01, 2024-05-01T09:30, 7d, 12h) into epoch seconds, UTC."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from bot.errors import InputError

_RELATIVE = re.compile(r"^(\d+)\s*([dhm])$")
_UNIT = {"d": 86400, "h": 3600, "m": 60}


def parse_when(value: str, now: float | None = None) -> float:
    """A date or ISO date-time (UTC unless it names an offset), or a span back from now such as 7d."""
    text = value.strip()
    rel = _RELATIVE.match(text.lower())
    if rel:
        return (time.time() if now is None else now) - int(rel.group(1)) * _UNIT[rel.group(2)]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{value!r} is not a date; write 2024-05-01, 2024-05-01T09:30 or a span such as 7d, 12h"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def show(epoch: float | None) -> str:
    """Epoch seconds as a short UTC time for tables."""
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")
