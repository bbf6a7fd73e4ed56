"""The `ip_blocklist` and `domain_blocklist` checks: DNSBL queries (RFC 5782), each list tested before it is trusted."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from bot.engine.probing import ProbeResult
from bot.probes.addresses import IPAddress, parse_address
from bot.probes.dnsclient import Lookup
from bot.probes.mail import mx_info
from bot.probes.run import Run
from bot.probes.untrusted import clip

MAX_TARGETS = 10
_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
_REFUSED = ipaddress.ip_network("127.255.255.0/24")


@dataclass(frozen=True)
class ListInfo:
    name: str
    delist: str
    codes: dict[int, str]  # last octet of a 127.0.0.x answer -> meaning


KNOWN_LISTS: dict[str, ListInfo] = {
    "zen.spamhaus.org": ListInfo(
        "Spamhaus ZEN",
        "https://check.spamhaus.org/",
        {
            2: "a known spam source (SBL)",
            3: "a spam source (CSS)",
            4: "an infected or hijacked computer (XBL)",
            5: "an infected or hijacked computer (XBL)",
            6: "an infected or hijacked computer (XBL)",
            7: "an infected or hijacked computer (XBL)",
            9: "a hijacked network (DROP)",
            10: "an address that shouldn't send mail directly (PBL, set by the internet provider)",
            11: "an address that shouldn't send mail directly (PBL)",
        },
    ),
    "bl.spamcop.net": ListInfo(
        "SpamCop", "https://www.spamcop.net/bl.shtml", {2: "reported for sending spam"}
    ),
    "b.barracudacentral.org": ListInfo(
        "Barracuda", "https://www.barracudacentral.org/rbl/removal-request", {2: "a poor sending reputation"}
    ),
    "dnsbl.sorbs.net": ListInfo("SORBS", "https://www.sorbs.net/delisting/", {}),
    "psbl.surriel.com": ListInfo("PSBL", "https://psbl.org/remove", {2: "mail seen in spam traps"}),
    "dbl.spamhaus.org": ListInfo("Spamhaus DBL", "https://check.spamhaus.org/", {}),
    "multi.surbl.org": ListInfo("SURBL", "https://surbl.org/surbl-analysis", {}),
}

Verdict = Literal["listed", "clean", "unknown"]


def list_info(zone: str) -> ListInfo:
    return KNOWN_LISTS.get(zone, ListInfo(zone, f"the {zone} website", {}))


def reversed_name(address: IPAddress, zone: str) -> str:
    """`4.3.2.1.zone` for IPv4, 32 reversed nibbles for IPv6 (RFC 5782 §2.1, §2.4)."""
    pointer = address.reverse_pointer  # 4.3.2.1.in-addr.arpa / nibbles.ip6.arpa
    return pointer.removesuffix(".in-addr.arpa").removesuffix(".ip6.arpa") + "." + zone


def classify(lookup: Lookup, domain_list: bool = False) -> tuple[Verdict, str]:
    """NXDOMAIN is clean; 127.0.0.2-127.0.0.11 (any 127/8 code for a domain list) is listed; the rest unknown."""
    if lookup.status in ("nxdomain", "nodata"):
        return "clean", ""
    if not lookup.ok:
        return "unknown", f"the list didn't answer ({lookup.status})"
    codes = [parse_address(r) for r in lookup.records]
    for code in codes:
        if code is None or code.version != 4 or code not in _LOOPBACK:
            return "unknown", "the answer was not a blocklist code (the resolver may rewrite answers)"
        if code in _REFUSED:
            return "unknown", f"the list refused the query ({code}: too many queries, or a public resolver)"
        if code == ipaddress.IPv4Address("127.0.0.1"):
            return "unknown", "the list answered 127.0.0.1, which is an error code, not a listing"
    listed = [
        c
        for c in codes
        if c is not None and (domain_list or 2 <= int(c) - int(ipaddress.IPv4Address("127.0.0.0")) <= 11)
    ]
    if listed:
        return "listed", str(listed[0])
    return "unknown", f"unexpected code {codes[0]}"


def zone_works(run: Run, zone: str, domain_list: bool) -> Awaitable[tuple[bool, str]]:
    """RFC 5782 §5: the test entry must be listed and the other must not, or the list is not trusted."""
    return run.memo(("zone", zone), lambda: _zone_works(run, zone, domain_list))


async def _zone_works(run: Run, zone: str, domain_list: bool) -> tuple[bool, str]:
    positive, negative = ("test", "invalid") if domain_list else ("2.0.0.127", "1.0.0.127")
    listed, clean = await asyncio.gather(
        run.lookup(f"{positive}.{zone}", "A"), run.lookup(f"{negative}.{zone}", "A")
    )
    if classify(listed, domain_list)[0] != "listed":
        return False, f"its test entry {positive} is not listed ({listed.status})"
    if classify(clean, domain_list)[0] != "clean":
        return False, f"it lists {negative}, which no working list does"
    return True, ""


async def _query(run: Run, name: str, zone: str, domain_list: bool) -> dict[str, Any]:
    works, why = await zone_works(run, zone, domain_list)
    if not works:
        return {"zone": zone, "verdict": "unknown", "reason": f"list not trusted: {why}"}
    lookup = await run.lookup(name, "A")
    verdict, reason = classify(lookup, domain_list)
    out: dict[str, Any] = {"zone": zone, "query": name, "verdict": verdict}
    if reason:
        out["reason" if verdict == "unknown" else "code"] = reason
    if verdict == "listed":
        text = await run.lookup(name, "TXT")
        if text.records:
            out["list_says"] = clip(text.records[0])
    return out


def _listed_summary(subject: str, entry: dict[str, Any]) -> str:
    info = list_info(entry["zone"])
    last = int(str(entry.get("code", "127.0.0.2")).rsplit(".", 1)[-1])
    meaning = info.codes.get(last)
    why = f" as {meaning}" if meaning else ""
    return f"{subject} is on the {info.name} blocklist{why}, so some receivers refuse your mail: ask for removal at {info.delist}."


async def _targets(run: Run) -> tuple[list[IPAddress], str]:
    if run.ip is not None:
        return [run.ip], ""
    info = await mx_info(run)
    if info.kind == "failed":
        return [], "unknown"
    found = [parse_address(a) for h in info.hosts for a in h.addresses]
    return [a for a in found if a is not None][:MAX_TARGETS], ""


async def check_ip_blocklist(run: Run) -> ProbeResult:
    targets, trouble = await _targets(run)
    zones = run.config.dnsbl_zones
    if trouble:
        return ProbeResult(
            "ip_blocklist",
            "unknown",
            "I couldn't find your mail server's addresses just now, so I couldn't check the blocklists; please try again later.",
        )
    if not targets:
        return ProbeResult(
            "ip_blocklist",
            "skipped",
            "There's no public address to check against the blocklists, so there's nothing to do here.",
        )
    if not zones:
        return ProbeResult(
            "ip_blocklist",
            "skipped",
            "No blocklists are configured for this check, so there's nothing to do here.",
        )
    jobs = [(ip, zone) for ip in targets for zone in zones]
    entries = await asyncio.gather(*(_query(run, reversed_name(ip, zone), zone, False) for ip, zone in jobs))
    for (ip, _), entry in zip(jobs, entries, strict=True):
        entry["ip"] = str(ip)
    details: dict[str, Any] = {"addresses": [str(t) for t in targets], "lists": list(entries)}
    return _verdict("ip_blocklist", entries, details, subject=lambda e: f"The address {e['ip']}")


async def check_domain_blocklist(run: Run) -> ProbeResult:
    zones = run.config.domain_blocklists
    if not zones:
        return ProbeResult(
            "domain_blocklist",
            "skipped",
            "No domain blocklists are configured, so there's nothing to do here.",
        )
    entries = await asyncio.gather(*(_query(run, f"{run.d.ascii}.{zone}", zone, True) for zone in zones))
    details: dict[str, Any] = {"domain": run.d.ascii, "lists": list(entries)}
    return _verdict("domain_blocklist", entries, details, subject=lambda e: f"Your domain {run.d.unicode}")


def _verdict(
    check: str,
    entries: list[dict[str, Any]],
    details: dict[str, Any],
    subject: Callable[[dict[str, Any]], str],
) -> ProbeResult:
    listed = [e for e in entries if e["verdict"] == "listed"]
    clean = [e for e in entries if e["verdict"] == "clean"]
    unknown = sorted({list_info(e["zone"]).name for e in entries if e["verdict"] == "unknown"})
    what = "address" if check == "ip_blocklist" else "domain"
    if listed:
        return ProbeResult(check, "fail", _listed_summary(subject(listed[0]), listed[0]), details)
    if not clean:
        return ProbeResult(
            check,
            "unknown",
            f"The blocklists didn't give me a usable answer just now, so I can't tell whether your {what} is listed; please try again later.",
            details,
        )
    checked = len({e["zone"] for e in clean})
    if unknown:
        return ProbeResult(
            check,
            "pass",
            f"Your {what} isn't on the {checked} blocklist{'s' if checked != 1 else ''} I could check (I couldn't check {', '.join(unknown)}), so that's unlikely to be the problem.",
            details,
        )
    lists = "the blocklist" if checked == 1 else f"any of the {checked} blocklists"
    return ProbeResult(
        check, "pass", f"Your {what} isn't on {lists} I checked, so that isn't the problem.", details
    )
