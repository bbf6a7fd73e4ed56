"""Analytics events' writes: each turn's, and the idle sweep's (reads are in bot/storage/views.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from bot.storage.database import now
from bot.storage.driver import Session


async def add(s: Session, items: Sequence[dict[str, Any]], at: float | None = None) -> None:
    """Events as dicts (conversation_id, flow_id, flow_version, kind, step, data), stamped `at` (now)."""
    if not items:
        return
    t = now() if at is None else at
    await s.many(
        "INSERT INTO events (conversation_id, flow_id, flow_version, kind, step, data, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            (
                i["conversation_id"],
                i["flow_id"],
                i["flow_version"],
                i["kind"],
                i["step"],
                None if i["data"] is None else orjson.dumps(i["data"]).decode(),
                t,
            )
            for i in items
        ],
    )
