"""Global commands a customer can type at any step: restart, back, and talk to a human."""

from __future__ import annotations

from bot.nlu.matcher import normalize

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
# Inside a longer sentence only unmistakable requests count ("I want to talk to a human"), so an
# answer that merely mentions support or an agent is never taken as a handoff.
_ASKING_FOR_A_PERSON = tuple(
    f" {normalize(p)} "
    for p in (
        "talk to a human",
        "speak to a human",
        "talk to a person",
        "speak to a person",
        "real person",
        "real human",
        "talk to someone",
        "speak to someone",
        "talk to an agent",
        "speak to an agent",
        "live agent",
        "human please",
        "a human please",
        "want a human",
        "need a human",
        "talk to support",
        "speak with someone",
        "speak with a person",
    )
)


def command_in(text: str | None, choice: str | None) -> str | None:
    """The global command the customer typed or clicked, if any."""
    if choice is not None:
        return choice if choice in _PHRASES else None
    if text is None:
        return None
    said = normalize(text)
    if said.startswith("please "):
        said = said[7:]
    command = _LOOKUP.get(said)
    if command is None and any(phrase in f" {said} " for phrase in _ASKING_FOR_A_PERSON):
        return HUMAN
    return command
