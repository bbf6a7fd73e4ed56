"""Tickets and extra session tokens into a conversation, and the customer's contact on its row."""

from __future__ import annotations

from typing import Any

import orjson

from bot.errors import NotFound
from bot.storage.database import now
from bot.storage.driver import Session
from bot.storage.store import token_hash


async def add(s: Session, conversation_id: str, token: str, kind: str, ttl_seconds: float) -> None:
    t = now()
    await s.run(
        "INSERT INTO access_tokens (token_hash, conversation_id, kind, expires_at, used_at, created_at) "
        "VALUES ($1, $2, $3, $4, NULL, $5)",
        token_hash(token),
        conversation_id,
        kind,
        t + ttl_seconds,
        t,
    )


async def spend_ticket(s: Session, ticket: str) -> str | None:
    """The conversation a live, unspent ticket opens, marking it spent in the same statement (so two
    clicks racing on two processes cannot both win); None for an unknown, spent or expired ticket."""
    t = now()
    found = await s.one(
        "UPDATE access_tokens SET used_at = $2 WHERE token_hash = $1 AND kind = 'ticket' "
        "AND used_at IS NULL AND expires_at > $2 RETURNING conversation_id",
        token_hash(ticket),
        t,
    )
    return None if found is None else str(found[0])


async def session_valid(s: Session, conversation_id: str, hashed: str) -> bool:
    found = await s.one(
        "SELECT 1 FROM access_tokens WHERE token_hash = $1 AND conversation_id = $2 "
        "AND kind = 'session' AND expires_at > $3",
        hashed,
        conversation_id,
        now(),
    )
    return found is not None


async def customer(s: Session, conversation_id: str) -> dict[str, Any]:
    found = await s.one("SELECT customer FROM conversations WHERE id = $1", conversation_id)
    if found is None:
        raise NotFound(f"no conversation {conversation_id}")
    value = orjson.loads(found[0]) if found[0] else {}
    return dict(value) if isinstance(value, dict) else {}


async def set_customer(s: Session, conversation_id: str, value: dict[str, Any]) -> None:
    # The turn's optimistic lock (lock_version) is left alone: turns never write `customer`.
    await s.run(
        "UPDATE conversations SET customer = $2 WHERE id = $1", conversation_id, orjson.dumps(value).decode()
    )


async def set_packet_customer(s: Session, conversation_id: str, value: dict[str, Any]) -> None:
    """The customer block of this conversation's stored hand-over packets, so deliveries still
    waiting in the outbox (and the agent views reading packets) carry a contact given afterwards."""
    rows = await s.all("SELECT id, packet FROM escalations WHERE conversation_id = $1", conversation_id)
    for escalation_id, raw in rows:
        packet = orjson.loads(raw) if isinstance(raw, (str, bytes)) else dict(raw)
        packet["customer"] = value
        await s.run(
            "UPDATE escalations SET packet = $2 WHERE id = $1", escalation_id, orjson.dumps(packet).decode()
        )
