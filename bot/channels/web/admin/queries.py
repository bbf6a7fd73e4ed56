"""The admin pages' reads: a filtered page of conversations, and one conversation with its events."""

from __future__ import annotations

from typing import Any

import orjson

from bot.storage import store, views
from bot.storage.driver import Driver
from bot.storage.views import Filters


async def page(
    driver: Driver, filters: Filters, limit: int = 50, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """How many conversations match, and one page of them, newest first."""
    total, rows = await views.page(driver, filters, limit, offset)
    return total, [_with_contact(row) for row in rows]


async def conversation(driver: Driver, conversation_id: str) -> dict[str, Any]:
    """One conversation: its row, current step, transcript (already redacted), events and escalations."""
    found = await views.conversation(driver, conversation_id)
    transcript = [store.message_dict(*line) for line in found.lines]
    info = _with_contact(dict(found.row))
    state = orjson.loads(info.pop("state"))
    info["step"] = state.get("step")
    info["path"] = state.get("path", [])
    return {
        "conversation": info,
        "messages": transcript,
        "events": found.events,
        "escalations": found.escalations,
        "probes": [m["probe"] for m in transcript if isinstance(m.get("probe"), dict)],
    }


def _with_contact(row: dict[str, Any]) -> dict[str, Any]:
    """The contact e-mail the customer gave (at the hand-over), from the row's customer JSON."""
    customer = row.pop("customer", None)
    email = customer.get("email") if isinstance(customer, dict) else None
    row["email"] = email if isinstance(email, str) else None
    return row
