"""The per-domain caches and the per-conversation and global rate limits of the probes."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Clock = Callable[[], float]
V = TypeVar("V")


class TTLCache(Generic[V]):
    """Values for a few minutes (results by check and arguments, DNS answers by name and type).

    `keep` says which values are worth keeping: an unknown result or a timed-out lookup is a
    passing failure, and the next try should ask again.
    """

    def __init__(
        self,
        ttl: float = 300.0,
        size: int = 5000,
        clock: Clock = time.monotonic,
        keep: Callable[[V], bool] | None = None,
    ) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self.keep = keep
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, result = item
        if expires <= self.clock():
            del self._items[key]
            return None
        return result

    def put(self, key: Hashable, value: V) -> None:
        if self.ttl <= 0 or (self.keep is not None and not self.keep(value)):
            return
        self._items[key] = (self.clock() + self.ttl, value)
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
