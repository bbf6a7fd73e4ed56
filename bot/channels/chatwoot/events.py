"""Chatwoot's agent-bot events, read into one typed Event: what happened, in which conversation, said by whom."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.errors import InputError

CHANNEL = "chatwoot"
# Conversation statuses in which a person, not the bot, has the conversation.
AGENT_STATUSES = frozenset({"open", "resolved", "snoozed"})


@dataclass(frozen=True)
class Event:
    """One delivery from Chatwoot, reduced to what the bot acts on."""

    kind: str  # message_created, message_updated, conversation_created, conversation_status_changed, …
    account: int
    conversation: int | None  # the id in Chatwoot's URLs (its display id)
    status: str | None  # the conversation's status: pending (the bot's), open, resolved, snoozed
    assigned: bool  # a human agent is assigned
    message: int | None = None
    incoming: bool = False  # written by the customer (not an agent, not us, not a note)
    text: str | None = None
    choice: str | None = None  # the value of an input_select option the customer picked
    contact: Mapping[str, Any] = field(default_factory=dict)

    @property
    def thread_key(self) -> str:
        """Our key for the Chatwoot conversation: account and id (an install may serve several accounts)."""
        return f"{self.account}:{self.conversation}"

    @property
    def agent_has_it(self) -> bool:
        return self.assigned or self.status in AGENT_STATUSES

    def customer(self) -> dict[str, str]:
        """Who the customer is, for the handoff packet and the ticket requester."""
        found = {
            "name": self.contact.get("name"),
            "email": self.contact.get("email"),
            "chatwoot_contact": self.contact.get("id"),
            "chatwoot_conversation": self.thread_key,
        }
        return {k: str(v) for k, v in found.items() if v not in (None, "")}


def parse(body: Any) -> Event:
    """Read one event body; InputError says what is missing when it is not a Chatwoot agent-bot event."""
    if not isinstance(body, Mapping) or not isinstance(body.get("event"), str):
        raise InputError(
            'expected a Chatwoot event: a JSON object with "event", "account" and "conversation"'
        )
    kind = body["event"]
    account = _id((body.get("account") or {}).get("id"))
    if account is None:
        raise InputError(f"the {kind} event has no account.id; is this request from Chatwoot?")
    if kind in ("message_created", "message_updated"):
        return _message(kind, account, body)
    # Conversation events carry the conversation itself at the top level.
    conversation = body if kind.startswith("conversation_") else body.get("current_conversation") or {}
    return Event(kind, account, **_where(conversation, body.get("contact")))


def _message(kind: str, account: int, body: Mapping[str, Any]) -> Event:
    conversation = body.get("conversation") or {}
    sender = body.get("sender") or {}
    incoming = (
        body.get("message_type") in ("incoming", 0)
        and not body.get("private")
        and sender.get("type", "contact") == "contact"
    )
    attributes = body.get("content_attributes") or {}
    submitted = attributes.get("submitted_values") if isinstance(attributes, Mapping) else None
    choice = None
    if kind == "message_updated" and isinstance(submitted, list) and submitted:
        first = submitted[0]
        choice = str(first.get("value") or first.get("title") or "") if isinstance(first, Mapping) else None
    content = body.get("content")
    return Event(
        kind,
        account,
        message=_id(body.get("id")),
        incoming=incoming,
        text=content if isinstance(content, str) and content.strip() else None,
        choice=choice or None,
        **_where(conversation, sender if sender.get("type", "contact") == "contact" else None),
    )


def _where(conversation: Mapping[str, Any], contact: Any) -> dict[str, Any]:
    """The conversation's id, status and people, as every event carries them."""
    meta = conversation.get("meta") or {}
    sender = meta.get("sender") if isinstance(meta.get("sender"), Mapping) else None
    contact = contact if isinstance(contact, Mapping) else None
    return {
        "conversation": _id(conversation.get("id")),
        "status": conversation.get("status"),
        "assigned": bool(meta.get("assignee") or conversation.get("assignee_id")),
        "contact": sender or contact or {},
    }


def _id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
