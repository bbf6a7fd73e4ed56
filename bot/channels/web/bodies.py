"""The web API's request and response bodies as typed dicts: what the edge reads, sends and documents.

TypedDicts rather than pydantic models: a body is built as a plain dict that mypy checks against its
type (an optional key is left out, never sent as null), so a turn costs no model building, and pydantic
still generates the JSON Schema of each (bot.channels.web.openapi).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired, cast

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict

from bot import hours as office
from bot import service
from bot.channels.web.inputs import MAX_AGENT_TEXT, MAX_NAME, MAX_TEXT
from bot.engine import model as engine
from bot.engine.probing import ProbeStatus

STRICT = ConfigDict(extra="forbid")  # unknown fields in a request are refused

# -- requests: parsed by inputs.parse_object (its precise errors), limits read from here ---------------


@with_config(STRICT)
class NewConversation(TypedDict):
    flow: NotRequired[
        Annotated[
            str,
            Field(
                max_length=MAX_NAME,
                description="The flow to start (the default flow when left out).",
                examples=["cant-send-email"],
            ),
        ]
    ]


@with_config(
    ConfigDict(
        extra="forbid", json_schema_extra={"oneOf": [{"required": ["text"]}, {"required": ["choice"]}]}
    )
)
class CustomerMessage(TypedDict):
    """Exactly one of `text` (what the customer typed) or `choice` (the id of a choice offered)."""

    text: NotRequired[Annotated[str, Field(max_length=MAX_TEXT)]]
    choice: NotRequired[Annotated[str, Field(max_length=MAX_NAME)]]


@with_config(STRICT)
class AgentName(TypedDict):
    agent: Annotated[str, Field(max_length=MAX_NAME, description="Agent's name.")]


@with_config(STRICT)
class AgentText(AgentName):
    text: Annotated[str, Field(max_length=MAX_AGENT_TEXT)]


@with_config(STRICT)
class HandBack(AgentName):
    step: NotRequired[
        Annotated[
            str,
            Field(
                max_length=MAX_NAME,
                description="The step the bot goes on from (the flow's start when left out).",
            ),
        ]
    ]


MAX_EMAIL = 300


@with_config(STRICT)
class Contact(TypedDict):
    email: Annotated[str, Field(max_length=MAX_EMAIL, description="Where replies go once they have left.")]


@with_config(STRICT)
class Ticket(TypedDict):
    ticket: Annotated[
        str, Field(max_length=MAX_NAME, description="The single-use ticket from an e-mail's link.")
    ]


# -- responses: the service's typed results go out only through these ---------------------------------


class Error(TypedDict):
    error: Annotated[str, Field(description="A short code such as not_found or too_many_requests.")]
    message: Annotated[str, Field(description="What was wrong and how to fix it.")]


class OfficeHours(TypedDict):
    """SUPPORTBOT_OFFICE_HOURS as the bot reads it, and where now stands in it."""

    hours: Annotated[str, Field(description="The setting, e.g. Mon-Fri 09:00-17:00.")]
    timezone: Annotated[str, Field(description="IANA name the hours are in.")]
    open_now: bool
    next_open: Annotated[str, Field(description="ISO 8601 time people are next at work.")]
    reply_minutes: Annotated[int | None, Field(description="SUPPORTBOT_REPLY_TIME in minutes, if set.")]


class RateLimitStore(TypedDict):
    store: Literal["memory", "redis"]
    shared: Annotated[bool, Field(description="True while every process draws on one budget (Redis).")]
    error: NotRequired[Annotated[str, Field(description="Why Redis is not used at the moment.")]]


class Health(TypedDict):
    """`ok`, and the flows that were refused when one was (the last good version keeps serving)."""

    status: Literal["ok"]
    rate_limits: RateLimitStore
    office_hours: Annotated[OfficeHours | None, Field(description="Null when no office hours are set.")]


class Probe(TypedDict):
    id: str
    status: ProbeStatus
    summary: Annotated[str, Field(description="One plain-English sentence for the customer.")]
    details: NotRequired[Annotated[dict[str, Any], Field(description="The evidence the check kept.")]]


class Message(TypedDict):
    role: Literal["bot", "agent", "user"]
    type: Literal["text", "probe", "handoff"]
    text: str
    agent: NotRequired[Annotated[str, Field(description="The agent's name, on an agent's message.")]]
    probe: NotRequired[Annotated[Probe, Field(description="The check, on a probe message.")]]


class Choice(TypedDict):
    id: str
    label: str


class AwaitingChoice(TypedDict):
    kind: Literal["choice"]
    choices: list[Choice]


class AwaitingText(TypedDict):
    kind: Literal["text"]
    hint: Annotated[str, Field(description="An example of a good answer (may be empty).")]


Awaiting = Annotated[AwaitingChoice | AwaitingText, Field(discriminator="kind")]


class Turn(TypedDict):
    """The turn object: this turn's messages, the status, and what the bot waits for now."""

    conversation: str
    status: engine.Status
    messages: list[Message]
    awaiting: Annotated[Awaiting | None, Field(description="What the bot waits for now; null when nothing.")]


class Started(Turn):
    """The opening turn and the conversation's secret token."""

    token: Annotated[
        str, Field(description="Send it as 'Authorization: Bearer TOKEN' for this conversation.")
    ]


class Transcript(Turn):
    """Every message so far, the status, what the bot awaits and the agent who has it."""

    agent: Annotated[str | None, Field(description="The agent who has the conversation, or null.")]


class Resumed(Transcript):
    """The transcript so far, with a new token for this browser."""

    token: str


class ContactSaved(TypedDict):
    conversation: str
    email: str


class TranscriptSent(TypedDict):
    conversation: str
    sent_to: str


class Inbound(TypedDict):
    status: Literal["added", "duplicate"]
    conversation: NotRequired[str]


class WidgetConfig(TypedDict):
    allowed: bool
    mail: Annotated[bool, Field(description="Whether e-mail (contact, transcript, replies) is set up.")]
    message: NotRequired[Annotated[str, Field(description="Why this page's origin may not embed it.")]]
    hours: NotRequired[Annotated[OfficeHours, Field(description="Office hours, when they are set.")]]


class Claimed(TypedDict):
    conversation: str
    status: Literal["with_agent"]
    agent: str
    email: Annotated[
        str | None,
        Field(description="The customer's contact e-mail, if given: replies can reach them there."),
    ]


class AgentMessage(TypedDict):
    conversation: str
    message: Annotated[Message, Field(description="The message as the customer sees it.")]


def message_of(message: engine.Message) -> Message:
    out: Message = {"role": message.role, "type": message.type, "text": message.text}
    if message.agent is not None:
        out["agent"] = message.agent
    if message.probe is not None:
        p = message.probe
        # The engine writes only the five statuses; ProbeView keeps the text it was read back with.
        probe: Probe = {"id": p.id, "status": cast(ProbeStatus, p.status), "summary": p.summary}
        if p.details is not None:
            probe["details"] = p.details
        out["probe"] = probe
    return out


def awaiting_of(awaiting: engine.Awaiting | None) -> AwaitingChoice | AwaitingText | None:
    if awaiting is None:
        return None
    if awaiting.kind == "choice":
        return {"kind": "choice", "choices": [{"id": c.id, "label": c.label} for c in awaiting.choices]}
    return {"kind": "text", "hint": awaiting.hint}


def turn_body(turn: service.TurnResult) -> Turn:
    return {
        "conversation": turn.conversation,
        "status": turn.status,
        "messages": [message_of(m) for m in turn.messages],
        "awaiting": awaiting_of(turn.awaiting),
    }


def started_body(started: service.Started) -> Started:
    return {**turn_body(started.turn), "token": started.token}


def transcript_body(transcript: service.Transcript) -> Transcript:
    return {**turn_body(transcript), "agent": transcript.agent}


def office_hours_body(hours: office.OfficeHours, now: datetime) -> OfficeHours:
    return cast(OfficeHours, hours.to_json(now))  # the same keys, declared once here for the document


def claimed_body(claimed: service.Claimed, email: str | None) -> Claimed:
    return {
        "conversation": claimed.conversation,
        "status": "with_agent",
        "agent": claimed.agent,
        "email": email,
    }


def agent_message_body(reply: service.AgentReply) -> AgentMessage:
    return {"conversation": reply.conversation, "message": message_of(reply.message)}
