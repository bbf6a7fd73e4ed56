"""The Zendesk sink: one ticket per escalation, the evidence as its first (internal) comment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.escalation import tickets
from bot.escalation.jsonapi import JsonApi, basic_auth
from bot.settings import Settings

TICKETS = "/api/v2/tickets.json"


class ZendeskSink:
    """Creates a Zendesk ticket; a retried delivery finds the first one by external_id instead."""

    name = "zendesk"

    def __init__(self, base_url: str, email: str, api_token: str, timeout: float = 15.0) -> None:
        self.api = JsonApi(
            "Zendesk",
            base_url,
            # API token auth: "{email}/token" as the user name and the token as the password.
            basic_auth(f"{email}/token", api_token),
            timeout=timeout,
            fix="check ZENDESK_EMAIL (an agent's address) and ZENDESK_API_TOKEN (Admin Center > Apps and "
            "integrations > Zendesk API)",
        )

    def ticket(self, packet: Mapping[str, Any], reference: str) -> dict[str, Any]:
        who = tickets.requester(packet)
        body: dict[str, Any] = {
            "subject": tickets.subject(packet),
            # Internal: the transcript and probe findings are for agents, not mailed to the customer.
            "comment": {"html_body": tickets.evidence_html(packet, reference), "public": False},
            "tags": tickets.tags(packet),
            "external_id": reference,
            "priority": "normal",
        }
        if who.email:
            # Without an address Zendesk makes the API user the requester, which is what we want then.
            body["requester"] = {"name": who.name, "email": who.email}
        return {"ticket": body}

    async def deliver(self, packet: Mapping[str, Any], idempotency_key: str | None = None) -> None:
        reference = idempotency_key or f"supportbot-{packet.get('conversation')}"
        async with self.api.session() as api:
            # A worker may have died after Zendesk created the ticket and before the outbox row was
            # marked; the lookup finds that ticket. Idempotency-Key covers a create still in flight.
            found = await api.call("GET", TICKETS, params={"external_id": reference})
            if found and found.get("tickets"):
                return
            await api.call(
                "POST", TICKETS, json=self.ticket(packet, reference), headers={"Idempotency-Key": reference}
            )


def zendesk_sink(settings: Settings) -> ZendeskSink | None:
    """The sink ZENDESK_SUBDOMAIN and its credentials configure, or None when they are not set."""
    if not settings.zendesk_subdomain:
        return None
    url = tickets.helpdesk_url("ZENDESK_SUBDOMAIN", settings.zendesk_subdomain, "zendesk.com")
    return ZendeskSink(url, settings.zendesk_email or "", settings.zendesk_api_token or "")
