"""The web API's request and response bodies as pydantic models: what the edge sends, reads and documents."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from bot import service
from bot.channels.web.inputs import MAX_AGENT_TEXT, MAX_NAME, MAX_TEXT
from bot.engine import model as engine
from bot.engine.probing import ProbeStatus

# -- requests: parsed by inputs.parse_object (its precise errors), described by these models -----------


class _Request(BaseModel):
    # Unknown fields are refused; an optional field may be left out, but null is not documented.
    model_config = ConfigDict(extra="forbid")


class NewConversation(_Request):
    flow: str | SkipJsonSchema[None] = Field(
        None,
        max_length=MAX_NAME,
        description="The flow to start (the default flow when left out).",
        examples=["cant-send-email"],
    )


class CustomerMessage(_Request):
    """Exactly one of `text` (what the customer typed) or `choice` (the id of a choice offered)."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["text"]}, {"required": ["choice"]}]})

    text: str | SkipJsonSchema[None] = Field(None, max_length=MAX_TEXT)
    choice: str | SkipJsonSchema[None] = Field(None, max_length=MAX_NAME)


class AgentName(_Request):
    agent: str = Field(max_length=MAX_NAME, description="Agent's name.")


class AgentText(AgentName):
    text: str = Field(max_length=MAX_AGENT_TEXT)


class HandBack(AgentName):
    step: str | SkipJsonSchema[None] = Field(
        None,
        max_length=MAX_NAME,
        description="The step the bot goes on from (the flow's start when left out).",
    )


# -- responses: the service's typed results go out only through these ---------------------------------


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values; optional fields the result did not have stay out (not null)."""
        return self.model_dump(mode="json", exclude_unset=True)


class Error(_Response):
    error: str = Field(description="A short code such as not_found or too_many_requests.")
    message: str = Field(description="What was wrong and how to fix it.")


class Health(_Response):
    model_config = ConfigDict(extra="allow")  # the flows that were refused, when one was

    status: Literal["ok"]


class Probe(_Response):
    id: str
    status: ProbeStatus
    summary: str = Field(description="One plain-English sentence for the customer.")
    details: dict[str, Any] | None = Field(None, description="The evidence, when the check kept some.")


class Message(_Response):
    role: Literal["bot", "agent", "user"]
    type: Literal["text", "probe", "handoff"]
    text: str
    agent: str | None = Field(None, description="The agent's name, on an agent's message.")
    probe: Probe | None = Field(None, description="The check, on a probe message.")

    @classmethod
    def of(cls, message: engine.Message) -> Message:
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


class Choice(_Response):
    id: str
    label: str


class AwaitingChoice(_Response):
    kind: Literal["choice"]
    choices: list[Choice]


class AwaitingText(_Response):
    kind: Literal["text"]
    hint: str = Field(description="An example of a good answer (may be empty).")


Awaiting = Annotated[AwaitingChoice | AwaitingText, Field(discriminator="kind")]


def _awaiting(awaiting: engine.Awaiting | None) -> AwaitingChoice | AwaitingText | None:
    if awaiting is None:
        return None
    if awaiting.kind == "choice":
        return AwaitingChoice(
            kind="choice", choices=[Choice(id=c.id, label=c.label) for c in awaiting.choices]
        )
    return AwaitingText(kind="text", hint=awaiting.hint)


class Turn(_Response):
    """The turn object: this turn's messages, the status, and what the bot waits for now."""

    conversation: str
    status: engine.Status
    messages: list[Message]
    awaiting: Awaiting | None = Field(description="What the bot waits for now; null when nothing.")


class Started(Turn):
    """The opening turn and the conversation's secret token."""

    token: str = Field(description="Send it as 'Authorization: Bearer TOKEN' for this conversation.")


class Transcript(Turn):
    """Every message so far, the status, what the bot awaits and the agent who has it."""

    agent: str | None = Field(description="The agent who has the conversation, or null.")


class Claimed(_Response):
    conversation: str
    status: Literal["with_agent"]
    agent: str


class AgentMessage(_Response):
    conversation: str
    message: Message = Field(description="The message as the customer sees it.")


T = TypeVar("T", bound=Turn)


def _turn(body: type[T], turn: service.TurnResult, **more: Any) -> T:
    messages = [Message.of(m) for m in turn.messages]
    return body(
        conversation=turn.conversation,
        status=turn.status,
        messages=messages,
        awaiting=_awaiting(turn.awaiting),
        **more,
    )


def turn_json(turn: service.TurnResult) -> dict[str, Any]:
    return _turn(Turn, turn).to_json()


def started_json(started: service.Started) -> dict[str, Any]:
    return _turn(Started, started.turn, token=started.token).to_json()


def transcript_json(transcript: service.Transcript) -> dict[str, Any]:
    return _turn(Transcript, transcript, agent=transcript.agent).to_json()


def claimed_json(claimed: service.Claimed) -> dict[str, Any]:
    return Claimed(conversation=claimed.conversation, status="with_agent", agent=claimed.agent).to_json()


def agent_message_json(reply: service.AgentReply) -> dict[str, Any]:
    return AgentMessage(conversation=reply.conversation, message=Message.of(reply.message)).to_json()
