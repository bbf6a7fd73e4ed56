"""The `dmarc` check: `_dmarc.<domain>` with fallback to the organisational domain (RFC 7489)."""

from __future__ import annotations

from typing import Any

from bot.engine.probing import ProbeResult
from bot.probes.dnsclient import Lookup
from bot.probes.run import Run
from bot.probes.untrusted import TXT_CHARS, clip

# Second-level labels under which registrations happen (a small stand-in for the Public Suffix List).
_PUBLIC_SECOND_LEVEL = {"co", "com", "net", "org", "gov", "ac", "edu", "ltd", "plc", "me", "sch", "nhs"}


def organisational_domain(domain: str) -> str:
    labels = domain.split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in _PUBLIC_SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def parse_tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            tags.setdefault(key.strip().lower(), value.strip())
    return tags


def dmarc_records(lookup: Lookup) -> list[str]:
    return [r for r in lookup.records if r.replace(" ", "").lower().startswith("v=dmarc1")]


async def check_dmarc(run: Run) -> ProbeResult:
    d = run.d.unicode
    name = run.d.sub("_dmarc")
    lookup = await run.lookup(name, "TXT")
    details: dict[str, Any] = {"lookup": lookup.evidence()}
    records = dmarc_records(lookup)
    org = organisational_domain(run.d.ascii)
    if not records and not lookup.failed and org != run.d.ascii:
        lookup = await run.lookup("_dmarc." + org, "TXT")
        details["organisational_lookup"] = lookup.evidence()
        records = dmarc_records(lookup)
        details["inherited_from"] = org
    if lookup.failed:
        return ProbeResult(
            "dmarc",
            "unknown",
            f"I couldn't read the DMARC record of {d} just now, so please try again in a few minutes.",
            details,
        )
    details["records"] = [clip(r, TXT_CHARS) for r in records]
    if not records:
        return ProbeResult(
            "dmarc",
            "warn",
            f"{d} has no DMARC record, so big mailbox providers may distrust your mail: add one (for example v=DMARC1; p=none) in your DNS settings.",
            details,
        )
    if len(records) > 1:
        return ProbeResult(
            "dmarc",
            "fail",
            f"{d} has {len(records)} DMARC records, so receivers ignore them all: keep just one in your DNS settings.",
            details,
        )
    tags = parse_tags(records[0])
    details["tags"] = {k: clip(v, 120) for k, v in list(tags.items())[:12]}
    policy = tags.get("p", "").lower()
    if tags.get("v", "").upper() != "DMARC1" or not records[0].lstrip().lower().startswith("v"):
        return ProbeResult(
            "dmarc",
            "fail",
            f"The DMARC record of {d} must start with v=DMARC1, so correct it in your DNS settings.",
            details,
        )
    if policy not in ("none", "quarantine", "reject"):
        return ProbeResult(
            "dmarc",
            "fail",
            f"The DMARC record of {d} has no valid policy (p=none, quarantine or reject), so receivers ignore it: correct it in your DNS settings.",
            details,
        )
    if policy == "none":
        return ProbeResult(
            "dmarc",
            "warn",
            f"The DMARC record of {d} only monitors (p=none), which is fine for now; once your mail passes SPF and DKIM, consider p=quarantine.",
            details,
        )
    return ProbeResult(
        "dmarc",
        "pass",
        f"The DMARC record of {d} is set up with a {policy} policy, so there's nothing to change there.",
        details,
    )
