"""The outbox's statements: lease due rows, record a delivery or a failed try, list and requeue rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.storage.driver import Driver, in_list, json_value, listed

# A leased row: (id, sink, idempotency_key, attempts, packet) with the packet's JSON parsed.
Leased = tuple[int, str, str, int, dict[str, Any]]

_DUE = "status = 'pending' AND next_attempt_at <= $1 AND locked_until <= $1"

# PostgreSQL: one statement, atomic by itself. SKIP LOCKED lets workers on other processes take
# other rows instead of waiting for these; the lease (locked_until) keeps them off the rows after
# the statement ends, while they are being delivered.
_LEASE_POSTGRES = (
    "WITH due AS (SELECT id FROM outbox WHERE " + _DUE + " AND NOT (sink = ANY($4)) "
    "ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED), "
    "leased AS (UPDATE outbox o SET locked_until = $2 FROM due WHERE o.id = due.id "
    "RETURNING o.id, o.sink, o.idempotency_key, o.attempts, o.escalation_id) "
    "SELECT l.id, l.sink, l.idempotency_key, l.attempts, e.packet FROM leased l "
    "JOIN escalations e ON e.id = l.escalation_id ORDER BY l.id"
)

# SQLite: the due rows and their lease in one write transaction (BEGIN IMMEDIATE: no other
# connection can lease them in between). Both statements run inline, so the write lock is held for
# microseconds and never across an await that suspends. It takes PostgreSQL's arguments ($2 unused).
_DUE_SQLITE = (
    "SELECT o.id, o.sink, o.idempotency_key, o.attempts, e.packet FROM outbox o "
    "JOIN escalations e ON e.id = o.escalation_id WHERE o." + _DUE.replace(" AND ", " AND o.") + " AND "
    "o.sink NOT IN (SELECT value FROM json_each($4)) ORDER BY o.id LIMIT $3"
)


async def lease(
    driver: Driver, at: float, leased_until: float, limit: int, skip_sinks: Sequence[str]
) -> list[Leased]:
    """Up to `limit` rows due at `at`, not for `skip_sinks`, leased to this worker until `leased_until`."""
    if limit <= 0:
        return []
    skip = listed(driver.dialect, skip_sinks)
    if driver.dialect == "postgresql":
        async with driver.single() as s:
            rows = await s.all(_LEASE_POSTGRES, at, leased_until, limit, skip)
    else:
        async with driver.write() as s:
            rows = await s.all(_DUE_SQLITE, at, leased_until, limit, skip)
            if rows:
                await s.run(
                    "UPDATE outbox SET locked_until = $1 WHERE " + in_list(s.dialect, "id", 2),
                    leased_until,
                    listed(s.dialect, [r[0] for r in rows]),
                )
    return [(int(r[0]), r[1], r[2], int(r[3]), json_value(r[4])) for r in rows]


async def delivered(driver: Driver, job_id: int, at: float) -> None:
    async with driver.single() as s:
        await s.run(
            "UPDATE outbox SET status = 'delivered', delivered_at = $2, locked_until = 0.0, last_error = NULL "
            "WHERE id = $1",
            job_id,
            at,
        )


async def failed(
    driver: Driver, job_id: int, *, dead: bool, attempts: int, next_at: float, error: str
) -> None:
    async with driver.single() as s:
        await s.run(
            "UPDATE outbox SET status = $2, attempts = $3, next_attempt_at = $4, locked_until = 0.0, "
            "last_error = $5 WHERE id = $1",
            job_id,
            "dead" if dead else "pending",
            attempts,
            next_at,
            error,
        )


async def pending(driver: Driver) -> int:
    async with driver.read() as s:
        found = await s.one("SELECT count(*) FROM outbox WHERE status = 'pending'")
    return int(found[0]) if found else 0


_COLUMNS = (
    "id",
    "escalation_id",
    "sink",
    "idempotency_key",
    "status",
    "attempts",
    "next_attempt_at",
    "locked_until",
    "last_error",
    "created_at",
    "delivered_at",
)


async def rows(driver: Driver, status: str | None, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` rows (with this status, or any), every column by name."""
    where, args = ("WHERE status = $2 ", [status]) if status else ("", [])
    async with driver.read() as s:
        found = await s.all(
            f"SELECT {', '.join(_COLUMNS)} FROM outbox {where}ORDER BY id DESC LIMIT $1",
            limit,
            *args,
        )
    return [dict(zip(_COLUMNS, row, strict=True)) for row in found]


async def requeue(driver: Driver, job_ids: Sequence[int], at: float) -> int:
    """Dead rows (all, or these ids) pending again from `at` with their tries reset; how many."""
    async with driver.single() as s:
        chosen, args = (
            (" AND " + in_list(s.dialect, "id", 2), [listed(s.dialect, job_ids)]) if job_ids else ("", [])
        )
        return await s.run(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1, locked_until = 0.0 "
            f"WHERE status = 'dead'{chosen}",
            at,
            *args,
        )
