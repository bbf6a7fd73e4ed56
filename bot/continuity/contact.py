"""The customer's e-mail address for replies: checked, and never something that looks like a secret."""

from __future__ import annotations

import re

from bot.errors import InputError
from bot.redaction import redact

MAX_EMAIL = 254  # RFC 5321's limit on a forward path
# One address, no display name, no spaces, a dot in the domain: what a reply can be sent to.
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251})")


def clean_email(text: str) -> str:
    """The address, trimmed and with the domain lower-cased; InputError saying how to write it."""
    value = text.strip()
    if len(value) > MAX_EMAIL:
        raise InputError(f"That e-mail address is {len(value)} characters long; the limit is {MAX_EMAIL}.")
    if not _ADDRESS.fullmatch(value) or ".." in value:
        raise InputError("That doesn't look like an e-mail address; write it like you@example.com.")
    local, _, domain = value.rpartition("@")
    if "." not in domain or domain.startswith(".") or domain.endswith((".", "-")):
        raise InputError(
            "The part after @ needs a domain such as example.com; write it like you@example.com."
        )
    if redact(value) != value:
        # Something the redactor hides (a key, a token) must never be stored as a contact.
        raise InputError(
            "That looks like a password or key, not an e-mail address; write it like you@example.com."
        )
    return f"{local}@{domain.lower()}"
