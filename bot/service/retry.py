"""One way to redo a turn that lost a race: retry on Conflict a few times, then say the conversation is busy."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.errors import Conflict

T = TypeVar("T")
MAX_RETRIES = 5
PAUSE = 0.01  # seconds: long enough for the other writer's commit, short enough not to be noticed


async def retry_conflicts(conversation_id: str, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run `attempt` until it does not raise Conflict (which Duplicate is), at most MAX_RETRIES times.

    Each attempt re-reads the conversation, so a turn that lost to another process's turn is redone on
    the state that won, never applied to a stale one.
    """
    for _attempt in range(MAX_RETRIES):
        try:
            return await attempt()
        except Conflict:
            await asyncio.sleep(PAUSE)
    raise Conflict(f"conversation {conversation_id} is busy; try again")
