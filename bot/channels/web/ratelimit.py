"""Request rate limits (the `limits` library): shared in Redis when REDIS_URL is set, else per process."""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import math
import time
from dataclasses import dataclass
from typing import Any, Literal

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from bot.channels.web.localwindow import SlidingWindows
from bot.channels.web.redisfallback import RedisFallback

Name = Literal["ip", "start", "conversation", "slack"]


@dataclass(frozen=True)
class Rate:
    """`burst` requests at once, refilled at `per_second`."""

    burst: float
    per_second: float

    def item(self) -> RateLimitItem:
        # `burst` requests in any window of burst/per_second seconds. The window slides (the counter of
        # the window before is weighted by how much of it still overlaps), so the budget comes back
        # gradually rather than all at once at a window's edge: a token bucket's burst and long-run rate.
        window = max(1, round(self.burst / self.per_second)) if self.per_second > 0 else 86_400
        return RateLimitItemPerSecond(max(1, int(self.burst)), window, namespace="supportbot")


@dataclass(frozen=True)
class RateLimits:
    """The limits the web app applies; tests pass their own."""

    ip_requests: Rate = Rate(burst=120, per_second=4)  # every API call from one address
    ip_starts: Rate = Rate(burst=20, per_second=0.2)  # new conversations from one address
    conversation_messages: Rate = Rate(burst=10, per_second=1)  # customer messages per conversation
    # Requests to /slack/events from one address: Slack's senders share it, and a busy workspace sends
    # a few events a second; anyone else is refused before a signature is computed over their body.
    slack_events: Rate = Rate(burst=100, per_second=20)


@functools.lru_cache(maxsize=4096)  # every request asks; an address sends several in a row
def client_key(ip: str) -> str:
    """The budget an address draws on: an IPv4 address, or the /64 of an IPv6 one.

    One customer's network is given a whole /64 and can pick a new address in it for every request;
    counted per address, that would be 2**64 budgets."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _redis_storage(url: str, timeout: float) -> RedisStorage:
    scheme, _, rest = url.partition("://")
    target = f"async+redis+unix://{rest}" if scheme == "unix" else f"async+{url}"
    # Short timeouts: while Redis is away a request waits this long once, then counts in this process.
    return RedisStorage(
        target,
        wrap_exceptions=True,
        implementation="redispy",  # redis-py, Redis' own client
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
    )


class RateLimiter:
    """Counts requests against the budgets of RateLimits, one budget per address or conversation.

    With REDIS_URL every process (and host) draws on the same budget. When Redis does not answer,
    requests are counted in this process instead (each process then allows the whole rate), `status`
    says so for /healthz and /metrics, and Redis is tried again every `retry_every` seconds."""

    def __init__(
        self,
        limits: RateLimits,
        redis_url: str | None = None,
        *,
        retry_every: float = 5.0,
        timeout: float = 0.5,
    ) -> None:
        self.items: dict[Name, RateLimitItem] = {
            "ip": limits.ip_requests.item(),
            "start": limits.ip_starts.item(),
            "conversation": limits.conversation_messages.item(),
            "slack": limits.slack_events.item(),
        }
        # Counted here without Redis, or while it does not answer: the same windows, in plain dicts.
        self._local = {
            name: SlidingWindows(item.amount, item.get_expiry()) for name, item in self.items.items()
        }
        self._redis = _redis_storage(redis_url, timeout) if redis_url else None
        self._shared = SlidingWindowCounterRateLimiter(self._redis) if self._redis is not None else None
        self.fallback = RedisFallback(self._shared is not None, "rate limits", retry_every)

    @property
    def shared(self) -> bool:
        """True while the budgets are counted in Redis for every process."""
        return self.fallback.shared

    @property
    def failures(self) -> int:
        return self.fallback.failures

    def status(self) -> dict[str, Any]:
        return self.fallback.status()

    async def hit(self, name: Name, key: str) -> float:
        """Count one request against `name`'s budget for `key`: 0.0 when allowed, else seconds to wait."""
        item = self.items[name]
        key = key if name == "conversation" else client_key(key)
        if self._shared is not None and self.fallback.may_try():
            try:
                wait = await _hit(self._shared, item, name, key)
            except (StorageError, OSError, TimeoutError) as exc:
                self.fallback.unavailable(exc.storage_error if isinstance(exc, StorageError) else exc)
            else:
                self.fallback.answered()
                return wait
        return self._local[name].hit(key)

    async def close(self) -> None:
        # limits has no close of its own; its redis-py client holds the pooled sockets.
        client = getattr(getattr(self._redis, "bridge", None), "storage", None)
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()


async def _hit(limiter: SlidingWindowCounterRateLimiter, item: RateLimitItem, name: str, key: str) -> float:
    if await limiter.hit(item, name, key):
        return 0.0
    reset_at, _ = await limiter.get_window_stats(item, name, key)
    return max(reset_at - time.time(), 0.001)


def retry_after(wait: float) -> str:
    """Retry-After wants whole seconds; round up so a client that obeys it succeeds."""
    return str(max(1, math.ceil(wait)))
