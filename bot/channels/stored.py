"""The terminal session kept in the database through the service, so `supportbot chat --resume ID` goes on."""

from __future__ import annotations

from bot.bootstrap import Parts
from bot.channels.terminal import TerminalSession
from bot.engine.model import Incoming, Turn

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
            so_far = await service.transcript(self.resume)  # NotFound names the id when it isn't there
            await self._reload(self.resume)
            return so_far.turn
        started = await service.start(self.flow_id, CHANNEL)
        await self._reload(started.conversation_id)
        return started.turn.turn

    async def _answer(self, incoming: Incoming) -> Turn:
        assert self.conversation is not None, "open() first"
        result = await self.parts.service.reply(self.conversation.id, incoming)
        await self._reload(self.conversation.id)
        return result.turn

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
