"""Reads and writes of conversations, transcripts, turns and events; each turn commits as one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import Conflict, NotFound
from bot.storage.database import now
from bot.storage.schema import conversations, escalations, events, messages, processed_events, turns


def token_hash(token: str) -> str:
    # Only the hash is stored: a database dump does not let anyone post into a conversation.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Row:
    """A conversation row as the service needs it."""

    id: str
    state: bytes
    status: str
    channel: str
    customer: dict[str, Any]
    token_hash: str
    lock_version: int
    awaiting: dict[str, Any] | None
    agent: str | None


_ROW_COLUMNS = (
    conversations.c.id,
    conversations.c.state,
    conversations.c.status,
    conversations.c.channel,
    conversations.c.customer,
    conversations.c.token_hash,
    conversations.c.lock_version,
    conversations.c.awaiting,
    conversations.c.agent,
)


async def load(conn: AsyncConnection, conversation_id: str, *, lock: bool = False) -> Row:
    """The conversation's row; `lock` holds it (SELECT … FOR UPDATE) until the transaction ends."""
    query = select(*_ROW_COLUMNS).where(conversations.c.id == conversation_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"no conversation {conversation_id}")
    return Row(**row._mapping)


async def insert_conversation(
    conn: AsyncConnection,
    *,
    conversation_id: str,
    flow_id: str,
    flow_version: str,
    channel: str,
    thread_key: str | None,
    status: str,
    token: str,
    customer: dict[str, Any],
    state: bytes,
    awaiting: dict[str, Any] | None,
) -> None:
    t = now()
    await conn.execute(
        conversations.insert().values(
            id=conversation_id,
            flow_id=flow_id,
            flow_version=flow_version,
            channel=channel,
            thread_key=thread_key,
            status=status,
            token_hash=token_hash(token),
            customer=customer,
            state=state,
            awaiting=awaiting,
            lock_version=0,
            turns=0,
            created_at=t,
            updated_at=t,
        )
    )


async def save(
    conn: AsyncConnection,
    row: Row,
    *,
    state: bytes,
    status: str,
    awaiting: dict[str, Any] | None,
    domain: str | None = None,
    agent: str | bool | None = False,
    counted: bool = True,
) -> None:
    """Write the new state only if nobody else did since we read it (else Conflict: retry the turn)."""
    values: dict[str, Any] = {
        "state": state,
        "status": status,
        "awaiting": awaiting,
        "lock_version": row.lock_version + 1,
        "updated_at": now(),
    }
    if counted:
        values["turns"] = conversations.c.turns + 1
    if domain:
        values["domain"] = domain[:255]
    if agent is not False:
        values["agent"] = agent
    result = await conn.execute(
        update(conversations)
        .where(and_(conversations.c.id == row.id, conversations.c.lock_version == row.lock_version))
        .values(**values)
    )
    if result.rowcount != 1:
        raise Conflict(f"conversation {row.id} changed while this turn ran")


async def add_messages(conn: AsyncConnection, conversation_id: str, items: Sequence[dict[str, Any]]) -> None:
    if not items:
        return
    t = now()
    await conn.execute(
        insert(messages),
        [
            {
                "conversation_id": conversation_id,
                "role": m["role"],
                "type": m.get("type", "text"),
                "text": m.get("text", ""),
                "payload": {k: v for k, v in m.items() if k not in ("role", "type", "text")} or None,
                "created_at": t,
            }
            for m in items
        ],
    )


async def transcript(conn: AsyncConnection, conversation_id: str) -> list[dict[str, Any]]:
    rows = (
        await conn.execute(
            select(
                messages.c.role, messages.c.type, messages.c.text, messages.c.payload, messages.c.created_at
            )
            .where(messages.c.conversation_id == conversation_id)
            .order_by(messages.c.id)
        )
    ).all()
    out = []
    for r in rows:
        item: dict[str, Any] = {"role": r.role, "type": r.type, "text": r.text}
        if r.payload:
            item.update(r.payload)
        item["at"] = r.created_at
        out.append(item)
    return out


async def stored_turn(conn: AsyncConnection, conversation_id: str, key: str) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            select(turns.c.response).where(
                and_(turns.c.conversation_id == conversation_id, turns.c.idempotency_key == key)
            )
        )
    ).first()
    return dict(row.response) if row is not None else None


async def remember_turn(
    conn: AsyncConnection, conversation_id: str, key: str, response: dict[str, Any]
) -> None:
    await conn.execute(
        turns.insert().values(
            conversation_id=conversation_id, idempotency_key=key[:200], response=response, created_at=now()
        )
    )


async def add_escalation(
    conn: AsyncConnection, conversation_id: str, reason: str, packet: dict[str, Any]
) -> int:
    result = await conn.execute(
        escalations.insert().values(
            conversation_id=conversation_id, reason=reason, packet=packet, created_at=now()
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def add_events(conn: AsyncConnection, items: Sequence[dict[str, Any]]) -> None:
    if items:
        t = now()
        await conn.execute(insert(events), [{"created_at": t, **item} for item in items])


async def find_by_thread(engine: AsyncEngine, channel: str, thread_key: str) -> str | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(conversations.c.id).where(
                    and_(conversations.c.channel == channel, conversations.c.thread_key == thread_key)
                )
            )
        ).first()
    return str(row[0]) if row is not None else None


async def first_time(engine: AsyncEngine, key: str) -> bool:
    """Record `key`; False when it was recorded before (the unique key decides, not a prior read)."""
    try:
        async with engine.begin() as conn:
            await conn.execute(processed_events.insert().values(key=key[:200], created_at=now()))
    except IntegrityError:
        return False
    return True
