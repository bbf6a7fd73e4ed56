"""The RFC 7208 test suite (pyspf's rfc7208-tests.yml, BSD licence beside it) against loopback DNS.

Each scenario's zone is served by a FakeDNS with random answer delays, so concurrent lookups
finish in a different order every run. Two layers are checked:
- `check_host()` gives one of the suite's expected results (and explanation) for every test;
- the `spf` probe calls every permerror a `fail` naming the broken term, never calls a record
  the suite accepts a `fail`, and gives the same verdict in 10 concurrent runs.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.engine.probing import ProbeResult
from bot.errors import ProbeError
from bot.probes import LiveProbes, Timeouts
from bot.probes.dnsclient import DnsClient
from bot.probes.run import ProbeConfig, Run
from bot.probes.spf_eval import Evaluator
from bot.probes.spf_macros import Sender
from bot.settings import Settings
from tests.fakes.dns_server import FakeDNS, Record

SUITE = Path(__file__).parent / "rfc7208" / "rfc7208-tests.yml"
# Generous for loopback: a lookup lost to a busy machine would change a verdict (a PTR name that
# can't be confirmed is skipped), and the test is about ordering, not about slow DNS.
TIMEOUTS = Timeouts(dns=2.5, connect=1.0, smtp=1.0, deadline=20.0)
TYPES = ("A", "AAAA", "MX", "TXT", "SPF", "PTR", "CNAME")
RUNS = 10


@dataclass(frozen=True)
class Case:
    scenario: int
    name: str
    helo: str
    host: str
    mailfrom: str
    results: tuple[str, ...]
    explanation: str | None

    @property
    def domain(self) -> str:
        """The domain check_host() starts from: MAIL FROM's, or HELO's when MAIL FROM is empty."""
        return self.mailfrom.rpartition("@")[2] if self.mailfrom else self.helo

    @property
    def sender(self) -> Sender:
        return Sender(ipaddress.ip_address(self.host), self.mailfrom or f"postmaster@{self.helo}", self.helo)


def _documents() -> list[dict[str, Any]]:
    with SUITE.open("rb") as f:
        return list(yaml.safe_load_all(f))


def _zone(zonedata: dict[str, list[Any]]) -> tuple[dict[str, dict[str, list[Record] | str]], set[str]]:
    """The suite's zone as FakeDNS zones; SPF-type records double as TXT unless the name has TXT."""
    zones: dict[str, dict[str, list[Record] | str]] = {}
    timeouts: set[str] = set()
    for owner, entries in zonedata.items():
        node: dict[str, list[Record] | str] = {}
        has_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
        for entry in entries:
            if entry == "TIMEOUT":
                timeouts.add(owner)
                continue
            ((rdtype, value),) = entry.items()
            if rdtype in ("TXT", "SPF"):
                record: Record = tuple(value) if isinstance(value, list) else (value,)
                if record == ("NONE",):
                    continue
                node.setdefault(rdtype, []).append(record)  # type: ignore[union-attr]
                if rdtype == "SPF" and not has_txt:
                    node.setdefault("TXT", []).append(record)  # type: ignore[union-attr]
            elif rdtype == "MX":
                node.setdefault("MX", []).append(f"{value[0]} {str(value[1]).rstrip('.')}.")  # type: ignore[union-attr]
            elif rdtype == "CNAME":
                node["CNAME"] = str(value).rstrip(".") + "."
            elif rdtype == "PTR":
                node.setdefault("PTR", []).append(str(value).rstrip(".") + ".")  # type: ignore[union-attr]
            else:
                node.setdefault(rdtype, []).append(str(value))  # type: ignore[union-attr]
        zones[owner] = node
    return zones, timeouts


def _cases() -> list[Case]:
    cases = []
    for index, doc in enumerate(_documents()):
        for name, test in doc["tests"].items():
            result = test["result"]
            cases.append(
                Case(
                    index,
                    name,
                    str(test["helo"]),
                    str(test["host"]),
                    str(test["mailfrom"]),
                    tuple(result) if isinstance(result, list) else (result,),
                    test.get("explanation"),
                )
            )
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def servers() -> Iterator[list[FakeDNS]]:
    """One jittery loopback DNS server per scenario; TIMEOUT names drop every query they have no data for."""
    started = []
    try:
        for doc in _documents():
            zones, timeouts = _zone(doc["zonedata"])
            server = FakeDNS(zones, jitter=0.004)
            for owner in timeouts:
                node = zones.get(owner, {})
                for rdtype in TYPES:
                    if rdtype not in node:
                        server.fault(owner, "drop", rdtype)
            started.append(server.start())
        yield started
    finally:
        for server in started:
            server.stop()


def _run(server: FakeDNS) -> Run:
    config = ProbeConfig(dns=DnsClient((server.address,), timeout=TIMEOUTS.dns), timeouts=TIMEOUTS)
    return Run(config, {}, None)


def _probes(server: FakeDNS) -> LiveProbes:
    settings = Settings(
        nameservers=(server.address,),
        probe_allow=(ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")),
    )
    return LiveProbes(settings, timeouts=TIMEOUTS)


def _records(case: Case) -> str:
    """Every record text of the case's scenario, for finding the term a verdict names."""
    zonedata = _documents()[case.scenario]["zonedata"]
    texts = []
    for entries in zonedata.values():
        for entry in entries:
            if isinstance(entry, dict):
                for value in entry.values():
                    texts.append("".join(map(str, value)) if isinstance(value, list) else str(value))
    return "\n".join(texts)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_check_host_matches_the_suite(case: Case, servers: list[FakeDNS]) -> None:
    run = _run(servers[case.scenario])
    try:
        verdicts = await asyncio.gather(
            *(Evaluator(run.lookup, case.sender, "DEFAULT").check_host(case.domain) for _ in range(3))
        )
    finally:
        await run.close()
    verdict = verdicts[0]
    assert verdict.result in case.results, (verdict, case)
    if case.explanation is not None and verdict.result == "fail":
        # Compared ignoring case: the suite writes IPv6 nibbles upper-case, RFC 7208's own example lower.
        assert verdict.explanation.lower() == case.explanation.lower()
    assert all(v == verdict for v in verdicts)


async def _verdicts(case: Case, server: FakeDNS) -> list[ProbeResult | str]:
    """The spf probe's result in RUNS independent, concurrent runs (each with its own caches)."""

    async def one() -> ProbeResult | str:
        try:
            return await _probes(server).run("spf", {"domain": case.domain, "ip": case.host})
        except ProbeError as exc:
            return f"refused: {exc}"

    return list(await asyncio.gather(*(one() for _ in range(RUNS))))


def _key(result: ProbeResult | str) -> tuple[str, ...]:
    if isinstance(result, str):
        return (result,)
    return (result.status, result.summary)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_probe_verdict(case: Case, servers: list[FakeDNS]) -> None:
    results = await _verdicts(case, servers[case.scenario])
    assert len({_key(r) for r in results}) == 1, {_key(r) for r in results}
    result = results[0]
    if case.results == ("permerror",):
        assert isinstance(result, ProbeResult), result
        assert result.status == "fail", result
        term, fix = result.details["error"]["term"], result.details["error"]["fix"]
        assert term and term in result.summary and fix and fix in result.summary
        # The named term is one the scenario's records really contain (control characters shown as U+FFFD).
        visible = _records(case)
        assert term.replace("\ufffd", "") in "".join(
            c for c in visible if c.isprintable() and c.isascii()
        ) or any(not c.isascii() or not c.isprintable() for c in visible), term
    elif "permerror" not in case.results:
        status = result if isinstance(result, str) else result.status
        assert status != "fail", result
