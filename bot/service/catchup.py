"""What a live-event stream missed: the transcript lines stored after the last one it sent, and the status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.storage import replay
from bot.storage.driver import Driver


@dataclass(frozen=True)
class CatchUp:
    """Lines after the stream's cursor (each with its id), the new cursor, and the status now."""

    cursor: int
    lines: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    status: dict[str, Any] | None = None  # a status event, as published; None if the conversation is gone


async def catch_up(driver: Driver, conversation_id: str, after: int | None) -> CatchUp:
    """From `after` (the last line id a stream sent), or from now when None: ids come from the stored
    lines, so any process can continue a stream another process began."""
    async with driver.read() as s:
        newest = await replay.last_line(s, conversation_id)
        lines = [] if after is None else await replay.lines_after(s, conversation_id, after)
        found = await replay.status(s, conversation_id)
    for _, line in lines:
        line.pop("at", None)  # as published live
    # A cursor beyond the newest line (a made-up Last-Event-ID) would hide the lines still to come.
    cursor = lines[-1][0] if lines else min(after if after is not None else newest, newest)
    status: dict[str, Any] | None = None
    if found is not None:
        # The idle sweep's "abandoned" is for the support lead; customers see the conversation open.
        status = {"type": "status", "status": "active" if found[0] == "abandoned" else found[0]}
        if found[1]:
            status["agent"] = found[1]
    return CatchUp(cursor, lines, status)
