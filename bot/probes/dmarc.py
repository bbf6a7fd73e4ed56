"""The `dmarc` check: `_dmarc.<domain>`, else the organisational domain's record with its sp= (RFC 7489)."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.engine.probing import ProbeResult
from bot.probes.dmarc_record import (
    DmarcRecord,
    load_public_suffixes,
    looks_like_dmarc,
    organisational_domain,
    parse,
)
from bot.probes.run import Run
from bot.probes.untrusted import TXT_CHARS, clip

__all__ = ["check_dmarc", "organisational_domain", "parse_tags"]


def parse_tags(record: str) -> dict[str, str]:
    """tag=value pairs of a DKIM or DMARC record, first occurrence of each, names lower-cased."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            tags.setdefault(key.strip().lower(), value.strip())
    return tags


async def check_dmarc(run: Run) -> ProbeResult:
    d = run.d.unicode
    domain = run.d.ascii
    lookup = await run.lookup(run.d.sub("_dmarc"), "TXT")
    details: dict[str, Any] = {"lookup": lookup.evidence()}
    records = [r for r in lookup.records if looks_like_dmarc(r)]
    await load_public_suffixes()
    org = organisational_domain(domain)
    details["organisational_domain"] = org
    inherited = False
    if not records and not lookup.failed and org != domain:
        lookup = await run.lookup("_dmarc." + org, "TXT")
        details["organisational_lookup"] = lookup.evidence()
        records = [r for r in lookup.records if looks_like_dmarc(r)]
        inherited = bool(records)
        if inherited:
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
    record = parse(records[0])
    details["tags"] = {k: clip(v, 120) for k, v in list(record.tags.items())[:12]}
    if record.unknown_tags:
        details["unknown_tags"] = record.unknown_tags[:10]
    owner = org if inherited else domain
    if record.mistakes:
        first = record.mistakes[0]
        details["mistakes"] = [
            {"tag": m.tag, "problem": m.problem, "fix": m.fix} for m in record.mistakes[:10]
        ]
        return ProbeResult(
            "dmarc",
            "fail",
            f"The DMARC record of {owner} has a mistake in {first.tag} ({first.problem}), so receivers may ignore it: {first.fix}.",
            details,
        )
    unauthorised = await _unauthorised_reports(run, owner, record)
    # A subdomain without its own record is governed by the parent's sp= (or p= when there is no sp=).
    key = "sp" if inherited and "sp" in record.tags else "p"
    policy = record.tags[key].lower()
    details.update(policy=policy, policy_tag=key, pct=record.pct)
    applies = f"{d} (as a subdomain of {org}, by {key}=)" if inherited else d
    if policy == "none":
        return ProbeResult(
            "dmarc",
            "warn",
            f"The DMARC policy for {applies} only monitors ({key}=none), which is fine for now; once your mail passes SPF and DKIM, consider {key}=quarantine.",
            details,
        )
    if record.pct == 0:
        return ProbeResult(
            "dmarc",
            "warn",
            f"The DMARC policy for {applies} says {policy} but pct=0 applies it to no mail at all, so raise pct (or remove it) once your mail passes SPF and DKIM.",
            details,
        )
    if unauthorised:
        details["unauthorised_report_domains"] = unauthorised
        return ProbeResult(
            "dmarc",
            "warn",
            f"The DMARC record of {owner} sends reports to {unauthorised[0]}, which hasn't authorised them, so you won't get those reports: ask its owner to publish {owner}._report._dmarc.{unauthorised[0]} (v=DMARC1).",
            details,
        )
    partly = f" to {record.pct}% of failing mail" if record.pct < 100 else ""
    return ProbeResult(
        "dmarc",
        "pass",
        f"The DMARC policy for {applies} is {policy}{partly}, so there's nothing to change there.",
        details,
    )


async def _unauthorised_reports(run: Run, owner: str, record: DmarcRecord) -> list[str]:
    """Report domains outside the owner's organisation without the authorisation record (RFC 7489 §7.1)."""
    org = organisational_domain(owner)
    outside = sorted({dom for _, dom in record.rua + record.ruf if organisational_domain(dom) != org})[:5]
    lookups = await asyncio.gather(*(run.lookup(f"{owner}._report._dmarc.{dom}", "TXT") for dom in outside))
    # A failed lookup is not proof of a missing authorisation, so only a clear "no record" counts.
    return [
        dom
        for dom, lookup in zip(outside, lookups, strict=True)
        if not lookup.failed
        and not any(r.replace(" ", "").lower().startswith("v=dmarc1") for r in lookup.records)
    ]
