"""Closes conversations nobody answered for a while as abandoned; a later reply reopens them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.analytics.kinds import EventKind
from bot.storage.database import now
from bot.storage.schema import conversations, events

log = logging.getLogger(__name__)
ABANDONED = "abandoned"  # the conversation's status while closed; its event is EventKind.ABANDONED
SWEEP_EVERY = 60.0  # seconds between sweeps in a long-running process


async def sweep(engine: AsyncEngine, idle_minutes: float, at: float | None = None) -> int:
    """Mark active conversations idle for longer than `idle_minutes` as abandoned; returns how many.

    Only `active` conversations count: one with an agent is the agent's to close, and a finished one
    is not waiting for the customer. The engine state is left as it was, so the next customer turn
    continues where they left off (the service records a `resumed` event and the status comes back).
    """
    cutoff = (now() if at is None else at) - idle_minutes * 60.0
    closed = 0
    async with engine.begin() as conn:
        rows = (
            await conn.execute(
                select(
                    conversations.c.id,
                    conversations.c.flow_id,
                    conversations.c.flow_version,
                    conversations.c.state,
                    conversations.c.lock_version,
                ).where(and_(conversations.c.status == "active", conversations.c.updated_at < cutoff))
            )
        ).all()
        for row in rows:
            # Bumping lock_version makes a turn that read the row before this sweep retry on the new row,
            # so it sees the abandonment and records the resumption instead of silently undoing it.
            result = await conn.execute(
                update(conversations)
                .where(
                    and_(
                        conversations.c.id == row.id,
                        conversations.c.lock_version == row.lock_version,
                        conversations.c.status == "active",
                    )
                )
                .values(status=ABANDONED, lock_version=row.lock_version + 1)
            )
            if result.rowcount != 1:
                continue
            await conn.execute(
                events.insert().values(
                    conversation_id=row.id,
                    flow_id=row.flow_id,
                    flow_version=row.flow_version,
                    kind=EventKind.ABANDONED.value,
                    step=_step(row.state),
                    data={"idle_minutes": idle_minutes},
                    created_at=now() if at is None else at,
                )
            )
            closed += 1
    if closed:
        log.info("closed %d idle conversation(s) as abandoned", closed)
    return closed


def _step(state: bytes) -> str | None:
    try:
        data: Any = orjson.loads(state)
    except orjson.JSONDecodeError:
        return None
    step = data.get("step") if isinstance(data, dict) else None
    return step if isinstance(step, str) and step else None


async def sweep_forever(engine: AsyncEngine, idle_minutes: float, every: float = SWEEP_EVERY) -> None:
    """Sweep every `every` seconds until cancelled; an error is logged and the next sweep tries again."""
    while True:
        # Wait first: a process that just started has nothing new to close and should not write yet.
        await asyncio.sleep(every)
        try:
            await sweep(engine, idle_minutes)
        except Exception:
            log.exception("abandonment sweep failed; trying again in %.0f s", every)
