"""The Freshdesk sink: one ticket per escalation and one private note with the evidence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.escalation import tickets
from bot.escalation.jsonapi import JsonApi, Session, basic_auth
from bot.settings import Settings

OPEN, MEDIUM, CHAT = 2, 2, 7  # Freshdesk's numeric status, priority and source codes


def reference_tag(reference: str) -> str:
    """The tag a retry searches for; Freshdesk tickets have no external id of their own."""
    return tickets.tag(f"sb-{reference}")


class FreshdeskSink:
    """Creates a Freshdesk ticket, then its private note; a retry completes what a dead worker began."""

    name = "freshdesk"

    def __init__(self, base_url: str, api_key: str, timeout: float = 15.0) -> None:
        self.api = JsonApi(
            "Freshdesk",
            base_url,
            basic_auth(api_key, "X"),  # the key is the user name; the password is ignored
            timeout=timeout,
            fix="check FRESHDESK_API_KEY (Profile settings > Your API Key) and FRESHDESK_DOMAIN",
        )

    def ticket(self, packet: Mapping[str, Any], reference: str) -> dict[str, Any]:
        who = tickets.requester(packet)
        body: dict[str, Any] = {
            "subject": tickets.subject(packet),
            "description": tickets.opening_html(packet),
            "status": OPEN,
            "priority": MEDIUM,
            "source": CHAT,
            "tags": [*tickets.tags(packet), reference_tag(reference)],
            "name": who.name,
        }
        # Freshdesk needs some requester: the customer's address, or a contact keyed on who they are.
        if who.email:
            body["email"] = who.email
        else:
            body["unique_external_id"] = who.external_id
        return body

    async def deliver(self, packet: Mapping[str, Any], idempotency_key: str | None = None) -> None:
        reference = idempotency_key or f"supportbot-{packet.get('conversation')}"
        async with self.api.session() as api:
            ticket_id = await self._find(api, reference)
            if ticket_id is None:
                created = await api.call("POST", "/api/v2/tickets", json=self.ticket(packet, reference))
                ticket_id = int(created["id"])
            elif await self._noted(api, ticket_id, reference):
                return  # the ticket and its note were made by a try whose success was never recorded
            note = {"body": tickets.evidence_html(packet, reference), "private": True}
            await api.call("POST", f"/api/v2/tickets/{ticket_id}/notes", json=note)

    async def _find(self, api: Session, reference: str) -> int | None:
        query = f"\"tag:'{reference_tag(reference)}'\""
        found = await api.call("GET", "/api/v2/search/tickets", params={"query": query})
        results = (found or {}).get("results") or []
        return int(results[0]["id"]) if results else None

    async def _noted(self, api: Session, ticket_id: int, reference: str) -> bool:
        conversations = await api.call("GET", f"/api/v2/tickets/{ticket_id}/conversations") or []
        return any(
            c.get("private") and reference in str(c.get("body_text") or c.get("body") or "")
            for c in conversations
        )


def freshdesk_sink(settings: Settings) -> FreshdeskSink | None:
    """The sink FRESHDESK_DOMAIN and its credentials configure, or None when they are not set."""
    if not settings.freshdesk_domain:
        return None
    url = tickets.helpdesk_url("FRESHDESK_DOMAIN", settings.freshdesk_domain, "freshdesk.com")
    return FreshdeskSink(url, settings.freshdesk_api_key or "")
