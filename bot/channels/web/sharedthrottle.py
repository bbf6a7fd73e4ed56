"""The auth back-off counted in Redis for every process when REDIS_URL is set, else in this process."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from bot.channels.web.auththrottle import AuthThrottle, Backoff
from bot.channels.web.ratelimit import client_key
from bot.channels.web.redisfallback import RedisFallback

# Both scripts read Redis' own clock, so processes on hosts whose clocks disagree still agree on a wait.
# The global budget is a sliding window of `burst` wrong guesses per burst/rate seconds: the count of
# the window before is weighted by how much of it still overlaps, as the rate limiter counts.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slice = math.floor(now / window)
local into = (now - slice * window) / window
"""

# KEYS[1] the address' hash {n: failures, until: ms}; KEYS[2] the prefix of the global window keys.
# ARGV: free, first_wait ms, max_wait ms, forget_after ms, window ms.
_FAILED = (
    """
local free, first, cap, forget, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
    tonumber(ARGV[4]), tonumber(ARGV[5])
"""
    + _NOW
    + """
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local wait = 0
if n > free then
    wait = math.min(cap, first * 2 ^ math.min(n - free - 1, 30))
    redis.call('HSET', KEYS[1], 'until', now + wait)
end
redis.call('PEXPIRE', KEYS[1], math.floor(math.max(forget, wait)))
local key = KEYS[2] .. slice
redis.call('INCR', key)
redis.call('PEXPIRE', key, 2 * window)
return 0
"""
)

# KEYS as for _FAILED; ARGV: burst, window ms. Returns {ms this address waits, ms everyone waits}.
_WAIT = (
    """
local burst, window = tonumber(ARGV[1]), tonumber(ARGV[2])
"""
    + _NOW
    + """
local mine = 0
local until_ = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if until_ > now then mine = until_ - now end
local current = tonumber(redis.call('GET', KEYS[2] .. slice) or '0')
local before = tonumber(redis.call('GET', KEYS[2] .. (slice - 1)) or '0')
local everyone = 0
if before * (1 - into) + current > burst - 1 then
    -- Until the window slides far enough that one more guess fits the budget.
    if current > burst - 1 then
        everyone = (1 - into) * window + math.max(0, 1 - (burst - 1) / current) * window
    else
        everyone = (1 - (burst - 1 - current) / before - into) * window
    end
    everyone = math.max(everyone, 1)
end
return {math.ceil(mine), math.ceil(everyone)}
"""
)


class SharedAuthThrottle:
    """`AuthThrottle`'s wait/failed/succeeded, counted in Redis so N processes allow one process' guesses.

    Without REDIS_URL, or while Redis does not answer, this process' own `AuthThrottle` decides (see
    RedisFallback for what is said and when Redis is tried again). Every failure is also counted here,
    so an outage does not hand an address a fresh start in a process that saw its guesses. Who signed in lately is kept per
    process only: that exemption from the global budget is a convenience, not a limit."""

    def __init__(
        self,
        backoff: Backoff | None = None,
        redis_url: str | None = None,
        *,
        retry_every: float = 5.0,
        timeout: float = 0.5,
        prefix: str = "supportbot:auth",
    ) -> None:
        self.local = AuthThrottle(backoff)
        self.backoff = self.local.backoff
        self.prefix = prefix
        # Short timeouts and no retries: while Redis is away a guess waits this long once, then counts here.
        self._redis = (
            redis.asyncio.Redis.from_url(
                redis_url,
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
            if redis_url
            else None
        )
        self._failed = self._redis.register_script(_FAILED) if self._redis is not None else None
        self._wait = self._redis.register_script(_WAIT) if self._redis is not None else None
        # Whether Redis answers: `shared`, `failures` and `status()` for /healthz and /metrics.
        self.fallback = RedisFallback(self._redis is not None, "wrong guesses", retry_every)

    async def wait(self, address: str) -> float:
        """Seconds before a guess from `address` is looked at; 0.0 when it may be checked now."""
        # Counted as the request limits count: an IPv6 client may pick a new address in its /64 for
        # every guess.
        address = client_key(address)
        script = self._wait
        if script is not None:
            args = [self.backoff.global_burst, self._window_ms()]
            waits = await self._ask(lambda: script(keys=self._keys(address), args=args))
            if waits is not None:
                mine, everyone = (float(ms) / 1000 for ms in waits)
                return mine if self.local.known(address) else max(mine, everyone)
        return self.local.wait(address)

    async def failed(self, address: str) -> None:
        address = client_key(address)
        self.local.failed(address)
        script = self._failed
        if script is not None:
            b = self.backoff
            args = [b.free, b.first_wait * 1000, b.max_wait * 1000, b.forget_after * 1000, self._window_ms()]
            await self._ask(lambda: script(keys=self._keys(address), args=args))

    async def succeeded(self, address: str) -> None:
        address = client_key(address)
        self.local.succeeded(address)
        client = self._redis
        if client is not None:
            await self._ask(lambda: client.delete(self._keys(address)[0]))

    async def close(self) -> None:
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()

    async def _ask(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """What Redis answered to `call`, or None when it was not asked or did not answer."""
        if not self.fallback.may_try():
            return None
        try:
            answer = await call()
        except (RedisError, OSError, TimeoutError) as exc:
            self.fallback.unavailable(exc)
            return None
        self.fallback.answered()
        return answer

    def _keys(self, address: str) -> list[str]:
        return [f"{self.prefix}:address:{address}", f"{self.prefix}:everyone:"]

    def _window_ms(self) -> int:
        b = self.backoff
        seconds = b.global_burst / b.global_per_second if b.global_per_second > 0 else 86_400.0
        return max(1000, round(seconds * 1000))
