"""Global commands a customer can type at any step: restart, back, and talk to a human."""

from __future__ import annotations

from bot.engine.matcher import normalize

RESTART, BACK, HUMAN = "restart", "back", "human"

_PHRASES = {
    RESTART: ("restart", "start over", "start again", "reset", "begin again", "from the start"),
    BACK: ("back", "go back", "previous", "undo", "previous question"),
    HUMAN: (
        "human",
        "a human",
        "talk to a human",
        "speak to a human",
        "agent",
        "an agent",
        "talk to an agent",
        "person",
        "a person",
        "real person",
        "talk to a person",
        "speak to someone",
        "talk to someone",
        "operator",
        "representative",
        "support",
        "live agent",
        "customer service",
        "help me human",
        "escalate",
    ),
}
_LOOKUP = {normalize(p): command for command, phrases in _PHRASES.items() for p in phrases}


def command_in(text: str | None, choice: str | None) -> str | None:
    """The global command the customer typed or clicked, if any."""
    if choice is not None:
        return choice if choice in _PHRASES else None
    if text is None:
        return None
    said = normalize(text)
    if said.startswith("please "):
        said = said[7:]
    return _LOOKUP.get(said)
