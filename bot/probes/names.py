"""Customer-typed domains made safe to probe: IDNA 2008 / UTS 46 normalisation and refusals."""

from __future__ import annotations

import re
from dataclasses import dataclass

import idna

from bot.errors import ProbeError
from bot.probes.addresses import parse_address

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Names that never lead to a customer's public mail server (RFC 6761 and friends).
_SPECIAL_SUFFIXES = ("localhost", "local", "localdomain", "invalid", "test", "onion", "internal", "arpa")


@dataclass(frozen=True)
class Domain:
    """A domain as the customer knows it (`unicode`) and as DNS needs it (`ascii`, A-labels)."""

    unicode: str
    ascii: str

    def sub(self, label: str) -> str:
        return f"{label}.{self.ascii}"


def normalise_domain(text: str) -> Domain:
    """Normalise and validate a domain the customer typed; raise ProbeError saying what to type instead."""
    raw = text.strip()
    if not raw:
        raise ProbeError("no domain given; type the part of your email address after the @, e.g. example.com")
    if "@" in raw:
        raise ProbeError(f"{raw!r} looks like an email address; type only the part after the @")
    if "://" in raw or "/" in raw:
        raise ProbeError(f"{raw!r} looks like a web address; type only the domain, e.g. example.com")
    if parse_address(raw) is not None:
        raise ProbeError(f"{raw!r} is an IP address; the check needs a domain name such as example.com")
    if ":" in raw:
        raise ProbeError(f"{raw!r} includes a port; type only the domain, e.g. example.com")
    name = raw.rstrip(".")
    if len(name) > 253 * 4:
        raise ProbeError("that domain is far too long to be real; type it again, e.g. example.com")
    try:
        ascii_name = idna.encode(name, uts46=True, transitional=False).decode("ascii").lower()
        unicode_name = idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError) as exc:
        raise ProbeError(f"{raw!r} is not a valid domain name ({exc}); type it like example.com") from None
    labels = ascii_name.split(".")
    if any(ascii_name == s or ascii_name.endswith("." + s) for s in _SPECIAL_SUFFIXES):
        raise ProbeError(f"{raw!r} is a local or reserved name, not a public domain; type your email domain")
    if len(labels) < 2:
        raise ProbeError(f"{raw!r} has no dot; type the full domain, e.g. example.com")
    if len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ProbeError(
            f"{raw!r} is not a valid domain name; use letters, digits and hyphens, like example.com"
        )
    if labels[-1].isdigit():
        raise ProbeError(f"{raw!r} ends in a number, which no real domain does; type it like example.com")
    return Domain(unicode=unicode_name, ascii=ascii_name)


def normalise_host(text: str) -> str:
    """A host name from configuration or a flow (e.g. an SPF include), lower-case A-labels."""
    name = text.strip().rstrip(".")
    try:
        return idna.encode(name, uts46=True, transitional=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        return name.lower()
