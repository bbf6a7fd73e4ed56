"""A turn object as Chatwoot messages: text, probe findings, and the question as an input_select."""

from __future__ import annotations

from typing import Any

from bot.channels.chatwoot import api
from bot.engine.model import ProbeView, Turn
from bot.escalation.packet import STATUS_MARK


def probe_line(probe: ProbeView) -> str:
    return f"{STATUS_MARK.get(probe.status, '•')} {probe.summary or probe.id}"


def turn_messages(turn: Turn, *, probes: bool = True) -> list[dict[str, Any]]:
    """What to post for one turn, in order; `probes=False` leaves out findings already posted live."""
    out: list[dict[str, Any]] = []
    for message in turn.messages:
        if message.type == "probe":
            if probes and message.probe is not None:
                out.append(api.text(probe_line(message.probe)))
            continue
        if message.role == "user" or not message.text.strip():
            continue
        out.append(api.text(message.text))
    awaiting = turn.awaiting
    choices = [(c.id, c.label) for c in awaiting.choices if c.id] if awaiting is not None else []
    if awaiting is not None and awaiting.kind == "choice" and choices:
        # The question itself carries the options, so the customer sees them under what was asked.
        question = out.pop()["content"] if out and out[-1]["content_type"] == "text" else "Pick one:"
        out.append(api.select(question, choices))
    return out
