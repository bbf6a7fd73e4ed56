"""Certificate facts for the report, and our own host-name matcher (we connect to an address, not a name)."""

from __future__ import annotations

import functools
import os
import ssl
import time
from dataclasses import dataclass
from typing import Any

from bot.probes.names import normalise_host

EXPIRY_WARNING_DAYS = 14


def tls_context() -> ssl.SSLContext:
    """Chain verification against the default store (honours SSL_CERT_FILE); names are checked by us.

    One context per trust-store setting for the whole process: loading the store takes tens of
    milliseconds, and a context serves any number of connections.
    """
    return _context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    # Off because the socket is opened to the checked IP address: `match_name` does the name check.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def match_name(host: str, names: list[str]) -> bool:
    """Whether a certificate for DNS `names` (subjectAltName) is valid for `host` (RFC 6125 rules).

    A wildcard is only the whole left-most label (`*.example.com`) and stands for exactly one label;
    partial wildcards (`f*.example.com`) and wildcards over a bare TLD (`*.com`) never match.
    """
    wanted = normalise_host(host)
    if not wanted or wanted.startswith("*"):
        return False
    for pattern in names:
        pattern = normalise_host(pattern)
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and pattern.count(".") >= 2 and "*" not in pattern[1:]:
            head, _, rest = wanted.partition(".")
            if head and rest == pattern[2:]:
                return True
    return False


@dataclass(frozen=True)
class CertFacts:
    """What the agent needs to see about a verified certificate."""

    names: list[str]
    subject: str
    issuer: str
    not_after: str
    days_left: int

    def evidence(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "subject": self.subject,
            "issuer": self.issuer,
            "not_after": self.not_after,
            "days_left": self.days_left,
        }


def cert_facts(peer: dict[str, Any], now: float | None = None) -> CertFacts:
    """Read `SSLSocket.getpeercert()` output (only filled in when the chain was verified)."""
    names = [value for kind, value in peer.get("subjectAltName", ()) if kind in ("DNS", "IP Address")]
    not_after = str(peer.get("notAfter", ""))
    try:
        expires = ssl.cert_time_to_seconds(not_after)
        days_left = int((expires - (time.time() if now is None else now)) // 86400)
    except ValueError:
        days_left = 0
    return CertFacts(
        names=names[:20],
        subject=_rdn(peer.get("subject", ())),
        issuer=_rdn(peer.get("issuer", ())),
        not_after=not_after,
        days_left=days_left,
    )


def _rdn(value: Any) -> str:
    parts = [f"{key}={val}" for rdn in value for key, val in rdn]
    return ", ".join(parts)[:300]
