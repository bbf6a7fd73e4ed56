"""What a helpdesk ticket says about a handoff packet: subject, requester, tags for the cause, the evidence."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import ConfigError
from bot.escalation.packet import render_html

SUBJECT_LIMIT = 150  # Zendesk's limit; Freshdesk allows more
TAG_LIMIT = 32  # Freshdesk refuses longer tags
_NOT_TAG = re.compile(r"[^a-z0-9_-]+")
_HOST_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WORTH_A_TAG = ("fail", "warn")  # probe findings an agent filters on; passes would only add noise


@dataclass(frozen=True)
class Requester:
    """Who the ticket is from: the contact the customer gave, or only a name when they gave none."""

    name: str
    email: str | None
    external_id: str  # stable per customer: a helpdesk that needs some requester keys contacts on it


def subject(packet: Mapping[str, Any]) -> str:
    domain = (packet.get("slots") or {}).get("domain")
    title = str((packet.get("flow") or {}).get("title") or "Support request")
    text = f"{title}{f' ({domain})' if domain else ''}: {packet.get('reason') or 'a customer asked for a person'}"
    text = " ".join(text.split())
    return text if len(text) <= SUBJECT_LIMIT else text[: SUBJECT_LIMIT - 1] + "…"


def tag(text: str) -> str:
    """A helpdesk tag: lower case, no spaces (Zendesk splits on them), short enough for Freshdesk."""
    return _NOT_TAG.sub("_", text.lower()).strip("_")[:TAG_LIMIT]


def tags(packet: Mapping[str, Any]) -> list[str]:
    """supportbot, the flow, the channel, the step that escalated (the cause) and the probe findings."""
    flow = (packet.get("flow") or {}).get("id")
    path = packet.get("path") or []
    found = ["supportbot"]
    if flow:
        found.append(tag(f"flow_{flow}"))
    if packet.get("channel"):
        found.append(tag(f"channel_{packet['channel']}"))
    if path:
        found.append(tag(f"cause_{path[-1]}"))
    for probe in packet.get("probes") or ():
        if isinstance(probe, Mapping) and probe.get("status") in WORTH_A_TAG:
            found.append(tag(f"probe_{probe.get('id')}_{probe['status']}"))
    return list(dict.fromkeys(t for t in found if t))


def requester(packet: Mapping[str, Any]) -> Requester:
    customer = packet.get("customer") or {}
    slots = packet.get("slots") or {}
    email = next(
        (str(v) for v in (customer.get("email"), slots.get("email")) if v and _EMAIL.match(str(v))), None
    )
    name = str(customer.get("name") or email or f"Customer on {packet.get('channel') or 'chat'}")
    who = customer.get("slack_user") or customer.get("chatwoot_contact") or packet.get("conversation") or "?"
    return Requester(name[:200], email, f"supportbot:{packet.get('channel') or 'chat'}:{who}"[:200])


def evidence_html(packet: Mapping[str, Any], reference: str) -> str:
    """The whole packet for agents (summary, probes, transcript), with the key a retry looks up."""
    return render_html(dict(packet)) + f"<p>supportbot reference: {html.escape(reference)}</p>"


def opening_html(packet: Mapping[str, Any]) -> str:
    """What the requester may see: why a person was asked for; the evidence goes in a private note."""
    reason = str(packet.get("reason") or "The customer asked for a person.")
    return f"<p>{html.escape(reason)}</p><p>(from a conversation with our support bot on {html.escape(str(packet.get('channel') or 'chat'))})</p>"


def helpdesk_url(variable: str, value: str, suffix: str) -> str:
    """The API base URL from a subdomain ("acme"), a host ("acme.zendesk.com", a custom domain) or a URL."""
    value = value.strip().rstrip("/")
    if value.startswith(("http://", "https://")):
        return value  # a proxy in front of the helpdesk, or a test's stand-in
    host = value.lower()
    if "." not in host:
        host = f"{host}.{suffix}"
    if not all(_HOST_LABEL.match(label) for label in host.split(".")):
        raise ConfigError(
            f"{variable}={value!r} is not a host name; give your account's subdomain, e.g. acme for "
            f"acme.{suffix}"
        )
    return f"https://{host}"
