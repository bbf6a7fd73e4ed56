"""The `smtp_25`, `smtp_465`, `smtp_587` and `tls` checks, read from one SMTP conversation per server and port."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.engine.probing import ProbeResult, ProbeStatus
from bot.probes.addresses import parse_address
from bot.probes.certs import match_name
from bot.probes.mail import Host, mail_host, mx_info
from bot.probes.run import Run
from bot.probes.smtp import SmtpSession, TlsFacts

# How bad a status is, to pick the worst of several findings.
SEVERITY: dict[ProbeStatus, int] = {"pass": 0, "skipped": 1, "unknown": 2, "warn": 3, "fail": 4}
TLS_PORTS = (465, 587)


def matching_host(tls: TlsFacts, provider: str) -> str:
    """The host to type instead when a certificate isn't made out to `mail.<domain>`.

    The provider's own host when the certificate covers it (shared hosting), else the first plain
    host name on the certificate, else the provider's host.
    """
    names = tls.cert.names if tls.cert else []
    if match_name(provider, names):
        return provider
    return next((n for n in names if "*" not in n and parse_address(n) is None), provider)


def _why(session: SmtpSession) -> str:
    """What went wrong, as a phrase a customer understands."""
    return {
        "refused": "refuses connections",
        "timeout": "didn't answer in time",
        "unreachable": "can't be reached",
        "rejected": f"turned the connection away ({(session.greeting or ['no greeting'])[0][:60]})",
        "protocol": "answered with something that isn't email talk",
        "tls_failed": "answered, but its encryption failed",
    }.get(session.outcome, "didn't work")


async def check_smtp_25(run: Run) -> ProbeResult:
    d = run.d.unicode
    info = await mx_info(run)
    if info.kind == "failed":
        return ProbeResult(
            "smtp_25",
            "unknown",
            f"I couldn't look up the mail servers for {d}, so I couldn't test port 25; please try again later.",
        )
    if info.kind in ("null", "none", "nxdomain"):
        return ProbeResult(
            "smtp_25",
            "skipped",
            f"{d} has no mail server to test on port 25, so fix its mail server (MX) records first.",
        )
    hosts = [h for h in info.hosts if h.addresses]
    not_contacted = [h.evidence() for h in info.hosts if not h.addresses]
    if not hosts:
        return ProbeResult(
            "smtp_25",
            "skipped",
            f"I didn't contact the mail servers for {d} because they don't have public addresses, so fix the MX records first.",
            {"not_contacted": not_contacted},
        )
    sessions = await asyncio.gather(*(run.session(h.name, h.addresses[0], 25) for h in hosts))
    details: dict[str, Any] = {"servers": [s.evidence() for s in sessions]}
    if not_contacted:
        details["not_contacted"] = not_contacted
    good = [s for s in sessions if s.outcome in ("ok", "tls_failed")]
    bad = [s for s in sessions if s.outcome not in ("ok", "tls_failed")]
    if good and not bad:
        return ProbeResult(
            "smtp_25",
            "pass",
            "Your mail server answers on port 25 from here, so if your mail program can't connect on port 25, your internet provider is probably blocking it: use port 587 instead.",
            details,
        )
    if good:
        first = bad[0]
        return ProbeResult(
            "smtp_25",
            "warn",
            f"Your main mail server answers on port 25, but {first.host} {_why(first)}, so ask your email provider to check that server.",
            details,
        )
    if all(s.outcome in ("timeout", "unreachable") for s in sessions):
        return ProbeResult(
            "smtp_25",
            "unknown",
            f"The mail server for {d} didn't answer on port 25 in time, so I can't tell whether it works; please try again in a few minutes.",
            details,
        )
    first = next(s for s in sessions if s.outcome not in ("timeout", "unreachable"))
    return ProbeResult(
        "smtp_25",
        "fail",
        f"The mail server {first.host} {_why(first)} on port 25, so it can't take email right now: contact your email provider.",
        details,
    )


async def submission_session(run: Run, port: int) -> tuple[Host, SmtpSession | None]:
    host = await mail_host(run)
    if not host.addresses:
        return host, None
    return host, await run.session(host.name, host.addresses[0], port)


async def check_smtp_465(run: Run) -> ProbeResult:
    return await _check_submission(run, 465)


async def check_smtp_587(run: Run) -> ProbeResult:
    return await _check_submission(run, 587)


async def _check_submission(run: Run, port: int) -> ProbeResult:
    check = f"smtp_{port}"
    name = "mail." + run.d.unicode
    provider = run.config.provider_smtp_host
    host, session = await submission_session(run, port)
    if session is None:
        if host.lookup_failed:
            return ProbeResult(
                check,
                "unknown",
                f"I couldn't look up {name}, so I couldn't test port {port}; please try again in a few minutes.",
            )
        return ProbeResult(
            check,
            "skipped",
            f"There's no reachable {name} to test on port {port}, so use {provider} as your outgoing (SMTP) server.",
            {"host": host.evidence()},
        )
    details = session.evidence()
    outcome = session.outcome
    if outcome == "refused":
        return ProbeResult(
            check,
            "fail",
            f"Nothing answers on port {port} at {name}, so set your mail program's outgoing server to {provider} instead.",
            details,
        )
    if outcome == "rejected":
        return ProbeResult(
            check,
            "fail",
            f"{name} turned the connection away on port {port}, so use {provider} as your outgoing server, and contact us if that fails too.",
            details,
        )
    if outcome in ("timeout", "unreachable"):
        return ProbeResult(
            check,
            "unknown",
            f"{name} didn't answer on port {port} in time, so I can't tell whether it works; please try again in a few minutes.",
            details,
        )
    if outcome == "protocol":
        return ProbeResult(
            check,
            "unknown",
            f"{name} answered on port {port} in a way I didn't understand, so I can't tell whether it works; our support team can look into it.",
            details,
        )
    if outcome == "tls_failed":
        return ProbeResult(
            check,
            "warn",
            f"{name} answers on port {port}, but its security certificate isn't valid, so your mail program may refuse it: use {provider} as your outgoing server instead.",
            details,
        )
    tls = session.tls
    if tls is not None and tls.verified and not tls.name_ok:
        # The port works, but a mail program checks the certificate against the name typed in it.
        better = matching_host(tls, provider)
        details["use_instead"] = better
        names = tls.cert.names if tls.cert else []
        details["certificate_names"] = names[:5]
        return ProbeResult(
            check,
            "warn",
            f"{name} answers on port {port}, but its security certificate is made out to {better}, so your mail program would refuse {name}: set your outgoing server to {better} on port {port} instead.",
            details,
        )
    if port == 587 and not session.starttls_offered:
        return ProbeResult(
            check,
            "warn",
            f"{name} answers on port 587 but doesn't offer encryption, so your password would travel unprotected: use {provider} as your outgoing server instead.",
            details,
        )
    if not session.auth:
        return ProbeResult(
            check,
            "warn",
            f"{name} answers on port {port} but doesn't offer login (authentication), so your mail program can't sign in there: use {provider} instead.",
            details,
        )
    size = session.size
    limit = run.config.max_message_bytes
    if size and size < limit:
        mb = size // (1024 * 1024)
        details["size_limit_mb"] = round(size / (1024 * 1024), 1)
        return ProbeResult(
            check,
            "warn",
            f"{name} answers on port {port} but only accepts messages up to about {mb} MB, less than our {limit // (1024 * 1024)} MB limit, so keep each message and its attachments under {mb} MB.",
            details,
        )
    return ProbeResult(
        check,
        "pass",
        f"{name} answers on port {port} and offers secure login, so use it as your outgoing server on port {port} with authentication turned on.",
        details,
    )


async def check_tls(run: Run) -> ProbeResult:
    name = "mail." + run.d.unicode
    provider = run.config.provider_smtp_host
    results = await asyncio.gather(*(submission_session(run, port) for port in TLS_PORTS))
    host = results[0][0]
    if not host.addresses:
        if host.lookup_failed:
            return ProbeResult(
                "tls",
                "unknown",
                f"I couldn't look up {name}, so I couldn't check its security certificate; please try again later.",
            )
        return ProbeResult(
            "tls",
            "skipped",
            f"There's no reachable {name} whose certificate I could check, so use {provider} as your outgoing server.",
            {"host": host.evidence()},
        )
    findings: list[tuple[ProbeStatus, str, int]] = []
    details: dict[str, Any] = {"host": host.name}
    for port, (_, session) in zip(TLS_PORTS, results, strict=True):
        if session is None or session.tls is None:
            continue
        tls = session.tls
        details[f"port_{port}"] = tls.evidence()
        if not tls.verified:
            if tls.verify_code == 10:
                findings.append(
                    (
                        "fail",
                        f"The security certificate of {name} has expired, so mail programs will warn or refuse to connect: use {provider} as your outgoing server until it's renewed.",
                        port,
                    )
                )
            elif tls.verify_code in (18, 19, 20, 21):
                findings.append(
                    (
                        "fail",
                        f"The security certificate of {name} isn't issued by a trusted authority (it's self-signed or unknown), so use {provider} as your outgoing server instead.",
                        port,
                    )
                )
            else:
                findings.append(
                    (
                        "fail",
                        f"Encryption with {name} doesn't work ({tls.error}), so use {provider} as your outgoing server instead.",
                        port,
                    )
                )
        elif not tls.name_ok:
            names = tls.cert.names if tls.cert else []
            better = matching_host(tls, provider)
            details["use_instead"] = better
            findings.append(
                (
                    "fail",
                    f"The security certificate on {name} is made out to {', '.join(names[:3]) or 'another name'}, so set your outgoing server to {better} instead of {name}.",
                    port,
                )
            )
        elif tls.cert is not None and tls.cert.days_left < 14:
            findings.append(
                (
                    "warn",
                    f"The security certificate of {name} expires in {max(tls.cert.days_left, 0)} days, so ask whoever runs the server to renew it soon.",
                    port,
                )
            )
        else:
            findings.append(
                (
                    "pass",
                    f"The security certificate of {name} is valid and matches its name, so encrypted connections to it will work.",
                    port,
                )
            )
    if not findings:
        sessions = [s for _, s in results if s is not None]
        if any(s.outcome in ("timeout", "unreachable", "protocol") for s in sessions):
            return ProbeResult(
                "tls",
                "unknown",
                f"{name} didn't let me see its security certificate in time, so I can't tell whether it's valid; please try again later.",
                details,
            )
        return ProbeResult(
            "tls",
            "skipped",
            f"{name} offers no encryption on port 465 or 587, so there's no certificate to check; use {provider} for secure sending.",
            details,
        )
    status, summary, port = max(findings, key=lambda f: SEVERITY[f[0]])
    details["port"] = port
    return ProbeResult("tls", status, summary, details)
