"""What one turn collects as the engine walks the flow: the bot's messages, the question, misses."""

from __future__ import annotations

from typing import Any

from bot.engine.model import Awaiting, Message

MISSED_TEXT_CHARS = 300  # what the list of misses keeps of a message: enough to write an example from


class TurnBuilder:
    """Collects what the bot says during one turn; the engine (and its feedback question) write to it."""

    __slots__ = ("awaiting", "escalated", "feedback", "messages", "missed")

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.awaiting: Awaiting | None = None
        self.escalated: dict[str, Any] | None = None
        self.feedback: dict[str, Any] | None = None  # set on the turn that recorded a rating or comment
        self.missed: list[dict[str, Any]] = []

    def miss(self, step: str, text: str, why: str, guess: str | None, score: float | None) -> None:
        self.missed.append(
            {
                "step": step,
                "text": text[:MISSED_TEXT_CHARS],
                "why": why,
                "guess": guess,
                "score": None if score is None else round(score, 3),
            }
        )

    def say(self, text: str, kind: str = "text") -> None:
        if text:
            self.messages.append(Message(role="bot", text=text, type=kind))  # type: ignore[arg-type]
