"""What the service's parts share: the live-event bus port and the dependencies they are built on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.engine.engine import Engine
from bot.hours import OfficeHours
from bot.service.locks import TurnLocks
from bot.storage.driver import Driver


class Bus(Protocol):
    """Live events of a conversation (agent replies, probe progress), across processes when shared."""

    def subscribe(
        self, conversation_id: str, ready: asyncio.Event | None = None
    ) -> AsyncIterator[dict[str, Any]]: ...

    async def publish(self, conversation_id: str, event: dict[str, Any]) -> None: ...

    def watch(self, observer: Callable[[str, dict[str, Any]], Awaitable[None]]) -> Callable[[], None]:
        """Also hand every event this process publishes to `observer`; returns what stops that."""
        ...


class EscalationGate(Protocol):
    """The budget of new escalations per client address, shared by every process where it can be."""

    async def admit(self, address: str) -> bool:
        """Count a new escalation from `address`: True while within its budget."""
        ...


REPEAT_WINDOW = 3600.0  # seconds in which a conversation's new escalations join its last one


@dataclass
class Deps:
    """The storage, engine, bus and sinks every part of the service uses, and this process's locks."""

    driver: Driver
    engine: Engine
    events: Bus
    sinks: list[str] = field(default_factory=list)
    locks: TurnLocks = field(default_factory=TurnLocks)
    hours: OfficeHours | None = None  # a hand-over says when a person answers
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    gate: EscalationGate | None = None  # None: no per-address budget (one trusted user, tests)
    repeat_window: float = REPEAT_WINDOW
