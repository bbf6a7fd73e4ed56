"""LiveProbes as the engine's probe port: single checks, cache, rate limits, refusals, deadline and cleanup."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

import pytest

from bot.engine.probing import CHECK_ARGUMENTS, ProbePort, ProbeResult
from bot.errors import ProbeError
from bot.probes import LiveProbes, Timeouts
from bot.settings import Settings
from tests.fakes.dns_server import FakeDNS
from tests.fakes.smtp_servers import ScriptedSMTP
from tests.support.probes import DOMAIN, World


def test_it_is_a_probe_port() -> None:
    probes: ProbePort = LiveProbes(Settings())
    assert all(probes.known(c) for c in CHECK_ARGUMENTS) and not probes.known("ping")
    assert probes.arguments("spf") == frozenset({"domain", "ip", "sending_host"})


async def test_single_check_and_progress(world: World) -> None:
    seen: list[ProbeResult] = []

    async def progress(result: ProbeResult) -> None:
        seen.append(result)

    result = await world.probes().run("smtp_587", {"domain": DOMAIN}, conversation="c1", progress=progress)
    assert result.id == "smtp_587" and result.status == "pass"
    assert seen == [result]


async def test_refused_input_raises_probe_error(world: World) -> None:
    probes = world.probes()
    for check, args, says in [
        ("mx", {"domain": "localhost"}, "local"),
        ("mx", {"domain": "10.0.0.1"}, "IP address"),
        ("mx", {}, "needs a domain"),
        ("ip_blocklist", {"ip": "10.0.0.1"}, "private"),
        ("ip_blocklist", {"ip": "not-an-ip"}, "not an IP"),
        ("dkim", {"domain": DOMAIN, "selector": "../x"}, "selector"),
        ("ping", {"domain": DOMAIN}, "unknown probe"),
    ]:
        with pytest.raises(ProbeError, match=says):
            await probes.run(check, args)


async def test_results_are_cached_per_domain(world: World) -> None:
    probes = world.probes()
    await probes.run("smtp_25", {"domain": DOMAIN})
    asked = len(world.dns.queries)
    connections = world.servers[25].connections
    again = await probes.run("smtp_25", {"domain": DOMAIN})
    mx = await probes.run("mx", {"domain": DOMAIN})  # computed on the way to smtp_25
    assert (again.status, mx.status) == ("pass", "pass")
    assert len(world.dns.queries) == asked and world.servers[25].connections == connections


async def test_unknown_results_are_not_cached(make_world: Callable[..., World]) -> None:
    world = make_world(faults={(DOMAIN, "MX"): "servfail"})
    probes = world.probes()
    assert (await probes.run("mx", {"domain": DOMAIN})).status == "unknown"
    del world.dns.faults[(DOMAIN, "MX")]
    assert (await probes.run("mx", {"domain": DOMAIN})).status == "pass"


async def test_rate_limits_per_conversation_and_global(world: World) -> None:
    probes = world.probes(per_conversation=(2, 600), global_limit=(3, 60))
    domains = ["a1.example", "a2.example", "a3.example", "a4.example"]
    first = [await probes.run("mail_host", {"domain": d}, conversation="c1") for d in domains[:3]]
    assert [r.details.get("error") for r in first] == [None, None, "rate limited"]
    assert (await probes.run("mail_host", {"domain": domains[3]}, conversation="c2")).details.get(
        "error"
    ) is None
    # The global budget (3) is now spent, whoever asks.
    assert (await probes.run("mail_host", {"domain": "a5.example"}, conversation="c3")).details[
        "error"
    ] == "rate limited"
    # A cached answer costs nothing.
    assert (await probes.run("mail_host", {"domain": domains[0]}, conversation="c1")).details.get(
        "error"
    ) is None


async def test_run_never_raises_on_trouble() -> None:
    # Nothing listens at this nameserver: every lookup fails, the result is unknown.
    probes = LiveProbes(Settings(nameservers=(("127.0.0.1", 9),)), timeouts=Timeouts(dns=0.3, deadline=2))
    result = await probes.run("smtp_587", {"domain": DOMAIN})
    assert result.status == "unknown"


def _client_sockets(server_ports: set[int]) -> int:
    """This process's TCP/UDP sockets that are not the fake servers' own (listening or accepted)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("tcp", "tcp6", "udp", "udp6"):
        with open(f"/proc/self/net/{table}") as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if fields[9] in inodes and local_port not in server_ports:
                    count += 1
    return count


async def test_tarpit_and_silent_resolver_stop_at_the_deadline_and_leave_nothing(
    make_world: Callable[..., World], scripted_smtp: Callable[..., ScriptedSMTP]
) -> None:
    tarpits = {port: scripted_smtp(tarpit=0.5) for port in (25, 465, 587)}  # 15 s per greeting
    world = make_world(
        servers=tarpits, faults={"_dmarc.acme.example": "drop", "default._domainkey.acme.example": "drop"}
    )
    dns: FakeDNS = world.dns
    ports = {dns.port, *(s.port for s in tarpits.values())}
    probes = world.probes(timeouts=Timeouts(dns=5.0, connect=1.0, smtp=30.0, deadline=1.5))
    tasks_before = len(asyncio.all_tasks())
    sockets_before = _client_sockets(ports)
    started = time.monotonic()
    report = await probes.diagnose(DOMAIN)
    elapsed = time.monotonic() - started
    assert elapsed < 10  # far below the tarpit's 15 s or the SMTP timeout's 30 s
    deadline_hit = {c.id for c in report.checks if c.details.get("error") == "deadline"}
    assert {
        "smtp_25",
        "smtp_587",
        "tls",
        "dmarc",
        "dkim",
    } <= deadline_hit  # 465 fails its TLS handshake at once
    assert {report.check(c).status for c in deadline_hit} == {"unknown"}
    assert report.check("mx").status == "pass"  # what finished in time is kept
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == tasks_before
    assert _client_sockets(ports) == sockets_before
