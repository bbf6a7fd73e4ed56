"""The analytics events one turn records: steps entered, the answer's kind, probes, endings, feedback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.analytics.kinds import EventKind
from bot.engine.model import Conversation, Incoming, Turn


@dataclass(frozen=True)
class Event:
    """One analytics event of a conversation, as the events table stores it."""

    conversation_id: str
    flow_id: str
    flow_version: str
    kind: EventKind
    step: str | None = None
    data: dict[str, Any] | None = None

    def row(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "flow_id": self.flow_id,
            "flow_version": self.flow_version,
            "kind": self.kind.value,
            "step": self.step,
            "data": self.data,
        }


def rows(events: list[Event]) -> list[dict[str, Any]]:
    return [e.row() for e in events]


def _of(conv: Conversation, kind: EventKind, step: str | None = None, data: Any = None) -> Event:
    return Event(conv.id, conv.flow_id, conv.version, kind, step, data)


def resumed(conv: Conversation, at: list[str]) -> list[Event]:
    """The customer came back to a conversation the idle sweep had closed as abandoned."""
    return [_of(conv, EventKind.RESUMED, at[0] if at else None)]


def turn_events(
    conv: Conversation,
    turn: Turn,
    entered: list[str],
    previous_status: str | None,
    *,
    started: bool = False,
    incoming: Incoming | None = None,
) -> list[Event]:
    """The events of one turn, in the order analysis tools rely on: the answer, then each step entered."""
    out: list[Event] = []
    if started:
        out.append(_of(conv, EventKind.STARTED))
    if incoming is not None:
        kind = "choice" if incoming.choice is not None else "text"
        out.append(_of(conv, EventKind.ANSWER, data={"kind": kind}))
    out.extend(_of(conv, EventKind.STEP, step) for step in entered)
    # Messages the bot did not understand well (already redacted): the support lead's list of misses.
    out.extend(
        _of(conv, EventKind.MISSED, m["step"], {k: v for k, v in m.items() if k != "step"})
        for m in turn.missed
    )
    for message in turn.messages:
        if message.probe is not None:
            probe = {"id": message.probe.id, "status": message.probe.status}
            out.append(_of(conv, EventKind.PROBE, turn.step, probe))
    if turn.escalated:
        reason = {"reason": turn.escalated.get("reason")}
        out.append(_of(conv, EventKind.ESCALATED, turn.escalated.get("step"), reason))
    if turn.status in ("resolved", "unresolved") and previous_status != turn.status:
        out.append(_of(conv, EventKind.ENDED, turn.step, {"status": turn.status}))
    if turn.feedback is not None:
        out.append(_of(conv, EventKind.FEEDBACK, turn.feedback.get("step"), dict(turn.feedback)))
    return out
