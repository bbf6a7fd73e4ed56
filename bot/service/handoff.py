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


async def look_back(
    s: Session, conversation_id: str, repeat_window: float
) -> tuple[int | None, list[dict[str, Any]]]:
    """Before an escalating turn's write: the conversation's escalation within `repeat_window`, if any,
    and its transcript so far (the packet's, without times).

    Read before the write, not in its transaction: every escalation is written by a turn of its
    conversation, which moves the row's lock_version, so should another process escalate between
    this read and the write, the write finds the row changed and the turn is redone on what it wrote."""
    recent, history = await store.looking_back(s, conversation_id, since=now() - repeat_window)
    for m in history:
        m.pop("at", None)
    return recent, history


def handover(
    conv: Conversation,
    turn: Turn,
    *,
    channel: str,
    customer: dict[str, Any],
    flow_title: str,
    history: Sequence[dict[str, Any]],
    recent: int | None,
    sinks: Sequence[str],
    announce: bool = True,
) -> store.Escalation:
    """The escalation to store with the turn (store.save_turn), its deliveries queued in the same
    write (the outbox). `history` is the whole transcript, this turn's lines included.

    A packet not to `announce` (its address is over its budget) is stored for the agents' queue,
    and no sink is told."""
    reason = str((turn.escalated or {}).get("reason", "escalated"))
    packet = build_packet(
        conv, reason=reason, channel=channel, customer=customer, transcript=history, flow_title=flow_title
    )
    # Asking again ("human", "restart", "human"…) adds to the escalation already made: its packet
    # gets the longer transcript, and no new packet goes to the sinks (one address looping this
    # way posted 108 times to a support channel in 26 s).
    if recent is not None:
        return store.Escalation(reason, packet, joins=recent)
    if not announce:
        return store.Escalation(f"{reason} ({HELD})", packet)
    return store.Escalation(reason, packet, sinks=tuple(sinks))
