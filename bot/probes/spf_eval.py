"""RFC 7208 check_host(): terms evaluated strictly in order, so no verdict depends on which lookup answers first.

Lookups a record will need are started together (prefetch) to save round trips, but the limits
(10 lookup terms, 2 void lookups, 10 MX and PTR names) are counted and decided by the ordered walk.
With `sender=None` the same walk is an audit: the path a stranger's address takes through the record
(no address-based mechanism matches), which is where every reachable mistake and limit shows up.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from bot.probes.dnsclient import Lookup
from bot.probes.spf_macros import IPAddress, Sender, expand, fit_name, queryable
from bot.probes.spf_syntax import (
    MACRO,
    Mechanism,
    Record,
    SpfSyntaxError,
    check_macro_string,
    is_spf,
    parse_record,
)
from bot.probes.untrusted import clip

Resolve = Callable[[str, str], Awaitable[Lookup]]
SpfResult = Literal["pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"]
QUALIFIERS: dict[str, SpfResult] = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
LOOKUP_LIMIT = 10
VOID_LIMIT = 2
NAME_LIMIT = 10  # MX hosts per "mx", PTR names per "ptr"
# Ranges this wide let a large part of the internet send as the domain.
BROAD_PREFIX = {4: 8, 6: 16}


@dataclass(frozen=True)
class Verdict:
    """What check_host() returned, which term decided it (or broke the record), and why."""

    result: SpfResult
    domain: str
    term: str = ""
    problem: str = ""
    fix: str = ""
    explanation: str = ""


class _Stop(Exception):
    """Ends the whole evaluation with a permerror or temperror verdict."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict


@dataclass
class Trace:
    """Counters shared by one check_host() call and everything it includes or redirects to."""

    lookups: int = 0
    voids: int = 0
    records: dict[str, str] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)  # include/redirect domains followed
    broad: list[str] = field(default_factory=list)  # pass-qualified ranges of a huge size
    unfollowed: list[str] = field(default_factory=list)  # terms an audit cannot resolve (macros)


class Evaluator:
    """One check_host() run; `default_explanation` is returned for a fail without a usable exp=."""

    def __init__(self, resolve: Resolve, sender: Sender | None, default_explanation: str = "") -> None:
        self.resolve = resolve
        self.sender = sender
        self.default_explanation = default_explanation
        self.trace = Trace()

    async def check_host(self, domain: str) -> Verdict:
        domain = domain.rstrip(".").lower()
        if not queryable(domain) or "." not in domain:
            return Verdict("none", domain, problem="not a valid domain name")
        try:
            return await self._check(domain)
        except _Stop as stop:
            return stop.verdict

    # --- one domain's record -------------------------------------------------------------------
    async def _record(self, domain: str) -> Record | None:
        lookup = await self.resolve(domain, "TXT")
        if lookup.failed:
            raise _Stop(
                Verdict("temperror", domain, problem=f"the TXT lookup of {domain} failed ({lookup.status})")
            )
        records = [r for r in lookup.records if is_spf(r)]
        if not records:
            return None
        if len(records) > 1:
            raise _Stop(
                Verdict(
                    "permerror",
                    domain,
                    term="v=spf1",
                    problem=f"{domain} has {len(records)} SPF records, so receivers ignore them all",
                    fix="merge them into one v=spf1 record",
                )
            )
        self.trace.records.setdefault(domain, clip(records[0], 512))
        try:
            return parse_record(records[0])
        except SpfSyntaxError as exc:
            raise _Stop(
                Verdict("permerror", domain, term=exc.term, problem=exc.problem, fix=exc.fix)
            ) from None

    async def _check(self, domain: str) -> Verdict:
        record = await self._record(domain)
        if record is None:
            return Verdict("none", domain, problem=f"{domain} has no SPF record")
        self._prefetch(record, domain)
        for mechanism in record.mechanisms:
            if await self._matches(mechanism, domain):
                result = QUALIFIERS[mechanism.qualifier]
                explanation = await self._explain(record, domain) if result == "fail" else ""
                return Verdict(result, domain, term=mechanism.text, explanation=explanation)
        if record.redirect is not None:
            target = await self._target(record.redirect, domain, record.redirect_term)
            if target is None:
                return Verdict("neutral", domain, term=record.redirect_term)
            verdict = await self._check(target)
            if verdict.result == "none":
                raise _Stop(
                    Verdict(
                        "permerror",
                        domain,
                        term=record.redirect_term,
                        problem=f"redirect= points to {target}, which has no SPF record",
                        fix="point redirect= at a domain that publishes an SPF record, or remove it",
                    )
                )
            return verdict
        return Verdict("neutral", domain, term="(no match, no all)")

    # --- mechanisms ----------------------------------------------------------------------------
    async def _matches(self, m: Mechanism, domain: str) -> bool:
        name = m.name
        ip = self._ip()
        if name == "all":
            return True
        if name in ("ip4", "ip6"):
            assert m.network is not None
            if m.qualifier == "+" and m.network.prefixlen < BROAD_PREFIX[m.network.version]:
                self.trace.broad.append(m.text)
            if ip is None:  # a stranger's address is inside only an all-covering range
                return m.network.prefixlen == 0 and m.network.version == 4
            return ip.version == m.network.version and ip in m.network
        if name == "include":
            target = await self._target(m.domain or "", domain, m.text)
            if target is None:
                return False
            verdict = await self._check(target)
            if verdict.result in ("temperror", "permerror"):
                raise _Stop(verdict)
            if verdict.result == "none":
                raise _Stop(
                    Verdict(
                        "permerror",
                        domain,
                        term=m.text,
                        problem=f"the included domain {target} has no SPF record",
                        fix=f"remove {m.text} or correct the domain (ask the service you send through for its include)",
                    )
                )
            return verdict.result == "pass"
        target = await self._target(m.domain or domain, domain, m.text)
        if target is None:
            return False
        if name == "exists":
            lookup = await self._lookup(target, "A", m, domain)
            return lookup.ok and ip is not None
        if name == "a":
            lookup = await self._lookup(target, self._address_type(), m, domain)
            return self._in_any(lookup.records, m)
        if name == "mx":
            return await self._mx(target, m, domain)
        return await self._ptr(target, m, domain)

    async def _mx(self, target: str, m: Mechanism, domain: str) -> bool:
        lookup = await self._lookup(target, "MX", m, domain)
        hosts = [r.split()[-1].rstrip(".").lower() for r in lookup.records if len(r.split()) == 2]
        hosts = [h for h in hosts if h]  # a null MX ("0 .") names no host
        if len(hosts) > NAME_LIMIT:
            raise _Stop(
                Verdict(
                    "permerror",
                    domain,
                    term=m.text,
                    problem=f"{target} has {len(hosts)} mail servers (MX), more than the {NAME_LIMIT} SPF allows",
                    fix="list the sending servers with ip4:/ip6: or a: instead of mx",
                )
            )
        if self._ip() is None or not hosts:
            return False
        rdtype = self._address_type()
        answers = await asyncio.gather(*(self.resolve(h, rdtype) for h in hosts if queryable(h)))
        return any(self._in_any(a.records, m) for a in answers)

    async def _ptr(self, target: str, m: Mechanism, domain: str) -> bool:
        names = await self._validated_names()
        return any(n == target or n.endswith("." + target) for n in names)

    async def _validated_names(self) -> list[str]:
        """Reverse names of the client whose forward lookup leads back to it (§5.5), at most 10 tried."""
        ip = self._ip()
        if ip is None:
            return []
        lookup = await self.resolve(ip.reverse_pointer, "PTR")
        if not lookup.ok:
            return []  # a PTR lookup error means "no match", never an error
        # Sorted before the cut to 10, so the verdict does not follow the order a server rotates them in.
        names = sorted(r.rstrip(".").lower() for r in lookup.records)[:NAME_LIMIT]
        names = [n for n in names if queryable(n)]
        rdtype = self._address_type()
        answers = await asyncio.gather(*(self.resolve(n, rdtype) for n in names))
        return [n for n, a in zip(names, answers, strict=True) if any(_same(r, ip) for r in a.records)]

    # --- helpers -------------------------------------------------------------------------------
    def _ip(self) -> IPAddress | None:
        if self.sender is None:
            return None
        ip = self.sender.ip
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return ip.ipv4_mapped  # an IPv4-mapped client is evaluated as IPv4
        return ip

    def _address_type(self) -> str:
        ip = self._ip()
        return "AAAA" if ip is not None and ip.version == 6 else "A"

    def _in_any(self, records: tuple[str, ...], m: Mechanism) -> bool:
        ip = self._ip()
        if ip is None:
            return False
        length = m.cidr4 if ip.version == 4 else m.cidr6
        for record in records:
            try:
                network = ipaddress.ip_network(f"{record}/{length}", strict=False)
            except ValueError:
                continue
            if network.version == ip.version and ip in network:
                return True
        return False

    async def _target(self, spec: str, domain: str, term: str) -> str | None:
        """Count the lookup term and expand its domain; None when there is nothing to look up."""
        self.trace.lookups += 1
        if self.trace.lookups > LOOKUP_LIMIT:
            raise _Stop(
                Verdict(
                    "permerror",
                    domain,
                    term=term,
                    problem=f"it needs more than {LOOKUP_LIMIT} DNS lookups (this is number {self.trace.lookups})",
                    fix="remove includes you no longer use, or replace a, mx and ptr with ip4:/ip6: ranges",
                )
            )
        has_macro = "%" in spec
        if has_macro and self.sender is None:
            self.trace.unfollowed.append(term)
            return None
        name = await self._expand(spec, domain) if has_macro else spec
        name = fit_name(name).lower()
        if not queryable(name):
            return None  # an impossible name (empty or over-long label) matches nothing
        if term.split(":", 1)[0].split("=", 1)[0].lstrip("+-~?").lower() in ("include", "redirect"):
            self.trace.targets.append(name)
        return name

    async def _expand(self, spec: str, domain: str, explanation: bool = False) -> str:
        assert self.sender is not None
        validated = "unknown"
        if any(match["letter"].lower() == "p" for match in MACRO.finditer(spec)):
            validated = await self._p_macro(domain)
        return expand(spec, self.sender, domain, validated_name=validated, explanation=explanation)

    async def _p_macro(self, domain: str) -> str:
        names = await self._validated_names()
        exact = [n for n in names if n == domain or n.endswith("." + domain)]
        return (exact or names or ["unknown"])[0]

    async def _lookup(self, name: str, rdtype: str, m: Mechanism, domain: str) -> Lookup:
        lookup = await self.resolve(name, rdtype)
        if lookup.failed:
            raise _Stop(
                Verdict(
                    "temperror", domain, term=m.text, problem=f"looking up {name} failed ({lookup.status})"
                )
            )
        if lookup.missing or not lookup.records:
            self.trace.voids += 1
            if self.trace.voids > VOID_LIMIT:
                raise _Stop(
                    Verdict(
                        "permerror",
                        domain,
                        term=m.text,
                        problem=f"it points to more than {VOID_LIMIT} names that don't exist ({name} is one)",
                        fix=f"remove {m.text} and any other entries for names that no longer exist",
                    )
                )
        return lookup

    async def _explain(self, record: Record, domain: str) -> str:
        if record.explanation is None or self.sender is None:
            return self.default_explanation
        try:
            name = fit_name(await self._expand(record.explanation, domain)).lower()
            if not queryable(name):
                return self.default_explanation
            lookup = await self.resolve(name, "TXT")
            if not lookup.ok or len(lookup.records) != 1 or not lookup.records[0].isascii():
                return self.default_explanation
            text = lookup.records[0]
            check_macro_string(text, text, explanation=True)
            return await self._expand(text, domain, explanation=True)
        except SpfSyntaxError:
            return self.default_explanation

    def _prefetch(self, record: Record, domain: str) -> None:
        """Start the lookups this record's terms will need; the ordered walk still decides everything."""
        budget = max(0, LOOKUP_LIMIT - self.trace.lookups)
        rdtype = self._address_type()
        wanted: list[tuple[str, str]] = []
        for m in record.mechanisms:
            if budget <= 0:
                break
            if not m.costs_lookup:
                continue
            budget -= 1
            spec = m.domain or domain
            if "%" in spec or m.name == "ptr":
                continue
            kind = {"include": "TXT", "exists": "A", "mx": "MX"}.get(m.name, rdtype)
            wanted.append((spec.rstrip(".").lower(), kind))
        if record.redirect and "%" not in record.redirect and budget > 0:
            wanted.append((record.redirect.rstrip(".").lower(), "TXT"))
        for name, kind in wanted:
            if queryable(name):
                # Started now, awaited (or not) by the walk; the run owns and cancels the task.
                _ = self.resolve(name, kind)


def _same(record: str, ip: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(record) == ip
    except ValueError:
        return False
