"""Token-bucket rate limits kept in memory (per process), keyed by IP or conversation."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """`burst` requests at once, refilled at `per_second`."""

    burst: float
    per_second: float


@dataclass(frozen=True)
class RateLimits:
    """The limits the web app applies; tests pass their own."""

    ip_requests: Rate = Rate(burst=120, per_second=4)  # every API call from one address
    ip_starts: Rate = Rate(burst=20, per_second=0.2)  # new conversations from one address
    conversation_messages: Rate = Rate(burst=10, per_second=1)  # customer messages per conversation


class Limiter:
    """Buckets for one kind of key, least recently used first; full (idle) ones are forgotten."""

    def __init__(self, rate: Rate, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        # After this long without a request a bucket has refilled completely, which is exactly what
        # a new bucket looks like: keeping it would only cost memory (the soak showed steady growth).
        self._idle = rate.burst / rate.per_second if rate.per_second > 0 else math.inf

    def __len__(self) -> int:
        return len(self._buckets)

    def hit(self, key: str, now: float | None = None) -> float:
        """Take one token for `key`: 0.0 when allowed, else the seconds until the next token."""
        now = time.monotonic() if now is None else now
        tokens, stamp = self._buckets.pop(key, (self.rate.burst, now))
        tokens = min(self.rate.burst, tokens + (now - stamp) * self.rate.per_second)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1 - tokens) / self.rate.per_second if self.rate.per_second > 0 else 3600.0
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        while self._buckets:
            oldest_key = next(iter(self._buckets))
            if now - self._buckets[oldest_key][1] < self._idle:
                break
            del self._buckets[oldest_key]
        return wait


def retry_after(wait: float) -> str:
    """Retry-After wants whole seconds; round up so a client that obeys it succeeds."""
    return str(max(1, math.ceil(wait)))
