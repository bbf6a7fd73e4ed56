"""Human takeover: an agent claims a conversation, talks to the customer, and hands it back to the bot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.engine.model import Conversation, Message
from bot.errors import InputError
from bot.redaction import redact
from bot.service import events
from bot.service.ports import Deps
from bot.service.results import AgentReply, Claimed, TurnResult
from bot.service.retry import retry_conflicts
from bot.storage import store
from bot.storage.events import add as add_events

MAX_AGENT_NAME = 200


class Takeover:
    """The agent's side of a conversation; every change is one transaction, redone if a turn raced it."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def claim(self, conversation_id: str, agent: str) -> Claimed:
        agent = redact(agent)[:MAX_AGENT_NAME] or "An agent"
        joined = f"{agent} from our support team has joined the conversation."
        note = Message(role="bot", type="handoff", text=joined).to_json()

        def change(conv: Conversation) -> None:
            conv.status = "with_agent"

        await self._change(conversation_id, change, [note], agent=agent)
        publish = self.deps.events.publish
        await publish(conversation_id, {"type": "status", "status": "with_agent", "agent": agent})
        await publish(conversation_id, {"type": "message", "message": note})
        return Claimed(conversation_id, agent)

    async def agent_message(self, conversation_id: str, agent: str, text: str) -> AgentReply:
        if not text.strip():
            raise InputError("an agent message needs some text")
        message = Message(role="agent", text=redact(text), agent=redact(agent)[:MAX_AGENT_NAME])
        await self._change(conversation_id, None, [message.to_json()])
        await self.deps.events.publish(conversation_id, {"type": "message", "message": message.to_json()})
        return AgentReply(conversation_id, message)

    async def hand_back(self, conversation_id: str, agent: str, step: str | None = None) -> TurnResult:
        async def once() -> tuple[Conversation, TurnResult]:
            async with self.deps.driver.read() as s:
                row = await store.load(s, conversation_id)
            conv = Conversation.load(row.state)
            entered_from, previous = len(conv.path), conv.status
            turn = await self.deps.engine.resume(conv, step)
            result = TurnResult.of(turn)
            data = result.turn.to_json()
            # A customer message that lands first raises Conflict here: re-read and hand back again.
            async with self.deps.driver.write() as s:
                await store.save(
                    s, row, state=conv.dump(), status=conv.status, awaiting=data["awaiting"], agent=None
                )
                await store.add_messages(s, conversation_id, data["messages"])
                entered = conv.path[entered_from:]
                await add_events(s, events.rows(events.turn_events(conv, turn, entered, previous)))
            return conv, result

        async with self.deps.locks.hold(conversation_id):
            conv, result = await retry_conflicts(conversation_id, once)
        await self.deps.events.publish(conversation_id, {"type": "status", "status": conv.status})
        for message in result.messages:
            await self.deps.events.publish(conversation_id, {"type": "message", "message": message.to_json()})
        return result

    async def _change(
        self,
        conversation_id: str,
        change: Callable[[Conversation], None] | None,
        messages: list[dict[str, Any]],
        agent: str | bool | None = False,
    ) -> None:
        """Apply `change` to the stored state and add `messages`; `agent` False leaves the agent as is."""

        async def once() -> None:
            async with self.deps.driver.read() as s:
                row = await store.load(s, conversation_id)
            conv = Conversation.load(row.state)
            if change is not None:
                change(conv)
            async with self.deps.driver.write() as s:
                await store.save(
                    s,
                    row,
                    state=conv.dump(),
                    status=conv.status,
                    awaiting=row.awaiting,
                    agent=agent,
                    counted=False,
                )
                await store.add_messages(s, conversation_id, messages)

        async with self.deps.locks.hold(conversation_id):
            await retry_conflicts(conversation_id, once)
