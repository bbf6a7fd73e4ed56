"""This process's per-conversation turn locks, kept only while someone holds or awaits one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class _TurnLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class TurnLocks:
    """Turns of one conversation in this process wait for each other; across processes the
    lock_version check (store.save) turns a race into a retry, never a lost or mixed turn."""

    def __init__(self) -> None:
        self._locks: dict[str, _TurnLock] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        """The lock for one conversation, dropped when nobody holds or awaits it (no leak of one lock
        per conversation ever seen: a soak grew ~1 KB per conversation before)."""
        held = self._locks.get(conversation_id)
        if held is None:
            held = self._locks[conversation_id] = _TurnLock()
        held.users += 1
        try:
            async with held.lock:
                yield
        finally:
            held.users -= 1
            if held.users == 0:
                del self._locks[conversation_id]
