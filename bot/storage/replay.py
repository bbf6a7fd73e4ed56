"""Reads for live-event replay: a conversation's transcript lines after a given line id, and its status."""

from __future__ import annotations

from typing import Any

from bot.storage.driver import Session
from bot.storage.store import message_dict


async def lines_after(s: Session, conversation_id: str, after: int) -> list[tuple[int, dict[str, Any]]]:
    """Transcript lines stored after line `after`, each with its id (the event id a stream sends)."""
    rows = await s.all(
        "SELECT id, role, type, text, payload, created_at FROM messages "
        "WHERE conversation_id = $1 AND id > $2 ORDER BY id",
        conversation_id,
        after,
    )
    return [(int(r[0]), message_dict(*r[1:])) for r in rows]


async def last_line(s: Session, conversation_id: str) -> int:
    """The id of the conversation's newest transcript line; 0 when it has none."""
    found = await s.one("SELECT MAX(id) FROM messages WHERE conversation_id = $1", conversation_id)
    return int(found[0]) if found is not None and found[0] is not None else 0


async def status(s: Session, conversation_id: str) -> tuple[str, str | None] | None:
    """The conversation's status and agent; None when there is no such conversation."""
    found = await s.one("SELECT status, agent FROM conversations WHERE id = $1", conversation_id)
    return None if found is None else (str(found[0]), found[1])
