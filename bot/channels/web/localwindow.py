"""Sliding-window counters kept in this process: the rate limits' budgets when no Redis is shared."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Window:
    index: int  # which window of `expiry` seconds (counted from the epoch) `current` belongs to
    current: int
    previous: int  # requests in the window before `index`


class SlidingWindows:
    """`limit` requests per `expiry` seconds for each key, counted as `limits`' sliding-window counter.

    Windows are aligned to multiples of `expiry`; the count of the window before weighs by how much of
    it still overlaps the last `expiry` seconds, so the budget comes back gradually. The same arithmetic
    as the Redis-shared counter, without its per-hit storage round trips: this path runs twice per
    customer message."""

    def __init__(self, limit: int, expiry: int, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.expiry = expiry
        self.clock = clock
        # Least recently hit first: a key not hit for two windows counts nothing and is dropped.
        self._windows: OrderedDict[str, _Window] = OrderedDict()
        self._swept = 0  # the window the last sweep ran in: keys go stale only when a new one begins

    def hit(self, key: str) -> float:
        """Count one request for `key`: 0.0 when allowed, else seconds until the budget has room."""
        now = self.clock()
        index = int(now // self.expiry)
        if index != self._swept:
            self._forget_before(index - 1)
            self._swept = index
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(index, 0, 0)
        else:
            self._windows.move_to_end(key)
            if window.index != index:
                window.previous = window.current if window.index == index - 1 else 0
                window.current, window.index = 0, index
        into = now - index * self.expiry  # seconds into the current window
        overlap = self.expiry - into  # how much of the previous window is still inside the last `expiry`
        weighted = window.previous * overlap / self.expiry + window.current
        if math.floor(weighted) + 1 <= self.limit:
            window.current += 1
            return 0.0
        # The sooner of: one of the previous window's requests sliding out, or the current window ending.
        waits = []
        if window.previous:
            waits.append(overlap % (self.expiry / window.previous))
        if window.current:
            waits.append(overlap % self.expiry)
        return max(min(waits, default=0.0), 0.001)

    def _forget_before(self, index: int) -> None:
        while self._windows:
            oldest = next(iter(self._windows.values()))
            if oldest.index >= index:
                return
            self._windows.popitem(last=False)

    def __len__(self) -> int:
        return len(self._windows)
