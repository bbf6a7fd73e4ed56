"""Stored JSON (turns, messages, what the bot awaits) read back into the engine's types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.engine.model import Awaiting, Choice, Message, ProbeView, Turn


def message_of(data: Mapping[str, Any]) -> Message:
    probe = data.get("probe")
    view = ProbeView(probe["id"], probe["status"], probe["summary"], probe.get("details")) if probe else None
    agent = data.get("agent")
    return Message(
        role=data.get("role", "bot"),
        text=data.get("text", ""),
        type=data.get("type", "text"),
        probe=view,
        agent=str(agent) if agent is not None else None,
    )


def awaiting_of(data: Mapping[str, Any] | None) -> Awaiting | None:
    if not data:
        return None
    choices = tuple(Choice(c["id"], c["label"]) for c in data.get("choices", ()))
    return Awaiting(kind=data["kind"], choices=choices, hint=data.get("hint", ""))


def turn_of(data: Mapping[str, Any]) -> Turn:
    """A turn object (as `Turn.to_json()` wrote it) back into the engine's Turn."""
    return Turn(
        conversation=data["conversation"],
        status=data["status"],
        messages=tuple(message_of(m) for m in data.get("messages", ())),
        awaiting=awaiting_of(data.get("awaiting")),
    )
