"""Two `supportbot serve` processes share one rate-limit budget through Redis, and keep serving without it."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.support import serving
from tests.support.redis import free_port, private_redis, shared_redis
from tests.support.web import FLOWS

pytestmark = pytest.mark.slow
STARTS = 20  # RateLimits().ip_starts: the burst of new conversations one address may open


def env(tmp_path: Path, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
        "SUPPORTBOT_FLOWS": str(FLOWS),
        "SUPPORTBOT_NAMESERVERS": "127.0.0.1:9",
        "SUPPORTBOT_TRUSTED_PROXIES": "127.0.0.1/32",  # the test plays the balancer: X-Forwarded-For
        "REDIS_URL": redis_url,
    }


async def starts(client: httpx.AsyncClient, urls: list[str], n: int, customer: str) -> list[int]:
    """`n` new conversations from `customer`, alternating between the processes; the status codes."""
    codes = []
    for i in range(n):
        r = await client.post(
            f"{urls[i % len(urls)]}/api/conversations", json={}, headers={"X-Forwarded-For": customer}
        )
        if r.status_code == 429:
            assert int(r.headers["retry-after"]) >= 1
        codes.append(r.status_code)
    return codes


async def test_two_processes_admit_one_budget_per_address_and_per_64(tmp_path: Path) -> None:
    redis_url = await shared_redis()
    async with (
        serving.serve(env(tmp_path, redis_url)) as one,
        serving.serve(env(tmp_path, redis_url)) as two,
        httpx.AsyncClient(timeout=20) as client,
    ):
        urls = [one.url, two.url]
        codes = await starts(client, urls, STARTS + 10, "198.51.100.7")
        assert codes.count(201) == STARTS  # per process, it would have been up to 2 * STARTS
        assert set(codes[STARTS:]) == {429}

        # An IPv6 customer hopping addresses inside their /64 still draws on one budget.
        hopping = [
            (await starts(client, urls[i % 2 :], 1, f"2001:db8:5:5::{i + 1:x}"))[0] for i in range(STARTS + 5)
        ]
        assert hopping.count(201) == STARTS
        assert (await starts(client, urls, 1, "2001:db8:5:6::1")) == [201]  # the next /64 is someone else

        for url in urls:
            health = (await client.get(f"{url}/healthz")).json()
            assert health["rate_limits"] == {"store": "redis", "shared": True}


async def test_redis_dying_is_reported_and_every_request_still_answered(tmp_path: Path) -> None:
    async with (
        private_redis(free_port()) as redis,
        serving.serve(env(tmp_path, redis.url)) as one,
        serving.serve(env(tmp_path, redis.url)) as two,
        httpx.AsyncClient(timeout=20) as client,
    ):
        urls = [one.url, two.url]
        assert await starts(client, urls, 10, "203.0.113.5") == [201] * 10
        await redis.kill()

        codes = await starts(client, urls, 2 * STARTS + 6, "203.0.113.5")
        # Each process now counts alone and allows the whole burst, minus what it counted itself
        # meanwhile (nothing: its first requests went to Redis): never a 500.
        assert set(codes) <= {201, 429}
        assert codes.count(201) == 2 * STARTS
        for url in urls:
            health = await client.get(f"{url}/healthz")
            assert health.status_code == 200
            limits = health.json()["rate_limits"]
            assert limits["store"] == "redis" and limits["shared"] is False
            assert "Redis did not answer" in limits["error"]
            metrics = (await client.get(f"{url}/metrics")).text
            assert "supportbot_rate_limits_shared 0.0" in metrics
