"""ConversationService: the one object channels call: customers' turns, agent takeover and lookups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from bot.engine.engine import Engine
from bot.engine.model import Conversation, Status, Turn
from bot.errors import Duplicate
from bot.hours import OfficeHours
from bot.service import records
from bot.service.catchup import CatchUp, catch_up
from bot.service.ports import REPEAT_WINDOW, Bus, Deps, EscalationGate
from bot.service.results import Transcript
from bot.service.takeover import Takeover
from bot.service.tokens import TokenCheck
from bot.service.turns import CustomerTurns
from bot.storage import store
from bot.storage.driver import Driver


class ConversationService(CustomerTurns, Takeover):
    """Loads, runs and saves conversations; channels translate, this decides what is stored and sent.

    Customers' turns (start, reply) come from CustomerTurns, an agent's (claim, agent_message,
    hand_back) from Takeover; both share one Deps, so they share this process's turn locks.
    """

    def __init__(
        self,
        driver: Driver,
        engine: Engine,
        events: Bus,
        sinks: Sequence[str] = (),
        hours: OfficeHours | None = None,
        gate: EscalationGate | None = None,
        repeat_window: float = REPEAT_WINDOW,
    ) -> None:
        deps = Deps(driver, engine, events, list(sinks), hours=hours, gate=gate, repeat_window=repeat_window)
        CustomerTurns.__init__(self, deps, TokenCheck(driver))
        Takeover.__init__(self, deps)

    @property
    def driver(self) -> Driver:
        return self.deps.driver

    @property
    def engine(self) -> Engine:
        return self.deps.engine

    @property
    def events(self) -> Bus:
        return self.deps.events

    @property
    def hours(self) -> OfficeHours | None:
        return self.deps.hours

    @property
    def sinks(self) -> list[str]:
        return self.deps.sinks

    async def check_token(self, conversation_id: str, token: str) -> bool:
        return await self.tokens.check(conversation_id, token)

    # -- lookups ---------------------------------------------------------------------------------

    async def state(self, conversation_id: str) -> Conversation:
        """The engine state as stored now (NotFound when there is no such conversation)."""
        async with self.driver.read() as s:
            return Conversation.load((await store.load(s, conversation_id)).state)

    async def transcript(self, conversation_id: str) -> Transcript:
        async with self.driver.read() as s:
            row = await store.load(s, conversation_id)
            messages = await store.transcript(s, conversation_id)
        # The idle sweep's "abandoned" is for the support lead; customers see the conversation open.
        status = "active" if row.status == "abandoned" else row.status
        shown = tuple(records.message_of(m) for m in messages)
        so_far = Turn(conversation_id, cast(Status, status), shown, records.awaiting_of(row.awaiting))
        return Transcript(so_far, agent=row.agent)

    async def catch_up(self, conversation_id: str, after: int | None) -> CatchUp:
        """What a live-event stream missed after transcript line `after` (None: nothing yet)."""
        return await catch_up(self.driver, conversation_id, after)

    async def find_by_thread(self, channel: str, thread_key: str) -> str | None:
        async with self.driver.read() as s:
            return await store.find_by_thread(s, channel, thread_key)

    async def seen_event(self, key: str) -> bool:
        """True when this event key was processed before (Slack retries); records it otherwise."""
        try:
            async with self.driver.write() as s:
                await store.record_key(s, key)
        except Duplicate:
            return True
        return False
