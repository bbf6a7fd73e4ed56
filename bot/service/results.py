"""What the service answers: typed results that channels serialise at their edge (JSON, JSONL, Slack blocks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.engine.model import Awaiting, Message, Status, Turn


@dataclass(frozen=True)
class TurnResult:
    """One turn as the customer sees it: the public part of the engine's Turn.

    `replayed` marks an answer given again for a retried idempotency key; it does not take part in
    equality, so a retry's result equals the first one.
    """

    turn: Turn
    replayed: bool = field(default=False, compare=False)

    @classmethod
    def of(
        cls, turn: Turn, *, before: tuple[Message, ...] = (), after: tuple[Message, ...] = ()
    ) -> TurnResult:
        """Only what the turn object shows (no step, escalation or misses), with the service's own
        messages `before` and `after` the bot's."""
        shown = Turn(turn.conversation, turn.status, (*before, *turn.messages, *after), turn.awaiting)
        return cls(shown)

    @property
    def conversation(self) -> str:
        return self.turn.conversation

    @property
    def status(self) -> Status:
        return self.turn.status

    @property
    def messages(self) -> tuple[Message, ...]:
        return self.turn.messages

    @property
    def awaiting(self) -> Awaiting | None:
        return self.turn.awaiting


@dataclass(frozen=True)
class Started:
    """A new conversation: its id, the secret token its customer uses, and the opening turn."""

    conversation_id: str
    token: str
    turn: TurnResult


@dataclass(frozen=True)
class Transcript(TurnResult):
    """Every message so far as one turn (with the status the customer sees), and the agent who has it."""

    agent: str | None = None


@dataclass(frozen=True)
class Claimed:
    """An agent took the conversation over (the name as stored: redacted and cut to length)."""

    conversation: str
    agent: str
    status: Status = "with_agent"


@dataclass(frozen=True)
class AgentReply:
    """An agent's message as the customer sees it."""

    conversation: str
    message: Message
