"""JSON Lines for a warehouse: one line per conversation with its redacted transcript and its events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.analytics.stats import Filters
from bot.storage.schema import conversations, events, messages

BATCH = 200  # conversations per read, so a large export never holds the whole database in memory


async def records(engine: AsyncEngine, filters: Filters) -> AsyncIterator[dict[str, Any]]:
    """Conversations the filters select, oldest first, each with `messages` and `events`.

    The customer's identity and the token hash are left out: a warehouse needs neither, and the
    transcript was redacted when it was stored.
    """
    c = conversations.c
    offset = 0
    while True:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        c.id,
                        c.flow_id,
                        c.flow_version,
                        c.channel,
                        c.status,
                        c.domain,
                        c.turns,
                        c.created_at,
                        c.updated_at,
                    )
                    .where(filters.where())
                    .order_by(c.created_at, c.id)
                    .limit(BATCH)
                    .offset(offset)
                )
            ).all()
            if not rows:
                return
            ids = [r.id for r in rows]
            said: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for m in (
                await conn.execute(
                    select(messages).where(messages.c.conversation_id.in_(ids)).order_by(messages.c.id)
                )
            ).all():
                item: dict[str, Any] = {"role": m.role, "type": m.type, "text": m.text}
                item.update(m.payload or {})
                item["at"] = m.created_at
                said[m.conversation_id].append(item)
            happened: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for e in (
                await conn.execute(
                    select(events).where(events.c.conversation_id.in_(ids)).order_by(events.c.id)
                )
            ).all():
                happened[e.conversation_id].append(
                    {"kind": e.kind, "step": e.step, "data": e.data, "at": e.created_at}
                )
        for r in rows:
            yield {
                "conversation": r.id,
                "flow": r.flow_id,
                "flow_version": r.flow_version,
                "channel": r.channel,
                "status": r.status,
                "domain": r.domain,
                "turns": r.turns,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
                "messages": said.get(r.id, []),
                "events": happened.get(r.id, []),
            }
        offset += len(rows)
