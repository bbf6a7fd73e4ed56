"""The analytics events one turn records: steps entered, the answer's kind, probes, endings, feedback."""

from __future__ import annotations

from typing import Any

from bot.engine.model import Conversation, Incoming, Message, Turn


def resumed(conv: Conversation, at: list[str]) -> list[dict[str, Any]]:
    """The customer came back to a conversation the idle sweep had closed as abandoned."""
    base = {"conversation_id": conv.id, "flow_id": conv.flow_id, "flow_version": conv.version}
    return [{**base, "kind": "resumed", "step": at[0] if at else None, "data": None}]


def turn_events(
    conv: Conversation,
    turn: Turn,
    entered: list[str],
    previous_status: str | None,
    *,
    started: bool = False,
    incoming: Incoming | None = None,
) -> list[dict[str, Any]]:
    """The events of one turn, in the order analysis tools rely on: the answer, then each step entered."""
    base = {"conversation_id": conv.id, "flow_id": conv.flow_id, "flow_version": conv.version}
    out: list[dict[str, Any]] = []
    if started:
        out.append({**base, "kind": "started", "step": None, "data": None})
    if incoming is not None:
        kind = "choice" if incoming.choice is not None else "text"
        out.append({**base, "kind": "answer", "step": None, "data": {"kind": kind}})
    out.extend({**base, "kind": "step", "step": step, "data": None} for step in entered)
    # Messages the bot did not understand well (already redacted): the support lead's list of misses.
    out.extend(
        {**base, "kind": "missed", "step": m["step"], "data": {k: v for k, v in m.items() if k != "step"}}
        for m in turn.missed
    )
    for message in turn.messages:
        if isinstance(message, Message) and message.probe is not None:
            out.append(
                {
                    **base,
                    "kind": "probe",
                    "step": turn.step,
                    "data": {"id": message.probe.id, "status": message.probe.status},
                }
            )
    if turn.escalated:
        out.append(
            {
                **base,
                "kind": "escalated",
                "step": turn.escalated.get("step"),
                "data": {"reason": turn.escalated.get("reason")},
            }
        )
    if turn.status in ("resolved", "unresolved") and previous_status != turn.status:
        out.append({**base, "kind": "ended", "step": turn.step, "data": {"status": turn.status}})
    if turn.feedback is not None:
        out.append(
            {**base, "kind": "feedback", "step": turn.feedback.get("step"), "data": dict(turn.feedback)}
        )
    return out
