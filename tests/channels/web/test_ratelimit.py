"""Rate limits: a budget per address (IPv6 per /64) or conversation, shared through Redis, kept when it dies."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.web.ratelimit import Rate, RateLimiter, RateLimits, client_key
from tests.support.redis import free_port, private_redis, shared_redis

LIMITS = RateLimits(
    ip_requests=Rate(burst=5, per_second=0.05),  # 5 per 100 s: nothing comes back during a test
    ip_starts=Rate(burst=3, per_second=0.03),
    conversation_messages=Rate(burst=4, per_second=0.04),
)


async def admitted(limiter: RateLimiter, name: str, key: str, tries: int) -> int:
    return sum([await limiter.hit(name, key) == 0.0 for _ in range(tries)])  # type: ignore[arg-type]


async def test_a_burst_is_allowed_then_refused_with_the_wait() -> None:
    limiter = RateLimiter(LIMITS)
    try:
        assert [await limiter.hit("ip", "198.51.100.7") for _ in range(5)] == [0.0] * 5
        wait = await limiter.hit("ip", "198.51.100.7")
        assert 0 < wait <= 100
        assert await limiter.hit("ip", "198.51.100.8") == 0.0  # another address has its own budget
        assert await limiter.hit("start", "198.51.100.7") == 0.0  # and so has each kind of limit
        assert limiter.status() == {"store": "memory", "shared": False}
    finally:
        await limiter.close()


def test_ipv6_addresses_share_the_budget_of_their_64() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:203.0.113.9") == "203.0.113.9"  # an IPv4 client seen through a v6 socket
    assert client_key("203.0.113.9") == "203.0.113.9"
    assert client_key("unknown") == "unknown"


async def test_a_customer_hopping_addresses_in_a_64_is_still_limited() -> None:
    limiter = RateLimiter(LIMITS)
    try:
        hops = [f"2001:db8:7:7::{n:x}" for n in range(1, 20)]
        assert sum([await limiter.hit("start", ip) == 0.0 for ip in hops]) == 3
        assert await limiter.hit("start", "2001:db8:7:8::1") == 0.0  # the next /64 is someone else
    finally:
        await limiter.close()


async def test_two_processes_share_one_budget_through_redis() -> None:
    url = await shared_redis()
    one, two = RateLimiter(LIMITS, url), RateLimiter(LIMITS, url)  # as two web processes would
    try:
        counts = await asyncio.gather(
            admitted(one, "conversation", "c_shared", 6), admitted(two, "conversation", "c_shared", 6)
        )
        assert sum(counts) == 4  # the configured burst, not 4 per process
        assert one.status() == {"store": "redis", "shared": True}
        assert await one.hit("conversation", "c_other") == 0.0
    finally:
        await one.close()
        await two.close()


async def test_redis_down_falls_back_to_this_process_and_comes_back() -> None:
    port = free_port()
    limiter = RateLimiter(LIMITS, f"redis://127.0.0.1:{port}/0", retry_every=0.2, timeout=0.5)
    try:
        # Nobody listens on the port: every request is still answered, counted in this process.
        assert await admitted(limiter, "ip", "192.0.2.1", 7) == 5
        status = limiter.status()
        assert status["store"] == "redis" and status["shared"] is False
        assert "Redis did not answer" in status["error"] and "counting in this process" in status["error"]
        assert limiter.failures >= 1 and not limiter.shared

        async with private_redis(port) as redis:
            await asyncio.sleep(0.25)  # past retry_every: the next request tries Redis again
            assert await limiter.hit("ip", "192.0.2.2") == 0.0
            assert limiter.status() == {"store": "redis", "shared": True}
            await redis.kill()  # while in use: the next request finds out, and is still answered
            assert await limiter.hit("ip", "192.0.2.3") == 0.0
            assert limiter.status()["shared"] is False
    finally:
        await limiter.close()


@pytest.mark.parametrize("rate", [Rate(burst=10, per_second=1), Rate(burst=20, per_second=0.2)])
def test_a_rate_becomes_its_burst_per_refill_window(rate: Rate) -> None:
    item = rate.item()
    assert item.amount == rate.burst
    assert item.get_expiry() == round(rate.burst / rate.per_second)


def test_a_malformed_redis_url_fails_at_start_naming_the_variable() -> None:
    from bot.errors import ConfigError
    from bot.settings import Settings

    assert Settings.from_env({"REDIS_URL": "redis://cache:6379/2"}).redis_url == "redis://cache:6379/2"
    with pytest.raises(ConfigError, match=r"REDIS_URL='cache:6379'.*redis://host:port/db"):
        Settings.from_env({"REDIS_URL": "cache:6379"})
