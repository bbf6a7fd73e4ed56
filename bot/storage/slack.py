"""Slack's stored state: the replies owed to Slack (queued, leased, delivered or retried), seen events, claims."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from bot.errors import Duplicate
from bot.storage.database import now
from bot.storage.driver import Driver, Session, json_value


@dataclass(frozen=True)
class StoredReply:
    """One queued Slack post, as leased by a process for one try."""

    id: int
    key: str
    channel: str
    thread_ts: str | None
    body: dict[str, Any]
    attempts: int


_COLUMNS = (
    "id", "key", "conversation_id", "channel", "thread_ts", "body", "status", "attempts",
    "next_attempt_at", "locked_until", "last_error", "created_at", "delivered_at",
)  # fmt: skip
_DUE = "status = 'pending' AND next_attempt_at <= $1 AND locked_until <= $1"


async def queue_reply(
    driver: Driver,
    *,
    key: str,
    conversation_id: str | None,
    channel: str,
    thread_ts: str | None,
    body: dict[str, Any],
    seen: str | None,
    lease_seconds: float,
) -> StoredReply | None:
    """Store a post leased to the caller for its first try, and mark the event `seen` in the same
    transaction; None when a post with this key is stored already (another delivery of the event)."""
    t = now()
    try:
        async with driver.write() as s:
            row = await s.one(
                "INSERT INTO slack_replies (key, conversation_id, channel, thread_ts, body, status, attempts, "
                "next_attempt_at, locked_until, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $6) "
                "RETURNING id",
                key[:200],
                conversation_id,
                channel,
                thread_ts,
                orjson.dumps(body).decode(),
                t,
                t + lease_seconds,
            )
            if seen is not None and not await _was_seen(s, seen):
                await s.run("INSERT INTO processed_events (key, created_at) VALUES ($1, $2)", seen[:200], t)
    except Duplicate:
        return None
    return StoredReply(int(row[0]) if row else 0, key, channel, thread_ts, body, 0)


async def lease_due(driver: Driver, limit: int, lease_seconds: float) -> list[StoredReply]:
    """Due posts nobody holds, each leased to the caller by a conditional update (so two processes
    never try one post at the same time, on either database)."""
    t = now()
    async with driver.read() as s:
        rows = await s.all(
            "SELECT id, key, channel, thread_ts, body, attempts FROM slack_replies WHERE "
            + _DUE
            + " ORDER BY id LIMIT $2",
            t,
            limit,
        )
    leased = []
    for row in rows:
        async with driver.single() as s:
            taken = await s.run(
                "UPDATE slack_replies SET locked_until = $2 WHERE id = $3 AND " + _DUE,
                t,
                t + lease_seconds,
                row[0],
            )
        if taken == 1:
            leased.append(StoredReply(int(row[0]), row[1], row[2], row[3], json_value(row[4]), int(row[5])))
    return leased


async def next_due(driver: Driver) -> float | None:
    """When the earliest pending post may be tried (its backoff or its lease, whichever ends later)."""
    async with driver.read() as s:
        rows = await s.all("SELECT next_attempt_at, locked_until FROM slack_replies WHERE status = 'pending'")
    return min((max(float(r[0]), float(r[1])) for r in rows), default=None)


async def reply_delivered(driver: Driver, reply_id: int) -> None:
    async with driver.single() as s:
        await s.run(
            "UPDATE slack_replies SET status = 'delivered', delivered_at = $2, locked_until = 0.0, "
            "last_error = NULL WHERE id = $1",
            reply_id,
            now(),
        )


async def reply_failed(driver: Driver, reply: StoredReply, error: str, delay: float, dead: bool) -> None:
    async with driver.single() as s:
        await s.run(
            "UPDATE slack_replies SET status = $2, attempts = $3, next_attempt_at = $4, locked_until = 0.0, "
            "last_error = $5 WHERE id = $1",
            reply.id,
            "dead" if dead else "pending",
            reply.attempts + 1,
            now() + delay,
            error[:500],
        )


async def replies(driver: Driver, status: str | None = None) -> list[dict[str, Any]]:
    """The queued posts, oldest first (for the admin and tests)."""
    sql = "SELECT " + ", ".join(_COLUMNS) + " FROM slack_replies"
    async with driver.read() as s:
        if status:
            rows = await s.all(sql + " WHERE status = $1 ORDER BY id", status)
        else:
            rows = await s.all(sql + " ORDER BY id")
    found = [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
    for item in found:
        item["body"] = json_value(item["body"])
    return found


async def _was_seen(s: Session, key: str) -> bool:
    return await s.one("SELECT 1 FROM processed_events WHERE key = $1", key[:200]) is not None


async def was_seen(driver: Driver, key: str) -> bool:
    """Whether an event's key is recorded (its reply is stored, or it needed none), without recording it."""
    async with driver.read() as s:
        return await _was_seen(s, key)


async def mark_seen(driver: Driver, key: str) -> None:
    """Record an event's key; nothing happens when it is recorded already."""
    try:
        async with driver.single() as s:
            await s.run("INSERT INTO processed_events (key, created_at) VALUES ($1, $2)", key[:200], now())
    except Duplicate:
        pass


async def save_claim(driver: Driver, conversation_id: str, channel: str, thread_ts: str) -> None:
    """The agent's Slack thread for a conversation (a new claim replaces an old one)."""
    async with driver.write() as s:
        await s.run("DELETE FROM slack_claims WHERE conversation_id = $1", conversation_id)
        await s.run(
            "INSERT INTO slack_claims (conversation_id, channel, thread_ts, created_at) VALUES ($1, $2, $3, $4)",
            conversation_id,
            channel,
            thread_ts,
            now(),
        )


async def claim_of(driver: Driver, conversation_id: str) -> tuple[str, str] | None:
    """(channel, thread ts) of the agent's Slack thread for this conversation, or None."""
    async with driver.read() as s:
        row = await s.one(
            "SELECT channel, thread_ts FROM slack_claims WHERE conversation_id = $1", conversation_id
        )
    return (str(row[0]), str(row[1])) if row is not None else None


async def drop_claim(driver: Driver, conversation_id: str) -> None:
    async with driver.single() as s:
        await s.run("DELETE FROM slack_claims WHERE conversation_id = $1", conversation_id)
