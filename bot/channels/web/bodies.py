"""The web API's response bodies as pydantic models: the JSON the edge sends and the schemas it documents."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from bot.engine.model import Awaiting, Message, Status
from bot.engine.probing import ProbeStatus
from bot.service import AgentReply, Claimed, Started, Transcript, TurnResult

T = TypeVar("T", bound="TurnOut")


class _Body(BaseModel):
    # Optional fields the service left out stay out of the JSON (dumped with exclude_unset).
    model_config = ConfigDict(frozen=True)

    def to_json(self) -> dict[str, Any]:
        """The body as plain JSON values, without the optional fields that were not given."""
        return self.model_dump(mode="json", exclude_unset=True)


class Error(_Body):
    error: str = Field(description="A short code such as not_found or too_many_requests.")
    message: str = Field(description="What was wrong and how to fix it.")


class Probe(_Body):
    id: str
    status: ProbeStatus
    summary: str = Field(description="One plain-English sentence for the customer.")
    details: dict[str, Any] | None = Field(None, description="The evidence, when the check kept some.")


class MessageOut(_Body):
    role: Literal["bot", "agent", "user"]
    type: Literal["text", "probe", "handoff"]
    text: str
    agent: str | None = Field(None, description="The agent's name, on an agent's message.")
    probe: Probe | None = Field(None, description="The check, on a probe message.")

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        given: dict[str, Any] = {"role": message.role, "type": message.type, "text": message.text}
        if message.agent is not None:
            given["agent"] = message.agent
        if message.probe is not None:
            p = message.probe
            probe: dict[str, Any] = {"id": p.id, "status": p.status, "summary": p.summary}
            if p.details is not None:
                probe["details"] = p.details
            given["probe"] = Probe(**probe)
        return cls(**given)


class ChoiceOut(_Body):
    id: str
    label: str


class AwaitingChoice(_Body):
    kind: Literal["choice"]
    choices: list[ChoiceOut]


class AwaitingText(_Body):
    kind: Literal["text"]
    hint: str = Field(description="An example of a good answer (may be empty).")


AwaitingOut = Annotated[AwaitingChoice | AwaitingText, Field(discriminator="kind")]


def awaiting_of(awaiting: Awaiting | None) -> AwaitingChoice | AwaitingText | None:
    if awaiting is None:
        return None
    if awaiting.kind == "choice":
        return AwaitingChoice(
            kind="choice", choices=[ChoiceOut(id=c.id, label=c.label) for c in awaiting.choices]
        )
    return AwaitingText(kind="text", hint=awaiting.hint)


class TurnOut(_Body):
    """The turn object: this turn's messages, the status, and what the bot waits for now (or null)."""

    conversation: str
    status: Status
    messages: list[MessageOut]
    awaiting: AwaitingOut | None = Field(description="What the bot waits for now; null when nothing.")


class StartedOut(TurnOut):
    """The opening turn and the conversation's secret token."""

    token: str = Field(description="Send it as 'Authorization: Bearer TOKEN' on this conversation.")


class TranscriptOut(TurnOut):
    """Every message so far, the status, what the bot awaits and the agent who has it (or null)."""

    agent: str | None = Field(description="The agent who has the conversation, or null.")


class ClaimedOut(_Body):
    conversation: str
    status: Literal["with_agent"]
    agent: str


class AgentMessageOut(_Body):
    conversation: str
    message: MessageOut = Field(description="The message as the customer sees it.")


# The service's typed results through the models above: the only place the web API's JSON is made.


def turn_json(turn: TurnResult) -> dict[str, Any]:
    return _turn(TurnOut, turn).to_json()


def started_json(started: Started) -> dict[str, Any]:
    return _turn(StartedOut, started.turn, token=started.token).to_json()


def transcript_json(transcript: Transcript) -> dict[str, Any]:
    return _turn(TranscriptOut, transcript, agent=transcript.agent).to_json()


def claimed_json(claimed: Claimed) -> dict[str, Any]:
    return ClaimedOut(conversation=claimed.conversation, status="with_agent", agent=claimed.agent).to_json()


def agent_message_json(reply: AgentReply) -> dict[str, Any]:
    return AgentMessageOut(conversation=reply.conversation, message=MessageOut.of(reply.message)).to_json()


def _turn(model: type[T], turn: TurnResult, **more: Any) -> T:
    messages = [MessageOut.of(m) for m in turn.messages]
    awaiting = awaiting_of(turn.awaiting)
    return model(
        conversation=turn.conversation, status=turn.status, messages=messages, awaiting=awaiting, **more
    )
