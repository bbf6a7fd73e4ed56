"""The transactional outbox: rows written with the escalating turn (store.enqueue_deliveries), leased, delivered, retried or dead."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.escalation.policy import BASE_DELAY, LEASE_SECONDS, MAX_DELAY
from bot.escalation.policy import Policy as Policy  # its home is policy.py, light enough for the command line
from bot.storage.database import is_postgres, now
from bot.storage.schema import escalations, outbox


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
    engine: AsyncEngine,
    limit: int = 10,
    lease_seconds: float = LEASE_SECONDS,
    skip_sinks: Sequence[str] = (),
) -> list[Job]:
    """Take up to `limit` due rows for this worker; other workers skip them (SKIP LOCKED on PostgreSQL).

    Rows for `skip_sinks` (busy in this worker) stay for later or for another worker.
    """
    t = now()
    condition = and_(outbox.c.status == "pending", outbox.c.next_attempt_at <= t, outbox.c.locked_until <= t)
    if skip_sinks:
        condition = and_(condition, outbox.c.sink.not_in(list(skip_sinks)))
    due = select(outbox.c.id).where(condition).order_by(outbox.c.id).limit(limit)
    async with engine.begin() as conn:
        if is_postgres(engine):
            due = due.with_for_update(skip_locked=True)
        ids = [row[0] for row in (await conn.execute(due)).all()]
        if not ids:
            return []
        await conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(locked_until=t + lease_seconds))
        rows = (
            await conn.execute(
                select(
                    outbox.c.id,
                    outbox.c.sink,
                    outbox.c.idempotency_key,
                    outbox.c.attempts,
                    escalations.c.packet,
                )
                .join(escalations, escalations.c.id == outbox.c.escalation_id)
                .where(outbox.c.id.in_(ids))
                .order_by(outbox.c.id)
            )
        ).all()
    return [Job(r.id, r.sink, r.idempotency_key, r.attempts, r.packet, t + lease_seconds) for r in rows]


async def mark_delivered(engine: AsyncEngine, job_id: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == job_id)
            .values(status="delivered", delivered_at=now(), locked_until=0.0, last_error=None)
        )


def backoff(
    attempts: int, retry_after: float | None, base: float = BASE_DELAY, cap: float = MAX_DELAY
) -> float:
    """Exponential with jitter (half to all of base*2^(n-1), capped); Retry-After is the minimum wait."""
    delay = random.uniform(0.5, 1.0) * min(cap, base * 2.0 ** max(0, attempts - 1))
    return max(delay, retry_after) if retry_after is not None else delay


async def mark_failed(
    engine: AsyncEngine,
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
    async with engine.begin() as conn:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == job.id)
            .values(
                status="dead" if dead else "pending",
                attempts=attempts,
                next_attempt_at=now() + backoff(attempts, retry_after, policy.base_delay, policy.max_delay),
                locked_until=0.0,
                last_error=error[:500],
            )
        )
    return "dead" if dead else "pending"


async def backlog(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).where(outbox.c.status == "pending"))).scalar() or 0
        )


async def listing(engine: AsyncEngine, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if status:
        query = query.where(outbox.c.status == status)
    async with engine.connect() as conn:
        return [dict(row._mapping) for row in (await conn.execute(query)).all()]


async def retry(engine: AsyncEngine, job_ids: Sequence[int] | None = None) -> int:
    """Put dead letters (all, or the ids given) back in the queue; returns how many."""
    condition = outbox.c.status == "dead"
    if job_ids:
        condition = and_(condition, or_(*(outbox.c.id == i for i in job_ids)))
    async with engine.begin() as conn:
        result = await conn.execute(
            update(outbox)
            .where(condition)
            .values(status="pending", attempts=0, next_attempt_at=now(), locked_until=0.0)
        )
    return int(result.rowcount or 0)
