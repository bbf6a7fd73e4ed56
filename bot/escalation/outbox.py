"""The transactional outbox: rows written with the escalating turn (store.enqueue_deliveries), leased, delivered, retried or dead."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.escalation.policy import BASE_DELAY, LEASE_SECONDS, MAX_DELAY
from bot.escalation.policy import Policy as Policy  # its home is policy.py, light enough for the command line
from bot.storage import outbox as rows
from bot.storage.database import now
from bot.storage.driver import Driver


@dataclass(frozen=True)
class Job:
    id: int
    sink: str
    idempotency_key: str
    attempts: int
    packet: dict[str, Any]
    leased_until: float = 0.0

    def lease_left(self) -> float:
        return self.leased_until - now()


async def lease(
    driver: Driver,
    limit: int = 10,
    lease_seconds: float = LEASE_SECONDS,
    skip_sinks: Sequence[str] = (),
) -> list[Job]:
    """Take up to `limit` due rows for this worker; other workers skip them (SKIP LOCKED on PostgreSQL).

    Rows for `skip_sinks` (busy in this worker) stay for later or for another worker.
    """
    t = now()
    leased = await rows.lease(driver, t, t + lease_seconds, limit, skip_sinks)
    return [Job(*row, leased_until=t + lease_seconds) for row in leased]


async def mark_delivered(driver: Driver, job_id: int) -> None:
    await rows.delivered(driver, job_id, now())


def backoff(
    attempts: int, retry_after: float | None, base: float = BASE_DELAY, cap: float = MAX_DELAY
) -> float:
    """Exponential with jitter (half to all of base*2^(n-1), capped); Retry-After is the minimum wait."""
    delay = random.uniform(0.5, 1.0) * min(cap, base * 2.0 ** max(0, attempts - 1))
    return max(delay, retry_after) if retry_after is not None else delay


async def mark_failed(
    driver: Driver,
    job: Job,
    error: str,
    *,
    retry_after: float | None = None,
    permanent: bool = False,
    policy: Policy | None = None,
) -> str:
    """Record a failed try; returns the row's new status (pending, or dead after the last try)."""
    policy = policy or Policy()
    attempts = job.attempts + 1
    dead = permanent or attempts >= policy.max_attempts
    next_at = now() + backoff(attempts, retry_after, policy.base_delay, policy.max_delay)
    await rows.failed(driver, job.id, dead=dead, attempts=attempts, next_at=next_at, error=error[:500])
    return "dead" if dead else "pending"


async def backlog(driver: Driver) -> int:
    return await rows.pending(driver)


async def listing(driver: Driver, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    return await rows.rows(driver, status, limit)


async def retry(driver: Driver, job_ids: Sequence[int] | None = None) -> int:
    """Put dead letters (all, or the ids given) back in the queue; returns how many."""
    return await rows.requeue(driver, list(job_ids or ()), now())
