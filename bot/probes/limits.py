"""The per-domain result cache and the per-conversation and global rate limits of the probes."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

from bot.engine.probing import ProbeResult

Clock = Callable[[], float]


class ResultCache:
    """Finished results for a few minutes, keyed by check and the arguments that check uses."""

    def __init__(self, ttl: float = 300.0, size: int = 2000, clock: Clock = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._items: OrderedDict[Hashable, tuple[float, ProbeResult]] = OrderedDict()

    def get(self, key: Hashable) -> ProbeResult | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, result = item
        if expires <= self.clock():
            del self._items[key]
            return None
        return result

    def put(self, key: Hashable, result: ProbeResult) -> None:
        # An unknown is a passing failure (timeout, SERVFAIL): the next try should ask again.
        if result.status == "unknown" or self.ttl <= 0:
            return
        self._items[key] = (self.clock() + self.ttl, result)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class RateLimit:
    """At most `limit` events per `per` seconds for each key (a sliding window)."""

    def __init__(self, limit: int, per: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.per = per
        self.clock = clock
        self._events: dict[Hashable, deque[float]] = {}

    def allow(self, key: Hashable) -> bool:
        now = self.clock()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.per:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        if len(self._events) > 10000:  # forget idle keys so the table can't grow forever
            self._events = {k: v for k, v in self._events.items() if v and v[-1] > now - self.per}
        return True
