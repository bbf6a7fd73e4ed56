"""Plain data the engine reads and writes: a conversation's state, what comes in, and the turn that goes out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

Status = Literal["active", "resolved", "unresolved", "escalated", "with_agent"]
Role = Literal["bot", "agent", "user"]
MessageType = Literal["text", "probe", "handoff"]
FINAL_STATUSES: frozenset[str] = frozenset({"resolved", "unresolved", "escalated"})


@dataclass
class Frame:
    """A subflow call in progress: where to go back to when the called flow ends."""

    flow_id: str
    version: str
    return_to: str


@dataclass
class Conversation:
    """Everything the engine needs to continue a conversation; saved and restored as JSON."""

    id: str
    flow_id: str
    version: str
    step: str = ""
    status: Status = "active"
    slots: dict[str, Any] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)  # every step entered, in order
    asked: list[str] = field(default_factory=list)  # question steps answered, for "back"
    stack: list[Frame] = field(default_factory=list)  # subflow return points
    tries: int = 0  # invalid answers at the current question
    visits: dict[str, int] = field(default_factory=dict)  # per-step entries, for loop caps
    escalation: dict[str, Any] | None = None  # {"reason": ..., "step": ...} once escalated
    feedback: dict[str, Any] | None = None  # {"step", "rating": "up"|"down"|None, "comment"} at the end
    # A guess the bot asked the customer to confirm: {"step", "choice", "text", "score"}.
    pending: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        # Written out by hand: dataclasses.asdict deep-copies recursively and was most of a turn's cost.
        return {
            "id": self.id,
            "flow_id": self.flow_id,
            "version": self.version,
            "step": self.step,
            "status": self.status,
            "slots": dict(self.slots),
            "path": list(self.path),
            "asked": list(self.asked),
            "stack": [
                {"flow_id": f.flow_id, "version": f.version, "return_to": f.return_to} for f in self.stack
            ],
            "tries": self.tries,
            "visits": dict(self.visits),
            "escalation": dict(self.escalation) if self.escalation else None,
            "feedback": dict(self.feedback) if self.feedback else None,
            "pending": dict(self.pending) if self.pending else None,
        }

    def dump(self) -> bytes:
        """The saved form: compact JSON bytes (orjson: a few microseconds, not tens)."""
        return orjson.dumps(self.to_json())

    @classmethod
    def load(cls, raw: bytes | str) -> Conversation:
        return cls.from_json(orjson.loads(raw))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conversation:
        data = dict(data)
        data["stack"] = [Frame(**f) for f in data.get("stack", ())]
        return cls(**data)


@dataclass(frozen=True)
class Incoming:
    """One thing the customer did: typed `text`, or picked the choice `choice`; neither = opening."""

    text: str | None = None
    choice: str | None = None

    @classmethod
    def opening(cls) -> Incoming:
        return cls()

    @property
    def is_opening(self) -> bool:
        return self.text is None and self.choice is None


@dataclass(frozen=True)
class ProbeView:
    """What a probe message shows: the check id, its status and the plain sentence."""

    id: str
    status: str
    summary: str
    details: dict[str, Any] | None = None


# Messages and turns are made several times per turn; plain slotted dataclasses build ~3x faster
# than frozen ones (which set every field through object.__setattr__). Treat them as read-only.
@dataclass(slots=True)
class Message:
    role: Role
    text: str
    type: MessageType = "text"
    probe: ProbeView | None = None
    agent: str | None = None  # who wrote it, on an agent's message

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "type": self.type, "text": self.text}
        if self.agent is not None:
            out["agent"] = self.agent
        if self.probe is not None:
            out["probe"] = {
                "id": self.probe.id,
                "status": self.probe.status,
                "summary": self.probe.summary,
            }
            if self.probe.details is not None:
                out["probe"]["details"] = self.probe.details
        return out


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True)
class Awaiting:
    """What the bot waits for now: a choice among buttons, or typed text."""

    kind: Literal["choice", "text"]
    choices: tuple[Choice, ...] = ()
    hint: str = ""

    def to_json(self) -> dict[str, Any]:
        if self.kind == "choice":
            return {
                "kind": "choice",
                "choices": [{"id": c.id, "label": c.label} for c in self.choices],
            }
        return {"kind": "text", "hint": self.hint}


@dataclass(slots=True)
class Turn:
    """The engine's answer to one incoming: the public turn object channels show, plus what storage needs."""

    conversation: str
    status: Status
    messages: tuple[Message, ...]
    awaiting: Awaiting | None
    step: str = ""
    escalated: dict[str, Any] | None = None  # set on the turn that escalated: {"reason", "step"}
    feedback: dict[str, Any] | None = None  # set on the turn that recorded a rating or a comment
    # The customer's own message as the engine recorded it (redaction happens before the engine).
    user_message: Message | None = None
    # Typed answers the bot did not understand well, for the support lead's list of misses:
    # {"step", "text", "why": "reask" | "rejected" | "low_confidence", "guess", "score"}.
    missed: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation,
            "status": self.status,
            "messages": [m.to_json() for m in self.messages],
            "awaiting": self.awaiting.to_json() if self.awaiting else None,
        }
