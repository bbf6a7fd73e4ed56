"""The `spf` check: one v=spf1 record, its syntax, and the 10-lookup and 2-void-lookup limits (RFC 7208)."""

from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from bot.engine.probing import ProbeResult
from bot.probes.addresses import IPNetwork, parse_address
from bot.probes.dnsclient import Lookup
from bot.probes.names import normalise_host
from bot.probes.run import Run
from bot.probes.untrusted import TXT_CHARS, clip

LOOKUP_LIMIT = 10
VOID_LIMIT = 2
MAX_DEPTH = 12
_TERM = re.compile(
    r"^(?P<q>[+\-~?]?)(?P<name>[a-z0-9][a-z0-9_.\-]*)(?P<sep>[:=/]?)(?P<arg>.*)$", re.IGNORECASE
)
_MECHANISMS = {"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"}
_DOMAIN_ARG = re.compile(r"^[^\s/]+$")
_CIDR = re.compile(r"^(/\d{1,2})?(//\d{1,3})?$")


def spf_records(lookup: Lookup) -> list[str]:
    return [r for r in lookup.records if r.lower() == "v=spf1" or r.lower().startswith("v=spf1 ")]


@dataclass
class Walk:
    """What following the record and its includes found."""

    lookups: int = 0
    voids: int = 0
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    records: dict[str, str] = field(default_factory=dict)
    includes: set[str] = field(default_factory=set)
    networks: list[IPNetwork] = field(default_factory=list)
    all_qualifier: str | None = None


async def walk(run: Run, domain: str, record: str, state: Walk, depth: int = 0, top: bool = True) -> None:
    """Parse `record` (of `domain`) and follow its lookups concurrently, counting them as an evaluator would."""
    state.records[domain] = clip(record, TXT_CHARS)
    followers = []
    terms = record.split()[1:]
    for index, term in enumerate(terms):
        match = _TERM.match(term)
        if match is None:
            state.errors.append(f"{domain}: {clip(term, 60)!r} is not a valid SPF term")
            continue
        qualifier, name, sep, arg = match["q"], match["name"].lower(), match["sep"], match["arg"]
        if sep == "=":
            if qualifier:
                state.errors.append(f"{domain}: modifier {name!r} cannot have a qualifier")
            if name == "redirect":
                if any(t.split(":")[0].lstrip("+-~?").lower() == "all" for t in terms):
                    continue  # RFC 7208 §6.1: redirect is ignored when there is an "all"
                state.lookups += 1
                followers.append(_follow(run, arg, state, depth))
                if top:
                    state.all_qualifier = state.all_qualifier or "redirect"
            continue
        if name not in _MECHANISMS:
            state.errors.append(f"{domain}: unknown mechanism {clip(term, 60)!r}")
            continue
        if name == "all":
            if sep or arg:
                state.errors.append(f"{domain}: 'all' takes no value")
            if top:
                state.all_qualifier = qualifier or "+"
                if index != len(terms) - 1:
                    state.errors.append(f"{domain}: terms after 'all' are never used")
        elif name in ("ip4", "ip6"):
            try:
                network = ipaddress.ip_network(arg, strict=False)
                if network.version != int(name[-1]):
                    raise ValueError(name)
                state.networks.append(network)
            except ValueError:
                state.errors.append(f"{domain}: {clip(term, 60)!r} is not a valid {name} range")
        elif name in ("include", "exists"):
            if sep != ":" or not _DOMAIN_ARG.match(arg):
                state.errors.append(f"{domain}: {name} needs a domain, like {name}:spf.example.com")
                continue
            state.lookups += 1
            if name == "include":
                followers.append(_follow(run, arg, state, depth))
        else:  # a, mx, ptr: optional domain and CIDR lengths
            target, cidr = arg, ""
            if sep == "/":
                target, cidr = "", "/" + arg
            elif "/" in arg:
                target, _, rest = arg.partition("/")
                cidr = "/" + rest
            if not _CIDR.match(cidr):
                state.errors.append(f"{domain}: {clip(term, 60)!r} has a bad prefix length")
            state.lookups += 1
            if name in ("a", "mx") and "%" not in target:
                followers.append(_count_void(run, target or domain, "A" if name == "a" else "MX", state))
    if depth < MAX_DEPTH and state.lookups <= LOOKUP_LIMIT * 2:
        await asyncio.gather(*followers)
    else:
        for coroutine in followers:
            coroutine.close()


async def _follow(run: Run, target: str, state: Walk, depth: int) -> None:
    if "%" in target:  # macros depend on the sender; nothing to follow without one
        return
    name = normalise_host(target)
    state.includes.add(name)
    if name in state.records:
        state.errors.append(f"{name} is included twice or in a loop")
        return
    lookup = await run.lookup(name, "TXT")
    if lookup.failed:
        state.failures.append(f"{name}: {lookup.status}")
        return
    if lookup.missing:
        state.voids += 1
    records = spf_records(lookup)
    if len(records) != 1:
        state.errors.append(f"{name} has {len(records) or 'no'} SPF record{'s' if len(records) != 1 else ''}")
        return
    await walk(run, name, records[0], state, depth + 1, top=False)


async def _count_void(run: Run, target: str, rdtype: str, state: Walk) -> None:
    lookup = await run.lookup(normalise_host(target), rdtype)
    if lookup.failed:
        state.failures.append(f"{target}: {lookup.status}")
    elif lookup.missing:
        state.voids += 1


def _permits(state: Walk, sending_host: str) -> bool:
    address = parse_address(sending_host)
    if address is not None:
        return any(address.version == n.version and address in n for n in state.networks)
    host = normalise_host(sending_host)
    return host in state.includes


async def check_spf(run: Run) -> ProbeResult:
    d = run.d.unicode
    lookup = await run.lookup(run.d.ascii, "TXT")
    details: dict[str, Any] = {"lookup": lookup.evidence()}
    if lookup.failed:
        return ProbeResult(
            "spf",
            "unknown",
            f"I couldn't read the SPF record of {d} just now, so please try again in a few minutes.",
            details,
        )
    records = spf_records(lookup)
    details["records"] = [clip(r, TXT_CHARS) for r in records]
    if not records:
        return ProbeResult(
            "spf",
            "warn",
            f"{d} has no SPF record, so receivers may treat your mail as spam: add the SPF record your provider recommends in your DNS settings.",
            details,
        )
    if len(records) > 1:
        return ProbeResult(
            "spf",
            "fail",
            f"{d} has {len(records)} SPF records, which makes receivers ignore them all, so merge them into one record in your DNS settings.",
            details,
        )
    state = Walk()
    await walk(run, run.d.ascii, records[0], state)
    details.update(
        lookups=state.lookups,
        void_lookups=state.voids,
        all=state.all_qualifier,
        chain={k: v for k, v in list(state.records.items())[:15]},
    )
    if state.errors:
        details["errors"] = state.errors[:10]
    if state.failures:
        details["lookup_failures"] = state.failures[:10]
    if lookup.aliased:
        details["canonical_name"] = lookup.canonical
    if state.errors:
        return ProbeResult(
            "spf",
            "fail",
            f"The SPF record of {d} has a mistake ({state.errors[0]}), so receivers may ignore it: correct it in your DNS settings.",
            details,
        )
    if state.lookups > LOOKUP_LIMIT:
        return ProbeResult(
            "spf",
            "fail",
            f"The SPF record of {d} needs {state.lookups} DNS lookups, more than the limit of {LOOKUP_LIMIT}, so receivers treat it as broken: remove the includes you no longer use.",
            details,
        )
    if state.voids > VOID_LIMIT:
        return ProbeResult(
            "spf",
            "fail",
            f"The SPF record of {d} points to {state.voids} names that don't exist (the limit is {VOID_LIMIT}), so receivers treat it as broken: remove those entries.",
            details,
        )
    if state.failures:
        return ProbeResult(
            "spf",
            "unknown",
            f"I couldn't follow every part of the SPF record of {d}, so please try again in a few minutes.",
            details,
        )
    if state.all_qualifier == "+":
        return ProbeResult(
            "spf",
            "fail",
            f"The SPF record of {d} ends in +all, which lets anyone send email as you, so change it to ~all or -all in your DNS settings.",
            details,
        )
    if run.sending_host and not _permits(state, run.sending_host):
        details["sending_host"] = run.sending_host
        return ProbeResult(
            "spf",
            "warn",
            f"The SPF record of {d} doesn't include {run.sending_host}, so mail you send through us may land in spam: add include:{run.sending_host} to it.",
            details,
        )
    if state.all_qualifier in (None, "?"):
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
