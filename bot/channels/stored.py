"""The terminal session kept in the database through the service, so `supportbot chat --resume ID` goes on."""

from __future__ import annotations

from typing import Any

from bot.bootstrap import Parts
from bot.channels.terminal import TerminalSession
from bot.engine.model import Awaiting, Choice, Incoming, Message, ProbeView, Turn

CHANNEL = "terminal"


class StoredSession(TerminalSession):
    """Like TerminalSession, but every turn goes through ConversationService (stored, redacted)."""

    def __init__(self, parts: Parts, flow_id: str | None = None, resume: str | None = None) -> None:
        super().__init__(parts.engine, flow_id, sinks=list(parts.sinks))
        self.parts = parts
        self.resume = resume

    async def open(self) -> Turn:
        service = self.parts.service
        if self.resume:
            data = await service.transcript(self.resume)  # NotFound names the id when it isn't there
            conversation_id = self.resume
        else:
            started = await service.start(self.flow_id, CHANNEL)
            data, conversation_id = started.turn, started.conversation_id
        await self._reload(conversation_id)
        return turn_from_json(data)

    async def _answer(self, incoming: Incoming) -> Turn:
        assert self.conversation is not None, "open() first"
        data = await self.parts.service.reply(self.conversation.id, incoming)
        await self._reload(self.conversation.id)
        return turn_from_json(data)

    def handover_notice(self) -> str:
        """The service stored the hand-over and queued one delivery per configured sink."""
        saved = self.conversation.id if self.conversation else "the conversation"
        if self.sinks:
            return (
                f"(Saved as {saved}; the hand-over is queued for {', '.join(self.sinks)}, "
                "and `supportbot worker` delivers it.)"
            )
        return (
            f"(Saved as {saved}, but no escalation sink is set up, so this hand-over is only stored, "
            "not sent to anyone. Set SUPPORTBOT_ESCALATION_WEBHOOK_URL, e-mail or Slack to deliver hand-overs.)"
        )

    async def _reload(self, conversation_id: str) -> None:
        self.conversation = await self.parts.service.state(conversation_id)


def turn_from_json(data: dict[str, Any]) -> Turn:
    """A public turn object (as the service returns it, `Turn.to_json()`) back into the engine's Turn."""
    messages = []
    for m in data.get("messages", ()):
        probe = m.get("probe")
        view = (
            ProbeView(probe["id"], probe["status"], probe["summary"], probe.get("details")) if probe else None
        )
        role = m.get("role", "bot")
        messages.append(Message(role=role, text=m.get("text", ""), type=m.get("type", "text"), probe=view))
    raw = data.get("awaiting")
    awaiting = None
    if raw:
        choices = tuple(Choice(c["id"], c["label"]) for c in raw.get("choices", ()))
        awaiting = Awaiting(kind=raw["kind"], choices=choices, hint=raw.get("hint", ""))
    return Turn(
        conversation=data["conversation"],
        status=data["status"],
        messages=tuple(messages),
        awaiting=awaiting,
    )
