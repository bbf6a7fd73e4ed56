"""Closes conversations nobody answered for a while as abandoned; a later reply reopens them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson

from bot.analytics.kinds import EventKind
from bot.storage import events, store
from bot.storage.database import now
from bot.storage.driver import Driver

log = logging.getLogger(__name__)
ABANDONED = "abandoned"  # the conversation's status while closed; its event is EventKind.ABANDONED
SWEEP_EVERY = 60.0  # seconds between sweeps in a long-running process


async def sweep(driver: Driver, idle_minutes: float, at: float | None = None) -> int:
    """Mark active conversations idle for longer than `idle_minutes` as abandoned; returns how many.

    Only `active` conversations count: one with an agent is the agent's to close, and a finished one
    is not waiting for the customer. The engine state is left as it was, so the next customer turn
    continues where they left off (the service records a `resumed` event and the status comes back).
    """
    t = now() if at is None else at
    closed = []
    async with driver.write() as s:
        for found in await store.idle(s, t - idle_minutes * 60.0):
            if await store.close_idle(s, found, ABANDONED):
                closed.append(found)
        await events.add(
            s,
            [
                {
                    "conversation_id": found.id,
                    "flow_id": found.flow_id,
                    "flow_version": found.flow_version,
                    "kind": EventKind.ABANDONED.value,
                    "step": _step(found.state),
                    "data": {"idle_minutes": idle_minutes},
                }
                for found in closed
            ],
            at=t,
        )
    if closed:
        log.info("closed %d idle conversation(s) as abandoned", len(closed))
    return len(closed)


def _step(state: bytes) -> str | None:
    try:
        data: Any = orjson.loads(state)
    except orjson.JSONDecodeError:
        return None
    step = data.get("step") if isinstance(data, dict) else None
    return step if isinstance(step, str) and step else None


async def sweep_forever(driver: Driver, idle_minutes: float, every: float = SWEEP_EVERY) -> None:
    """Sweep every `every` seconds until cancelled; an error is logged and the next sweep tries again."""
    while True:
        # Wait first: a process that just started has nothing new to close and should not write yet.
        await asyncio.sleep(every)
        try:
            await sweep(driver, idle_minutes)
        except Exception:
            log.exception("abandonment sweep failed; trying again in %.0f s", every)
