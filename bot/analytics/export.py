"""JSON Lines for a warehouse: one line per conversation with its redacted transcript and its events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from bot.storage import views
from bot.storage.driver import Driver
from bot.storage.views import Filters

BATCH = 200  # conversations per read, so a large export never holds the whole database in memory


async def records(driver: Driver, filters: Filters) -> AsyncIterator[dict[str, Any]]:
    """Conversations the filters select, oldest first, each with `messages` and `events`.

    The customer's identity and the token hash are left out: a warehouse needs neither, and the
    transcript was redacted when it was stored.
    """
    offset = 0
    while True:
        batch = await views.export_batch(driver, filters, BATCH, offset)
        if not batch.conversations:
            return
        said: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for m in batch.lines:
            item: dict[str, Any] = {"role": m["role"], "type": m["type"], "text": m["text"]}
            item.update(m["payload"] or {})
            item["at"] = m["created_at"]
            said[m["conversation_id"]].append(item)
        happened: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in batch.events:
            happened[e["conversation_id"]].append(
                {"kind": e["kind"], "step": e["step"], "data": e["data"], "at": e["created_at"]}
            )
        for r in batch.conversations:
            yield {
                "conversation": r["id"],
                "flow": r["flow_id"],
                "flow_version": r["flow_version"],
                "channel": r["channel"],
                "status": r["status"],
                "domain": r["domain"],
                "turns": r["turns"],
                "created_at": r["created_at"],
                "updated_at": r["updated_at"],
                "messages": said.get(r["id"], []),
                "events": happened.get(r["id"], []),
            }
        offset += len(batch.conversations)
