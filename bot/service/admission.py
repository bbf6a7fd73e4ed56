"""Whether a hand-over starts a new escalation, joins the conversation's last one, or waits unannounced."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from bot.engine.model import Message
from bot.service.ports import Deps

Admission = Literal["new", "joins", "held"]

ALREADY_WAITING = (
    "You're already in the queue for a person; what you write here is added to your request, "
    "so there is no need to ask again."
)
HELD = (
    "Your request for a person is in the queue. We've had several from your connection in a short "
    "time, so please wait here: someone will answer in this conversation as soon as they can."
)


async def admit(deps: Deps, customer: Mapping[str, Any], *, joins: bool) -> Admission:
    """Decide before the turn's write; `joins`: the conversation escalated lately (handoff.look_back),
    so this hand-over adds to that escalation."""
    if joins:
        return "joins"  # not a new escalation: it costs the address nothing
    address = customer.get("ip")
    over = (
        deps.gate is not None
        and isinstance(address, str)
        and bool(address)
        and not await deps.gate.admit(address)
    )
    return "held" if over else "new"


def notice(admission: Admission) -> tuple[Message, ...]:
    """What the customer is told besides the flow's own hand-over words."""
    if admission == "joins":
        return (Message(role="bot", text=ALREADY_WAITING),)
    if admission == "held":
        return (Message(role="bot", text=HELD),)
    return ()
