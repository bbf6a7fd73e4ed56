"""Slack's stored state: the replies owed to Slack (queued, leased, delivered or retried), seen events, claims."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.database import now
from bot.storage.schema import processed_events, slack_claims, slack_replies


@dataclass(frozen=True)
class StoredReply:
    """One queued Slack post, as leased by a process for one try."""

    id: int
    key: str
    channel: str
    thread_ts: str | None
    body: dict[str, Any]
    attempts: int


async def queue_reply(
    engine: AsyncEngine,
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
        async with engine.begin() as conn:
            result = await conn.execute(
                insert(slack_replies).values(
                    key=key[:200],
                    conversation_id=conversation_id,
                    channel=channel,
                    thread_ts=thread_ts,
                    body=body,
                    status="pending",
                    attempts=0,
                    next_attempt_at=t,
                    locked_until=t + lease_seconds,
                    created_at=t,
                )
            )
            if seen is not None and not await _was_seen(conn, seen):
                await conn.execute(insert(processed_events).values(key=seen[:200], created_at=t))
    except IntegrityError:
        return None
    reply_id = int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0
    return StoredReply(reply_id, key, channel, thread_ts, body, 0)


async def lease_due(engine: AsyncEngine, limit: int, lease_seconds: float) -> list[StoredReply]:
    """Due posts nobody holds, each leased to the caller by a conditional update (so two processes
    never try one post at the same time, on either database)."""
    t = now()
    due = and_(
        slack_replies.c.status == "pending",
        slack_replies.c.next_attempt_at <= t,
        slack_replies.c.locked_until <= t,
    )
    async with engine.connect() as conn:
        rows = (
            await conn.execute(select(slack_replies).where(due).order_by(slack_replies.c.id).limit(limit))
        ).all()
    leased = []
    for row in rows:
        async with engine.begin() as conn:
            taken = await conn.execute(
                update(slack_replies)
                .where(and_(slack_replies.c.id == row.id, due))
                .values(locked_until=t + lease_seconds)
            )
        if taken.rowcount == 1:
            leased.append(StoredReply(row.id, row.key, row.channel, row.thread_ts, row.body, row.attempts))
    return leased


async def next_due(engine: AsyncEngine) -> float | None:
    """When the earliest pending post may be tried (its backoff or its lease, whichever ends later)."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(slack_replies.c.next_attempt_at, slack_replies.c.locked_until).where(
                    slack_replies.c.status == "pending"
                )
            )
        ).all()
    return min((max(r.next_attempt_at, r.locked_until) for r in rows), default=None)


async def reply_delivered(engine: AsyncEngine, reply_id: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(slack_replies)
            .where(slack_replies.c.id == reply_id)
            .values(status="delivered", delivered_at=now(), locked_until=0.0, last_error=None)
        )


async def reply_failed(engine: AsyncEngine, reply: StoredReply, error: str, delay: float, dead: bool) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(slack_replies)
            .where(slack_replies.c.id == reply.id)
            .values(
                status="dead" if dead else "pending",
                attempts=reply.attempts + 1,
                next_attempt_at=now() + delay,
                locked_until=0.0,
                last_error=error[:500],
            )
        )


async def replies(engine: AsyncEngine, status: str | None = None) -> list[dict[str, Any]]:
    """The queued posts, oldest first (for the admin and tests)."""
    query = select(slack_replies).order_by(slack_replies.c.id)
    if status:
        query = query.where(slack_replies.c.status == status)
    async with engine.connect() as conn:
        return [dict(row._mapping) for row in (await conn.execute(query)).all()]


async def _was_seen(conn: Any, key: str) -> bool:
    found = await conn.execute(select(exists().where(processed_events.c.key == key[:200])))
    return bool(found.scalar())


async def was_seen(engine: AsyncEngine, key: str) -> bool:
    """Whether an event's key is recorded (its reply is stored, or it needed none), without recording it."""
    async with engine.connect() as conn:
        return await _was_seen(conn, key)


async def mark_seen(engine: AsyncEngine, key: str) -> None:
    """Record an event's key; nothing happens when it is recorded already."""
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(processed_events).values(key=key[:200], created_at=now()))
    except IntegrityError:
        pass


async def save_claim(engine: AsyncEngine, conversation_id: str, channel: str, thread_ts: str) -> None:
    """The agent's Slack thread for a conversation (a new claim replaces an old one)."""
    async with engine.begin() as conn:
        await conn.execute(delete(slack_claims).where(slack_claims.c.conversation_id == conversation_id))
        await conn.execute(
            insert(slack_claims).values(
                conversation_id=conversation_id, channel=channel, thread_ts=thread_ts, created_at=now()
            )
        )


async def claim_of(engine: AsyncEngine, conversation_id: str) -> tuple[str, str] | None:
    """(channel, thread ts) of the agent's Slack thread for this conversation, or None."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(slack_claims.c.channel, slack_claims.c.thread_ts).where(
                    slack_claims.c.conversation_id == conversation_id
                )
            )
        ).first()
    return (str(row.channel), str(row.thread_ts)) if row is not None else None


async def drop_claim(engine: AsyncEngine, conversation_id: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(slack_claims).where(slack_claims.c.conversation_id == conversation_id))
