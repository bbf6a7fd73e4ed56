"""The `spf` check: the record audited as receivers evaluate it, and check_host() for the customer's sending IP."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.engine.probing import ProbeResult
from bot.probes.run import Run
from bot.probes.spf_eval import LOOKUP_LIMIT, Evaluator, Verdict
from bot.probes.spf_macros import Sender
from bot.probes.spf_syntax import is_spf, near_miss
from bot.probes.untrusted import TXT_CHARS, clip

__all__ = ["check_spf"]


async def check_spf(run: Run) -> ProbeResult:
    d = run.d.unicode
    domain = run.d.ascii
    lookup = await run.lookup(domain, "TXT")
    details: dict[str, Any] = {"lookup": lookup.evidence()}
    if lookup.failed:
        return _unknown(d, details)
    records = [r for r in lookup.records if is_spf(r)]
    details["records"] = [clip(r, TXT_CHARS) for r in records]
    if lookup.aliased:
        details["canonical_name"] = lookup.canonical
    misses = [m for m in (near_miss(r) for r in lookup.records) if m is not None]
    if not records and misses:
        miss = misses[0]
        details["error"] = {"term": miss.term, "domain": domain, "problem": miss.problem, "fix": miss.fix}
        return ProbeResult(
            "spf",
            "fail",
            f"The SPF record of {d} has a mistake at its start ({miss.term}: it {miss.problem}): {miss.fix}.",
            details,
        )
    if not records:
        return ProbeResult(
            "spf",
            "warn",
            f"{d} has no SPF record, so receivers may treat your mail as spam: add the SPF record your provider recommends in your DNS settings.",
            details,
        )
    audit = Evaluator(run.lookup, None)
    own = None
    if run.ip is not None:
        own = Evaluator(run.lookup, Sender(run.ip, f"postmaster@{domain}", domain))
    # Each walk is ordered on its own; running both at once only overlaps their waiting.
    verdicts = await asyncio.gather(audit.check_host(domain), *([own.check_host(domain)] if own else []))
    stranger = verdicts[0]
    trace = audit.trace
    details.update(
        lookups=trace.lookups,
        void_lookups=trace.voids,
        default_result=stranger.result,
        decided_by=stranger.term,
        chain=dict(list(trace.records.items())[:15]),
    )
    if trace.unfollowed:
        details["needs_sender"] = trace.unfollowed[:10]
    if stranger.result == "permerror":
        details["error"] = _error(stranger)
    if own is not None:
        return _for_sender(run, d, verdicts[1], stranger, details)
    if stranger.result == "permerror":
        return _mistake(d, stranger, details)
    if stranger.result == "temperror":
        details["lookup_failure"] = stranger.problem
        return _unknown(d, details)
    open_result = _open(d, stranger, trace.broad, details)
    if open_result is not None:
        return open_result
    if run.sending_host and run.sending_host not in trace.targets:
        details["sending_host"] = run.sending_host
        return ProbeResult(
            "spf",
            "warn",
            f"The SPF record of {d} doesn't include {run.sending_host}, so mail you send through us may land in spam: add include:{run.sending_host} to it.",
            details,
        )
    if stranger.result in ("neutral", "none"):
        return ProbeResult(
            "spf",
            "warn",
            f"The SPF record of {d} doesn't say what to do with other senders, so end it with ~all to help receivers trust your mail.",
            details,
        )
    return ProbeResult(
        "spf",
        "pass",
        f"The SPF record of {d} is set up correctly, so there's nothing to change there.",
        details,
    )


def _for_sender(
    run: Run, d: str, verdict: Verdict, stranger: Verdict, details: dict[str, Any]
) -> ProbeResult:
    """The verdict for the customer's own sending address: what receivers decide for it, and what to add."""
    ip = run.ip
    assert ip is not None
    details["ip"] = str(ip)
    details["ip_result"] = verdict.result
    details["ip_decided_by"] = verdict.term
    if verdict.result == "permerror":
        details["error"] = _error(verdict)
        return _mistake(d, verdict, details)
    if verdict.result == "temperror":
        details["lookup_failure"] = verdict.problem
        return _unknown(d, details)
    open_result = _open(d, stranger, [], details)
    if open_result is not None:
        return open_result
    if verdict.result != "pass":
        add = f"ip{ip.version}:{ip}"
        details["add"] = add
        return ProbeResult(
            "spf",
            "warn",
            f"The SPF record of {d} gives {verdict.result} for your sending address {ip}, so receivers may reject or junk your mail: add {add} to the record, before its last term.",
            details,
        )
    if stranger.result == "permerror":
        return ProbeResult(
            "spf",
            "warn",
            f"Mail from {ip} passes the SPF record of {d}, but for other senders it hits a mistake ({stranger.term}: {stranger.problem}), so {stranger.fix}.",
            details,
        )
    return ProbeResult(
        "spf",
        "pass",
        f"Your sending address {ip} passes the SPF record of {d} ({verdict.term} matches it), so there's nothing to change there.",
        details,
    )


def _open(d: str, stranger: Verdict, broad: list[str], details: dict[str, Any]) -> ProbeResult | None:
    # A warning, not a failure: the record works (mail passes), it just vouches for everyone.
    if stranger.result == "pass":
        return ProbeResult(
            "spf",
            "warn",
            f"The SPF record of {d} lets any server send email as you ({stranger.term} in the record of {stranger.domain}), so change it to ~all or -all and list only your own senders.",
            details,
        )
    if broad:
        details["broad_ranges"] = broad[:5]
        return ProbeResult(
            "spf",
            "warn",
            f"The SPF record of {d} allows a huge range of addresses ({broad[0]}), so almost anyone could send email as you: list only your own servers' addresses.",
            details,
        )
    return None


def _error(verdict: Verdict) -> dict[str, str]:
    return {"term": verdict.term, "domain": verdict.domain, "problem": verdict.problem, "fix": verdict.fix}


def _mistake(d: str, verdict: Verdict, details: dict[str, Any]) -> ProbeResult:
    where = (
        ""
        if verdict.domain == details.get("lookup", {}).get("name")
        else f" (in the record of {verdict.domain})"
    )
    if verdict.problem.startswith("it needs more than"):
        summary = f"The SPF record of {d} needs more than {LOOKUP_LIMIT} DNS lookups (at {verdict.term}{where}), so receivers treat it as broken: {verdict.fix}."
    else:
        summary = f"The SPF record of {d} has a mistake in {verdict.term}{where} ({verdict.problem}), so receivers treat it as broken: {verdict.fix}."
    return ProbeResult("spf", "fail", summary, details)


def _unknown(d: str, details: dict[str, Any]) -> ProbeResult:
    return ProbeResult(
        "spf",
        "unknown",
        f"I couldn't read every part of the SPF record of {d} just now, so please try again in a few minutes.",
        details,
    )
