"""The satisfaction question at an end step: thumbs up or down, then an optional comment."""

from __future__ import annotations

from typing import Any

from bot.engine.model import Awaiting, Choice, Incoming
from bot.engine.turn import TurnBuilder
from bot.nlu.matcher import Option, match

UP, DOWN, SKIP = "feedback_up", "feedback_down", "feedback_skip"
QUESTION = "Did this solve it?"
_RATING = Awaiting(kind="choice", choices=(Choice(UP, "👍 Yes"), Choice(DOWN, "👎 No")))
_OPTIONS = [
    Option(UP, ("👍", "yes", "thumbs up", "solved", "it did", "helpful", "good")),
    Option(DOWN, ("👎", "no", "thumbs down", "not solved", "it didnt", "unhelpful", "bad")),
]
_COMMENT = Awaiting(kind="text", hint="Optional: what could be better? (or just close the chat)")


def ask(step: str, out: TurnBuilder) -> dict[str, Any]:
    """Put the question at the end of the final turn; returns the conversation's feedback record."""
    out.say(QUESTION)
    out.awaiting = _RATING
    return {"step": step, "rating": None, "comment": None}


def pending(record: dict[str, Any]) -> bool:
    return record.get("rating") is None or (record.get("comment") is None and not record.get("done"))


def take(record: dict[str, Any], incoming: Incoming, out: TurnBuilder) -> None:
    """Record a rating (a click or a typed yes/no/👍) or, after it, one free-text comment."""
    if record.get("rating") is None:
        key = incoming.choice if incoming.choice in (UP, DOWN) else None
        if key is None and incoming.text is not None:
            key = _match_rating(incoming.text)
        if key is None:
            out.say("Sorry, I didn't catch that. " + QUESTION)
            out.awaiting = _RATING
            return
        record["rating"] = "up" if key == UP else "down"
        out.feedback = {"step": record["step"], "rating": record["rating"]}
        out.say("Thanks for telling me! If you like, add a few words on what could be better.")
        out.awaiting = _COMMENT
        return
    comment = (incoming.text or "").strip()
    record["done"] = True
    if comment:
        record["comment"] = comment[:1000]
        out.feedback = {"step": record["step"], "rating": record["rating"], "comment": record["comment"]}
        out.say("Thank you, that helps us improve.")
    else:
        out.say("Thanks!")


def _match_rating(text: str) -> str | None:
    stripped = text.strip()
    if stripped.startswith("👍"):
        return UP
    if stripped.startswith("👎"):
        return DOWN
    return match(text, [Option(UP, ("yes",)), Option(DOWN, ("no",))]) or match(text, _OPTIONS)
