"""The Chatwoot hand-over: one private note with the packet, labels and attributes, then status open."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.channels.chatwoot import api
from bot.channels.chatwoot.api import ChatwootApi, chatwoot_api
from bot.channels.chatwoot.events import CHANNEL
from bot.errors import DeliveryError
from bot.escalation import tickets
from bot.escalation.packet import STATUS_WORD, render_text
from bot.settings import Settings


def attributes(packet: Mapping[str, Any]) -> dict[str, str]:
    """Custom attributes an agent can filter and report on: the cause, the domain, the findings."""
    path = packet.get("path") or []
    findings = [
        f"{p.get('id')} {STATUS_WORD.get(str(p.get('status')), p.get('status'))}"
        for p in packet.get("probes") or ()
        if isinstance(p, Mapping)
    ]
    values = {
        "supportbot_cause": str(path[-1]) if path else "",
        "supportbot_domain": str((packet.get("slots") or {}).get("domain") or ""),
        "supportbot_findings": "; ".join(findings),
        "supportbot_conversation": str(packet.get("conversation") or ""),
    }
    return {k: v for k, v in values.items() if v}


class ChatwootSink:
    """Delivers escalations of Chatwoot conversations; others have no Chatwoot conversation to note."""

    name = "chatwoot"

    def __init__(self, chatwoot: ChatwootApi) -> None:
        self.chatwoot = chatwoot

    async def deliver(self, packet: Mapping[str, Any], idempotency_key: str | None = None) -> None:
        if packet.get("channel") != CHANNEL:
            return
        where = str((packet.get("customer") or {}).get("chatwoot_conversation") or "")
        account, _, conversation = where.partition(":")
        if not conversation.isdigit() or account != str(self.chatwoot.account):
            raise DeliveryError(
                f"the escalated conversation {where!r} is not in CHATWOOT_ACCOUNT_ID={self.chatwoot.account}",
                permanent=True,
            )
        number = int(conversation)
        reference = idempotency_key or f"supportbot-{packet.get('conversation')}"
        async with self.chatwoot.api.session() as session:
            # A retry after a worker died must not add the note twice: look for it first.
            noted = any(
                m.get("private") and reference in str(m.get("content") or "")
                for m in await self.chatwoot.messages(session, number)
            )
            if not noted:
                content = render_text(dict(packet)) + f"\n\nsupportbot reference: {reference}"
                await self.chatwoot.send(number, api.note(content), session)
            await self.chatwoot.labels(session, number, tickets.tags(packet))
            await self.chatwoot.attributes(session, number, attributes(packet))
            # Last: "open" is what puts it in front of agents, and by then the note is there.
            await self.chatwoot.status(session, number, "open")


def chatwoot_sink(settings: Settings) -> ChatwootSink | None:
    """The hand-over sink when CHATWOOT_* is configured (the channel's sink factory)."""
    found = chatwoot_api(settings)
    return ChatwootSink(found) if found is not None else None
