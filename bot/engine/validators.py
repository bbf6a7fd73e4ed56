"""Validators for typed answers: each returns the clean value or raises ValueError with a friendly hint."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

import idna

from bot.nlu.matcher import _NEGATIVE, _POSITIVE, normalize

Validator = Callable[[str], Any]
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
LARGEST_NUMBER = 1e15  # beyond this floats stop counting whole numbers exactly
_PLAIN_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")
MAX_NAME_CHARS = 253  # a domain name's longest written form, without the trailing dot


def domain(text: str) -> str:
    """A domain name; accepts an e-mail address or a URL and keeps the domain part."""
    value = text.strip().strip("<>\"'").lower()
    if "@" in value:
        value = value.rsplit("@", 1)[1]
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value)
    value = value.split("/", 1)[0].split("?", 1)[0].rstrip(".")
    if value.startswith("www."):
        value = value[4:]
    if not value or " " in value or ":" in value:
        raise ValueError("That doesn't look like a domain. Please type just the domain, e.g. example.com.")
    # A colon was refused above, so only an IPv4 address can be left: digits and dots. Asking
    # `ipaddress` only then spares the two failed parses (and their exceptions) of every name.
    if value.replace(".", "").isdigit():
        try:
            ipaddress.ip_address(value)
        except ValueError:
            pass
        else:
            raise ValueError("That's an IP address; I need your domain name instead, e.g. example.com.")
    # A plain name is its own IDNA form both ways; IDNA's per-character tables cost ~20 µs a name.
    plain = _plain_ascii_name(value)
    try:
        ascii_form = value if plain else idna.encode(value, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise ValueError("That doesn't look like a valid domain. Please type it like example.com.") from None
    if "." not in ascii_form:
        raise ValueError("A domain needs a dot, like example.com. Which domain do you send from?")
    return value if plain else idna.decode(ascii_form)


def _plain_ascii_name(value: str) -> bool:
    """True for a lower-case letters-digits-hyphens name that IDNA accepts as it is.

    Every label is 1-63 characters, starts and ends with a letter or digit, and has no hyphens in
    its third and fourth places (where `xn--` marks an encoded label); the name is at most 253
    characters. Anything else goes through IDNA itself.
    """
    return (
        len(value) <= MAX_NAME_CHARS
        and _PLAIN_NAME.fullmatch(value) is not None
        and not any(label[2:4] == "--" for label in value.split("."))
    )


def email(text: str) -> str:
    value = text.strip().strip("<>\"'")
    local, at, host = value.rpartition("@")
    if not at or not local or " " in local:
        raise ValueError("That doesn't look like an e-mail address. Please type it like you@example.com.")
    return f"{local}@{domain(host)}"


def ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        raise ValueError(
            "That isn't an IP address. It looks like 203.0.113.7; search 'what is my IP' to find yours."
        ) from None


def number(text: str) -> float | int:
    found = _NUMBER.search(text.replace(" ", ""))
    if not found:
        raise ValueError("Please answer with a number, e.g. 25.")
    raw = found.group().replace(",", ".")
    value = float(raw)
    # "999…9" (hundreds of digits) is a float of infinity: no answer means that, and templates
    # would show it as "inf".
    if not abs(value) < LARGEST_NUMBER:
        raise ValueError("That number is too large to be right; please answer with a number such as 25.")
    return int(value) if value.is_integer() else value


def yes_no(text: str) -> bool:
    words = set(normalize(text).split())
    if words & _NEGATIVE:
        return False
    if words & _POSITIVE:
        return True
    raise ValueError("Please answer yes or no.")


def text(value: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise ValueError("Please type an answer.")
    return cleaned[:500]


VALIDATORS: dict[str, Validator] = {
    "domain": domain,
    "email": email,
    "ip": ip,
    "number": number,
    "yes_no": yes_no,
    "text": text,
}
