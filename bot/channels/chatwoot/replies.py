"""A turn object as Chatwoot messages: text, probe findings, and the question as an input_select."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.channels.chatwoot import api
from bot.escalation.packet import STATUS_MARK


def probe_line(probe: Mapping[str, Any]) -> str:
    return f"{STATUS_MARK.get(str(probe.get('status')), '•')} {probe.get('summary') or probe.get('id')}"


def turn_messages(turn: Mapping[str, Any], *, probes: bool = True) -> list[dict[str, Any]]:
    """What to post for one turn, in order; `probes=False` leaves out findings already posted live."""
    out: list[dict[str, Any]] = []
    for message in turn.get("messages") or ():
        if message.get("type") == "probe":
            if probes and message.get("probe"):
                out.append(api.text(probe_line(message["probe"])))
            continue
        if message.get("role") == "user" or not str(message.get("text") or "").strip():
            continue
        out.append(api.text(str(message["text"])))
    awaiting = turn.get("awaiting") or {}
    choices = [(str(c["id"]), str(c["label"])) for c in awaiting.get("choices") or () if c.get("id")]
    if awaiting.get("kind") == "choice" and choices:
        # The question itself carries the options, so the customer sees them under what was asked.
        question = out.pop()["content"] if out and out[-1]["content_type"] == "text" else "Pick one:"
        out.append(api.select(question, choices))
    return out
