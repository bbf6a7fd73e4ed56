"""The probe checks a flow's probe step may name, and the arguments each takes."""

from __future__ import annotations

# The ids of `supportbot probe --json`; the probe port and the live probes answer for exactly these.
CHECK_ARGUMENTS: dict[str, frozenset[str]] = {
    "mx": frozenset({"domain"}),
    "mail_host": frozenset({"domain"}),
    "smtp_25": frozenset({"domain"}),
    "smtp_465": frozenset({"domain"}),
    "smtp_587": frozenset({"domain"}),
    "tls": frozenset({"domain"}),
    "spf": frozenset({"domain", "ip", "sending_host"}),
    "dmarc": frozenset({"domain"}),
    "dkim": frozenset({"domain", "selector"}),
    "ip_blocklist": frozenset({"domain", "ip"}),
    "domain_blocklist": frozenset({"domain"}),
}


def known(check: str) -> bool:
    return check in CHECK_ARGUMENTS


def arguments(check: str) -> frozenset[str]:
    return CHECK_ARGUMENTS.get(check, frozenset())
