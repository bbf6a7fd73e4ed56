"""Wrong admin tokens counted in Redis: two app processes share one address's back-off, and Redis away
leaves each process throttling on its own instead of failing."""

from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path

import httpx
import pytest

from bot.channels.web.auththrottle import Backoff
from bot.channels.web.sharedthrottle import SharedAuthThrottle
from bot.settings import Settings
from tests.support.admin import ADMIN_TOKEN, admin_settings
from tests.support.redis import free_port, shared_redis
from tests.support.web import build_app, live_server

FREE = 5  # Backoff().free: wrong tokens one address may send before it waits


def _settings(tmp_path: Path, redis_url: str) -> Settings:
    # The test client is the trusted proxy, so X-Forwarded-For chooses the "address" of each request.
    settings = admin_settings(tmp_path, trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),))
    return dataclasses.replace(settings, redis_url=redis_url)


async def _guess(client: httpx.AsyncClient, url: str, token: str, address: str) -> httpx.Response:
    return await client.post(
        f"{url}/admin/login", data={"token": token}, headers={"X-Forwarded-For": address}
    )


async def test_wrong_tokens_sent_to_one_process_make_the_address_wait_at_the_other(tmp_path: Path) -> None:
    redis_url = await shared_redis()
    settings = _settings(tmp_path, redis_url)
    async with (
        live_server(await build_app(settings)) as one,
        live_server(await build_app(settings)) as two,
        httpx.AsyncClient() as client,
    ):
        # Alternating between the processes: per process, each would have seen only half the guesses.
        codes = [
            (await _guess(client, (one, two)[i % 2], "guess", "203.0.113.9")).status_code
            for i in range(FREE + 1)
        ]
        assert codes == [401] * (FREE + 1)
        held = await _guess(client, two, ADMIN_TOKEN, "203.0.113.9")
        assert held.status_code == 429 and int(held.headers["Retry-After"]) >= 1
        assert (await _guess(client, one, ADMIN_TOKEN, "203.0.113.9")).status_code == 429
        # Another address is not held by this one's guesses.
        assert (await _guess(client, two, ADMIN_TOKEN, "198.51.100.8")).status_code == 303
        health = (await client.get(f"{two}/healthz")).json()
        assert health["auth_throttle"] == {"store": "redis", "shared": True}


async def test_without_redis_each_process_still_throttles_and_says_so(tmp_path: Path) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    async with (
        live_server(await build_app(_settings(tmp_path, closed))) as url,
        httpx.AsyncClient() as client,
    ):
        codes = [(await _guess(client, url, "guess", "203.0.113.10")).status_code for _ in range(FREE + 1)]
        assert codes == [401] * (FREE + 1)
        held = await _guess(client, url, ADMIN_TOKEN, "203.0.113.10")
        assert held.status_code == 429 and int(held.headers["Retry-After"]) >= 1
        health = await client.get(f"{url}/healthz")
        assert health.status_code == 200
        status = health.json()["auth_throttle"]
        assert status["store"] == "redis" and status["shared"] is False
        assert "Redis did not answer" in status["error"]
        metrics = (await client.get(f"{url}/metrics")).text
        assert "supportbot_auth_throttle_shared 0.0" in metrics
        assert "supportbot_auth_throttle_store_failures" in metrics


async def test_two_throttles_on_one_redis_share_the_back_off_and_the_global_budget() -> None:
    redis_url = await shared_redis()
    backoff = Backoff(free=2, first_wait=4, max_wait=60, global_burst=10, global_per_second=0.5)
    one, two = SharedAuthThrottle(backoff, redis_url), SharedAuthThrottle(backoff, redis_url)
    try:
        for _ in range(3):
            await one.failed("10.0.0.1")
        assert await two.wait("10.0.0.1") == pytest.approx(4, abs=0.1)  # counted by one, held by two
        await two.succeeded("10.0.0.1")
        assert await one.wait("10.0.0.1") == 0  # a right guess anywhere resets the address
        await two.succeeded("admin")  # signed in at two lately
        for n in range(2, 9):  # ten wrong guesses in all, from addresses each still free
            await (one, two)[n % 2].failed(f"10.0.0.{n}")
        assert await one.wait("10.0.1.1") > 0  # a fresh address waits for everyone's budget
        assert await two.wait("10.0.1.1") > 0
        assert await two.wait("admin") == 0  # the process that saw the sign-in lets that address in
        assert one.fallback.status() == {"store": "redis", "shared": True}
    finally:
        await one.close()
        await two.close()


async def test_unreachable_redis_falls_back_to_this_process_without_raising() -> None:
    throttle = SharedAuthThrottle(Backoff(free=2), f"redis://127.0.0.1:{free_port()}/0", retry_every=0)
    try:
        for _ in range(3):
            assert await throttle.wait("10.0.0.1") == 0
            await throttle.failed("10.0.0.1")
        assert await throttle.wait("10.0.0.1") > 0
        await throttle.succeeded("10.0.0.1")
        assert await throttle.wait("10.0.0.1") == 0
        assert not throttle.fallback.shared
        assert throttle.fallback.failures >= 7  # every call tried Redis (retry_every=0)
        assert "Redis did not answer" in throttle.fallback.status()["error"]
    finally:
        await throttle.close()


async def test_addresses_of_one_ipv6_64_share_one_back_off() -> None:
    throttle = SharedAuthThrottle(Backoff(free=2, first_wait=30))
    for host in range(1, 4):  # a new address in the same /64 for every guess
        await throttle.failed(f"2001:db8:1:2::{host}")
    assert await throttle.wait("2001:db8:1:2:ffff::9") > 0
    assert await throttle.wait("2001:db8:1:3::1") == 0  # another network is not held
    await throttle.close()
