"""When a counter kept in Redis may ask Redis, and what /healthz says while it counts in this process."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)


class RedisFallback:
    """Tracks whether Redis answers for one shared counter (`what`: "rate limits", "wrong guesses").

    While it does not, the counter counts in this process (each process then allows the whole budget),
    `status` says so for /healthz and /metrics, and Redis is tried again every `retry_every` seconds."""

    def __init__(self, configured: bool, what: str, retry_every: float = 5.0) -> None:
        self.configured = configured  # False without REDIS_URL: always this process, never an error
        self.what = what
        self.retry_every = retry_every
        self.error: str | None = None  # why Redis is not being used, while it isn't
        self.failures = 0
        self._retry_at = 0.0

    @property
    def shared(self) -> bool:
        """True while the counts are kept in Redis for every process."""
        return self.configured and self.error is None

    def status(self) -> dict[str, Any]:
        if not self.configured:
            return {"store": "memory", "shared": False}
        report: dict[str, Any] = {"store": "redis", "shared": self.error is None}
        if self.error is not None:
            report["error"] = f"{self.error}; counting in this process until Redis answers"
        return report

    def may_try(self) -> bool:
        """Whether this call should ask Redis: always while it answers, else one call per `retry_every`."""
        if not self.configured or time.monotonic() < self._retry_at:
            return False
        if self.error is not None:
            # This call tries Redis again; the others keep counting here meanwhile.
            self._retry_at = time.monotonic() + self.retry_every
        return True

    def answered(self) -> None:
        if self.error is not None:
            log.warning("Redis answers again: %s are shared by every process again", self.what)
            self.error, self._retry_at = None, 0.0

    def unavailable(self, cause: BaseException) -> None:
        self.failures += 1
        reason = f"Redis did not answer ({type(cause).__name__}: {cause})"
        if self.error is None:
            log.warning("%s; %s are counted in this process until it does", reason, self.what)
        self.error = reason
        self._retry_at = time.monotonic() + self.retry_every
