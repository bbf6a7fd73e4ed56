"""The hand-over of an escalated turn: the packet stored with the turn and one delivery per sink."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.engine.model import Conversation, Turn
from bot.escalation.packet import build_packet
from bot.storage import store
from bot.storage.database import now
from bot.storage.driver import Session

HELD = "not announced: too many new escalations from the customer's address"


async def escalate(
    s: Session,
    sinks: Sequence[str],
    conv: Conversation,
    turn: Turn,
    channel: str,
    customer: dict[str, Any],
    flow_title: str,
    repeat_window: float,
    announce: bool = True,
) -> None:
    """Store the handoff packet and queue its deliveries in the turn's own transaction (the outbox).

    A packet not to `announce` (its address is over its budget) is stored for the agents' queue,
    and no sink is told."""
    reason = str((turn.escalated or {}).get("reason", "escalated"))
    history = await store.transcript(s, conv.id)
    for m in history:
        m.pop("at", None)
    packet = build_packet(
        conv, reason=reason, channel=channel, customer=customer, transcript=history, flow_title=flow_title
    )
    # Asking again ("human", "restart", "human"…) adds to the escalation already made: its packet
    # gets the longer transcript, and no new packet goes to the sinks (one address looping this
    # way posted 108 times to a support channel in 26 s).
    recent = await store.recent_escalation(s, conv.id, since=now() - repeat_window)
    if recent is not None:
        await store.update_escalation(s, recent, packet)
        return
    if not announce:
        await store.add_escalation(s, conv.id, f"{reason} ({HELD})", packet)
        return
    escalation_id = await store.add_escalation(s, conv.id, reason, packet)
    await store.enqueue_deliveries(s, escalation_id, sinks)
