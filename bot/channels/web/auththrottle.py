"""Back-off for wrong admin tokens and agent API keys: per address, and across all addresses."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """How many wrong guesses are free, how the wait grows after them, and the cap for everyone."""

    free: int = 5  # wrong guesses from one address before any wait (typos happen)
    first_wait: float = 1.0  # seconds after the first guess past `free`, doubling with each one
    max_wait: float = 900.0
    forget_after: float = 3600.0  # an address quiet for this long starts afresh
    # Across all addresses: a token bucket of wrong guesses, so rotating addresses buys no speed.
    global_burst: float = 100.0
    global_per_second: float = 1.0


@dataclass
class _Record:
    failures: int
    until: float  # no guess from this address is checked before this moment
    last: float


class AuthThrottle:
    """`wait()` before checking a secret; `failed()` or `succeeded()` after. Kept in memory, per process
    (SharedAuthThrottle shares it through Redis and falls back on this one)."""

    def __init__(
        self,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = 100_000,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.max_addresses = max_addresses
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._tokens = self.backoff.global_burst
        self._stamp = clock()
        # Addresses that proved they know the secret lately: a flood of guesses from elsewhere, which
        # empties the shared bucket, does not lock them out.
        self._known: OrderedDict[str, float] = OrderedDict()

    def wait(self, address: str) -> float:
        """Seconds before a guess from `address` is looked at; 0.0 when it may be checked now."""
        now = self.clock()
        record = self._record(address, now)
        mine = max(0.0, record.until - now) if record else 0.0
        self._refill(now)
        if self._tokens >= 1 or self.known(address):
            return mine
        return max(mine, (1 - self._tokens) / self.backoff.global_per_second)

    def known(self, address: str) -> bool:
        """True while `address` is exempt from the global budget, having proved the secret lately."""
        return self._known.get(address, -1.0) > self.clock()

    def failed(self, address: str) -> None:
        now = self.clock()
        record = self._record(address, now) or _Record(0, now, now)
        record.failures += 1
        record.last = now
        beyond = record.failures - self.backoff.free
        if beyond > 0:
            wait = self.backoff.first_wait * 2 ** min(beyond - 1, 30)
            record.until = now + min(self.backoff.max_wait, wait)
        self._records[address] = record
        self._records.move_to_end(address)
        while len(self._records) > self.max_addresses:
            self._records.popitem(last=False)
        self._refill(now)
        self._tokens = max(0.0, self._tokens - 1)

    def succeeded(self, address: str) -> None:
        self._records.pop(address, None)
        self._known[address] = self.clock() + self.backoff.forget_after
        self._known.move_to_end(address)
        while len(self._known) > self.max_addresses:
            self._known.popitem(last=False)

    def _record(self, address: str, now: float) -> _Record | None:
        record = self._records.get(address)
        if record is not None and now - record.last > self.backoff.forget_after and now >= record.until:
            del self._records[address]
            return None
        return record

    def _refill(self, now: float) -> None:
        self._tokens = min(
            self.backoff.global_burst, self._tokens + (now - self._stamp) * self.backoff.global_per_second
        )
        self._stamp = now
