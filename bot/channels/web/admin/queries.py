"""The admin pages' reads: a filtered page of conversations, and one conversation with its events."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.analytics.stats import Filters
from bot.errors import NotFound
from bot.storage import store
from bot.storage.schema import conversations, escalations, events, messages

# The list's columns; the customer JSON only for the contact e-mail it may hold.
_LISTED = tuple(
    getattr(conversations.c, name)
    for name in (
        "id",
        "flow_id",
        "channel",
        "status",
        "domain",
        "turns",
        "created_at",
        "updated_at",
        "customer",
    )
)


async def page(
    engine: AsyncEngine, filters: Filters, limit: int = 50, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """How many conversations match, and one page of them, newest first."""
    c = conversations.c
    async with engine.connect() as conn:
        total = int((await conn.execute(select(func.count()).where(filters.where()))).scalar() or 0)
        rows = (
            await conn.execute(
                select(*_LISTED)
                .where(filters.where())
                .order_by(c.created_at.desc(), c.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
    return total, [_with_contact(dict(r._mapping)) for r in rows]


async def conversation(engine: AsyncEngine, conversation_id: str) -> dict[str, Any]:
    """One conversation: its row, current step, transcript (already redacted), events and escalations."""
    c = conversations.c
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    c.id,
                    c.flow_id,
                    c.flow_version,
                    c.channel,
                    c.status,
                    c.domain,
                    c.agent,
                    c.turns,
                    c.state,
                    c.customer,
                    c.created_at,
                    c.updated_at,
                ).where(c.id == conversation_id)
            )
        ).first()
        if row is None:
            raise NotFound(f"no conversation {conversation_id}")
        lines = (
            await conn.execute(
                select(
                    messages.c.role,
                    messages.c.type,
                    messages.c.text,
                    messages.c.payload,
                    messages.c.created_at,
                )
                .where(messages.c.conversation_id == conversation_id)
                .order_by(messages.c.id)
            )
        ).all()
        happened = (
            await conn.execute(
                select(events.c.kind, events.c.step, events.c.data, events.c.created_at)
                .where(events.c.conversation_id == conversation_id)
                .order_by(events.c.id)
            )
        ).all()
        escalated = (
            await conn.execute(
                select(escalations.c.id, escalations.c.reason, escalations.c.created_at)
                .where(escalations.c.conversation_id == conversation_id)
                .order_by(escalations.c.id)
            )
        ).all()
    transcript = [store.message_dict(*line) for line in lines]
    info = _with_contact(dict(row._mapping))
    state = orjson.loads(info.pop("state"))
    info["step"] = state.get("step")
    info["path"] = state.get("path", [])
    return {
        "conversation": info,
        "messages": transcript,
        "events": [dict(e._mapping) for e in happened],
        "escalations": [dict(e._mapping) for e in escalated],
        "probes": [m["probe"] for m in transcript if isinstance(m.get("probe"), dict)],
    }


def _with_contact(row: dict[str, Any]) -> dict[str, Any]:
    """The contact e-mail the customer gave (at the hand-over), from the row's customer JSON."""
    raw = row.pop("customer", None)
    customer = orjson.loads(raw) if isinstance(raw, (str, bytes)) else raw
    email = customer.get("email") if isinstance(customer, dict) else None
    row["email"] = email if isinstance(email, str) else None
    return row
