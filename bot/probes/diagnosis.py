"""Runs checks concurrently under one deadline, reporting each as it finishes; nothing outlives the deadline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from bot.engine.probing import ProbeResult, ProgressCallback
from bot.probes.blocklists import check_domain_blocklist, check_ip_blocklist
from bot.probes.dkim import check_dkim
from bot.probes.dmarc import check_dmarc
from bot.probes.mail import check_mail_host, check_mx
from bot.probes.run import CheckFunction, Run
from bot.probes.smtpchecks import check_smtp_25, check_smtp_465, check_smtp_587, check_tls
from bot.probes.spf import check_spf

log = logging.getLogger(__name__)

# The report and `probe --json` list checks in this order: where mail goes (MX, server, ports, TLS),
# then the domain's authentication (SPF, DMARC, DKIM), then blocklists.
CHECKS: dict[str, CheckFunction] = {
    "mx": check_mx,
    "mail_host": check_mail_host,
    "smtp_25": check_smtp_25,
    "smtp_465": check_smtp_465,
    "smtp_587": check_smtp_587,
    "tls": check_tls,
    "spf": check_spf,
    "dmarc": check_dmarc,
    "dkim": check_dkim,
    "ip_blocklist": check_ip_blocklist,
    "domain_blocklist": check_domain_blocklist,
}


def timed_out(check: str) -> ProbeResult:
    return ProbeResult(
        check,
        "unknown",
        "This check took too long to finish, so I can't tell; please try again in a few minutes.",
        {"error": "deadline"},
    )


def crashed(check: str, exc: BaseException) -> ProbeResult:
    return ProbeResult(
        check,
        "unknown",
        "Something went wrong on our side while checking this, so I can't tell; our support team can look into it.",
        {"error": type(exc).__name__},
    )


async def run_checks(
    run: Run, checks: Iterable[str], deadline: float, progress: ProgressCallback | None = None
) -> dict[str, ProbeResult]:
    """Every check in `checks` at once; those not done by `deadline` seconds are `unknown`."""
    tasks: dict[asyncio.Future[ProbeResult], str] = {}
    for check in checks:
        tasks[asyncio.ensure_future(run.check(check))] = check
    results: dict[str, ProbeResult] = {}
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    pending = set(tasks)
    try:
        while pending:
            remaining = end - loop.time()
            if remaining <= 0:
                break
            done, pending = await asyncio.wait(
                pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                check = tasks[task]
                exc = task.exception()
                if exc is not None:
                    log.error("probe %s failed", check, exc_info=exc)
                    results[check] = crashed(check, exc)
                else:
                    results[check] = task.result()
                await _tell(progress, results[check])
        for task in pending:
            task.cancel()
            results[tasks[task]] = timed_out(tasks[task])
            await _tell(progress, results[tasks[task]])
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await run.close()
    return results


async def _tell(progress: ProgressCallback | None, result: ProbeResult) -> None:
    if progress is None:
        return
    try:
        await progress(result)
    except Exception:  # a channel that can't show progress must not break the diagnosis
        log.exception("probe progress callback failed")
