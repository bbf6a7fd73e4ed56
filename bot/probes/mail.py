"""The `mx` and `mail_host` checks, and the checked addresses the SMTP checks connect to."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.engine.probing import ProbeResult
from bot.probes.addresses import parse_address
from bot.probes.dnsclient import Lookup
from bot.probes.run import Run

MAX_MX_HOSTS = 5
MAX_ADDRESSES = 2


@dataclass
class Host:
    """A mail host name, its addresses we may connect to, and what is wrong with it."""

    name: str
    preference: int | None = None
    addresses: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    lookup_failed: bool = False
    canonical: str = ""

    @property
    def missing(self) -> bool:
        """No address at all, and not because a lookup failed."""
        return not self.addresses and not self.refused and not self.lookup_failed

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"host": self.name, "addresses": self.addresses}
        if self.preference is not None:
            out["preference"] = self.preference
        if self.refused:
            out["not_connected"] = {a: f"non-public address: {r}" for a, r in self.refused.items()}
        if self.canonical:
            out["canonical_name"] = self.canonical
        if self.problems:
            out["problems"] = self.problems
        return out


MxKind = Literal["ok", "null", "implicit", "none", "nxdomain", "failed"]


@dataclass
class MxInfo:
    kind: MxKind
    lookup: Lookup
    hosts: list[Host] = field(default_factory=list)
    extra_hosts: int = 0


async def resolve_host(run: Run, name: str) -> Host:
    """A and AAAA at once; every address checked; at most two kept to connect to (IPv4 first)."""
    host = Host(name=name)
    if parse_address(name) is not None:
        host.problems.append(f"{name} is an IP address, but a mail server record must name a host")
        return host
    a, aaaa = await asyncio.gather(run.lookup(name, "A"), run.lookup(name, "AAAA"))
    if (a.failed or aaaa.failed) and not (a.ok or aaaa.ok):
        host.lookup_failed = True
        host.problems.append(f"could not look up the address of {name} ({a.status}/{aaaa.status})")
    for lookup in (a, aaaa):
        if lookup.aliased:
            host.canonical = lookup.canonical
        for text in lookup.records:
            address = parse_address(text)
            if address is None:
                continue
            reason = run.refusal(address)
            if reason is not None:
                host.refused[str(address)] = reason
            elif len(host.addresses) < MAX_ADDRESSES:
                host.addresses.append(str(address))
    if host.refused:
        host.problems.append(
            f"{name} points to a non-public address ({', '.join(host.refused)}); not contacted"
        )
    if host.missing:
        host.problems.append(f"{name} has no address (A or AAAA record)")
    return host


def mx_info(run: Run) -> Awaitable[MxInfo]:
    return run.memo("mx_info", lambda: _mx_info(run))


async def _mx_info(run: Run) -> MxInfo:
    domain = run.d.ascii
    lookup = await run.lookup(domain, "MX")
    if lookup.status == "nxdomain":
        return MxInfo("nxdomain", lookup)
    if lookup.failed:
        return MxInfo("failed", lookup)
    if lookup.status == "nodata":
        # RFC 5321 §5.1: no MX means the domain's own address is the mail server ("implicit MX").
        host = await resolve_host(run, domain)
        return MxInfo("implicit" if host.addresses or host.refused else "none", lookup, [host])
    records = []
    for text in lookup.records:
        pref, _, exchange = text.partition(" ")
        records.append((int(pref) if pref.isdigit() else 65535, exchange.rstrip(".").lower()))
    if any(exchange == "" for _, exchange in records):
        return MxInfo("null", lookup)
    records.sort()
    chosen = records[:MAX_MX_HOSTS]
    hosts = await asyncio.gather(*(resolve_host(run, exchange) for _, exchange in chosen))
    for (preference, _), found in zip(chosen, hosts, strict=True):
        found.preference = preference
        if found.canonical:
            found.problems.append(
                f"{found.name} is an alias (CNAME) for {found.canonical}; MX records must name the host itself"
            )
    return MxInfo("ok", lookup, list(hosts), extra_hosts=max(0, len(records) - MAX_MX_HOSTS))


async def check_mx(run: Run) -> ProbeResult:
    d = run.d.unicode
    info = await mx_info(run)
    details: dict[str, Any] = {"lookup": info.lookup.evidence(), "hosts": [h.evidence() for h in info.hosts]}
    if info.extra_hosts:
        details["hosts_not_checked"] = info.extra_hosts
    if info.kind == "nxdomain":
        return ProbeResult(
            "mx",
            "fail",
            f"The domain {d} doesn't exist, so check its spelling, or renew it if it has expired.",
            details,
        )
    if info.kind == "failed":
        return ProbeResult(
            "mx",
            "unknown",
            f"I couldn't look up the mail servers for {d} just now, so please try again in a few minutes.",
            details,
        )
    if info.kind == "null":
        return ProbeResult(
            "mx",
            "fail",
            f"{d} is set up to refuse all email (a \"null MX\" record), so ask whoever manages your domain's DNS to add your provider's mail server records.",
            details,
        )
    if info.kind == "none":
        return ProbeResult(
            "mx",
            "fail",
            f"{d} has no mail server records, so email to it can't be delivered: add your provider's MX records in your DNS settings.",
            details,
        )
    if info.kind == "implicit":
        return ProbeResult(
            "mx",
            "warn",
            f"{d} has no mail server (MX) record, so mail falls back to the website's address: add your provider's MX records in your DNS settings.",
            details,
        )
    if info.lookup.aliased:
        details["apex_alias"] = info.lookup.canonical
        return ProbeResult(
            "mx",
            "warn",
            f"{d} is an alias (CNAME) of {info.lookup.canonical}, so its mail settings are really that domain's: ask whoever manages your DNS to replace the alias with proper records.",
            details,
        )
    usable = [h for h in info.hosts if h.addresses]
    if not usable:
        if any(h.lookup_failed for h in info.hosts):
            return ProbeResult(
                "mx",
                "unknown",
                f"I couldn't look up the addresses of the mail servers for {d}, so please try again in a few minutes.",
                details,
            )
        return ProbeResult(
            "mx",
            "fail",
            f"The mail server records for {d} don't lead to any public address, so email can't reach you: fix the MX records in your DNS settings.",
            details,
        )
    problems = [p for h in info.hosts for p in h.problems]
    if problems:
        return ProbeResult(
            "mx",
            "warn",
            f"Mail for {d} can be delivered, but a mail server record needs fixing ({problems[0]}), so ask whoever manages your DNS to correct it.",
            details,
        )
    names = ", ".join(h.name for h in info.hosts)
    return ProbeResult(
        "mx",
        "pass",
        f"The mail server records for {d} look right ({names}), so there's nothing to change there.",
        details,
    )


def mail_host(run: Run) -> Awaitable[Host]:
    return run.memo("mail_host", lambda: resolve_host(run, run.d.sub("mail")))


async def check_mail_host(run: Run) -> ProbeResult:
    name = "mail." + run.d.unicode
    provider = run.config.provider_smtp_host
    host = await mail_host(run)
    details = host.evidence()
    if host.lookup_failed:
        return ProbeResult(
            "mail_host",
            "unknown",
            f"I couldn't look up {name} just now; if your mail program can't find it, use {provider} instead.",
            details,
        )
    if host.missing:
        return ProbeResult(
            "mail_host",
            "fail",
            f"{name} doesn't exist, so use {provider} as the outgoing (SMTP) server in your mail program.",
            details,
        )
    if not host.addresses:
        return ProbeResult(
            "mail_host",
            "fail",
            f"{name} points to a private address that can't be reached from the internet, so use {provider} as your outgoing (SMTP) server.",
            details,
        )
    return ProbeResult(
        "mail_host",
        "pass",
        f"{name} exists, so you can use it as the outgoing (SMTP) server in your mail program.",
        details,
    )
