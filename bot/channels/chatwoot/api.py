"""Chatwoot's application API, as the agent bot uses it: messages, private notes, labels, attributes, status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.escalation.jsonapi import JsonApi, Session
from bot.settings import Settings


def text(content: str) -> dict[str, Any]:
    return {"content": content, "message_type": "outgoing", "private": False, "content_type": "text"}


def select(content: str, options: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A question with options the customer taps (value = our choice id, title = what they read)."""
    return {
        "content": content,
        "message_type": "outgoing",
        "private": False,
        "content_type": "input_select",
        "content_attributes": {"items": [{"title": title, "value": value} for value, title in options]},
    }


def note(content: str) -> dict[str, Any]:
    """A private note: agents see it in the conversation, the customer never does."""
    return {"content": content, "message_type": "outgoing", "private": True, "content_type": "text"}


class ChatwootApi:
    """One account of one Chatwoot install, called with the agent bot's access token."""

    def __init__(self, url: str, token: str, account: int, timeout: float = 10.0) -> None:
        self.account = account
        self.api = JsonApi(
            "Chatwoot",
            url,
            {"api_access_token": token},
            timeout=timeout,
            fix="check CHATWOOT_BOT_TOKEN (the agent bot's access token) and CHATWOOT_ACCOUNT_ID",
        )

    def path(self, conversation: int, what: str) -> str:
        return f"/api/v1/accounts/{self.account}/conversations/{conversation}/{what}"

    async def call(
        self, conversation: int, what: str, body: Mapping[str, Any], api: Session | None = None
    ) -> Any:
        """POST `body` to the conversation's `what` (messages, toggle_typing_status, …)."""
        if api is not None:
            return await api.call("POST", self.path(conversation, what), json=dict(body))
        async with self.api.session() as session:
            return await session.call("POST", self.path(conversation, what), json=dict(body))

    async def send(self, conversation: int, message: Mapping[str, Any], api: Session | None = None) -> Any:
        return await self.call(conversation, "messages", message, api)

    async def messages(self, api: Session, conversation: int) -> list[dict[str, Any]]:
        found = await api.call("GET", self.path(conversation, "messages"))
        payload = (found or {}).get("payload") if isinstance(found, Mapping) else found
        return [m for m in payload or () if isinstance(m, dict)]

    async def labels(self, api: Session, conversation: int, labels: Sequence[str]) -> None:
        await api.call("POST", self.path(conversation, "labels"), json={"labels": list(labels)})

    async def attributes(self, api: Session, conversation: int, values: Mapping[str, Any]) -> None:
        await api.call(
            "POST", self.path(conversation, "custom_attributes"), json={"custom_attributes": dict(values)}
        )

    async def status(self, api: Session, conversation: int, status: str) -> None:
        await api.call("POST", self.path(conversation, "toggle_status"), json={"status": status})


def chatwoot_api(settings: Settings) -> ChatwootApi | None:
    """The API client CHATWOOT_URL, CHATWOOT_BOT_TOKEN and CHATWOOT_ACCOUNT_ID configure, if set."""
    if not (settings.chatwoot_url and settings.chatwoot_bot_token and settings.chatwoot_account_id):
        return None
    return ChatwootApi(settings.chatwoot_url, settings.chatwoot_bot_token, settings.chatwoot_account_id)
