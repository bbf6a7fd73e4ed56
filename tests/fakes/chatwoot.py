"""A fake Chatwoot: its application API (as an agent bot calls it) and the events it posts to the bot.

`async with FakeChatwoot().running() as cw:` serves, on the test's event loop:
- `POST /api/v1/accounts/{account}/conversations/{id}/messages` (header `api_access_token`), checking
  the body as Chatwoot's API reference describes it: `content`, `message_type` outgoing, `private`,
  `content_type` (text, input_select, …) and, for input_select, `content_attributes.items` of
  `{title, value}`; `GET …/messages` answers `{"meta": …, "payload": [messages]}`;
- `POST …/toggle_typing_status` `{"typing_status": on|off}`;
- `POST …/toggle_status` `{"status": open|pending|resolved|snoozed}`, `POST …/labels`
  `{"labels": [..]}` (replaces them), `POST …/custom_attributes` `{"custom_attributes": {..}}`.

Like the real one, it tells the bot about the bot's own messages too: set `cw.deliver` to an async
callable and every message the bot posts is sent back as a `message_created` event. The event
builders (`incoming`, `picked`, `status_changed`, `conversation_created`) make the payloads of
Chatwoot's documented webhook events; `kinds` of requests: message, note, messages, status, labels,
attributes. Failures and holds are scripted as in `tests.fakes.helpdesks`.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.helpdesks import FakeHelpdesk

ACCOUNT = 7
BOT_TOKEN = "cw-bot-token-2c9d1e"
SECRET = "chatwoot-shared-secret-7f3a9b"
CONTENT_TYPES = ("text", "input_select", "cards", "form", "article", "input_email", "input_csat")
STATUSES = ("open", "pending", "resolved", "snoozed")
BASE = "/api/v1/accounts/{account}/conversations/{conversation}"


@dataclass
class Conversation:
    id: int
    contact: dict[str, Any]
    status: str = "pending"  # an inbox with an agent bot starts conversations as pending
    assignee: dict[str, Any] | None = None
    labels: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    typing: list[str] = field(default_factory=list)  # the typing_status values the bot sent, in order

    def payload(self) -> dict[str, Any]:
        """The conversation as Chatwoot puts it in an event (its `id` is the display id in URLs)."""
        return {
            "id": self.id,
            "inbox_id": 1,
            "channel": "Channel::WebWidget",
            "status": self.status,
            "can_reply": True,
            "labels": list(self.labels),
            "custom_attributes": dict(self.attributes),
            "meta": {"sender": {**self.contact, "type": "contact"}, "assignee": self.assignee},
        }


class FakeChatwoot(FakeHelpdesk):
    def __init__(self, token: str = BOT_TOKEN, account: int = ACCOUNT) -> None:
        super().__init__()
        self.token = token
        self.account = account
        self.conversations: dict[int, Conversation] = {}
        self.deliver: Callable[[dict[str, Any]], Awaitable[Any]] | None = None
        self._message_ids = itertools.count(9001)
        self._contacts = itertools.count(301)

    # -- the customer's and agents' side ---------------------------------------------------------

    def conversation(
        self, number: int, name: str = "Jo Bloggs", email: str | None = "jo@example.com"
    ) -> Conversation:
        if number not in self.conversations:
            contact = {"id": next(self._contacts), "name": name, "email": email}
            self.conversations[number] = Conversation(number, contact)
        return self.conversations[number]

    def _event(self, kind: str, conv: Conversation, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "event": kind,
            **message,
            "conversation": conv.payload(),
            "inbox": {"id": 1, "name": "Website"},
            "account": {"id": self.account, "name": "Acme Hosting"},
        }

    def _said(self, number: int, text: str, message_type: str, sender: dict[str, Any]) -> dict[str, Any]:
        conv = self.conversation(number)
        message = {
            "id": next(self._message_ids),
            "content": text,
            "message_type": message_type,
            "content_type": "text",
            "content_attributes": {},
            "private": False,
            "sender": sender,
        }
        conv.messages.append(message)
        return self._event("message_created", conv, message)

    def incoming(self, number: int, text: str) -> dict[str, Any]:
        """A customer's message: stored, and the `message_created` event Chatwoot sends for it."""
        contact = self.conversation(number).contact
        return self._said(
            number, text, "incoming", {"id": contact["id"], "name": contact["name"], "type": "contact"}
        )

    def picked(self, number: int, message_id: int, value: str) -> dict[str, Any]:
        """The customer tapped an option of an input_select: Chatwoot updates that message."""
        conv = self.conversation(number)
        message = next(m for m in conv.messages if m["id"] == message_id)
        item = next(i for i in message["content_attributes"]["items"] if i["value"] == value)
        message["content_attributes"] = {**message["content_attributes"], "submitted_values": [item]}
        return self._event("message_updated", conv, message)

    def agent_message(self, number: int, text: str) -> dict[str, Any]:
        return self._said(number, text, "outgoing", {"id": 1, "name": "Sam", "type": "user"})

    def status_changed(self, number: int, status: str, assignee: str | None = None) -> dict[str, Any]:
        conv = self.conversation(number)
        conv.status = status
        conv.assignee = {"id": 1, "name": assignee, "type": "user"} if assignee else None
        return {**conv.payload(), "event": "conversation_status_changed", "account": {"id": self.account}}

    def bot_messages(self, number: int, *, private: bool | None = None) -> list[dict[str, Any]]:
        return [
            m
            for m in self.conversation(number).messages
            if m["sender"]["type"] == "agent_bot" and (private is None or m["private"] is private)
        ]

    # -- the API ---------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        handlers = {
            "message": self._post_message,
            "note": self._post_message,
            "messages": self._list_messages,
            "status": self._toggle_status,
            "labels": self._labels,
            "attributes": self._attributes,
            "typing": self._typing,
        }

        async def dispatch(request: web.Request) -> web.Response:
            conv = self._find(request)
            if isinstance(conv, web.Response):
                return conv
            body = await request.json() if request.method == "POST" else None
            return await handlers[self.kind(request, body)](conv, body)

        app.router.add_route("*", BASE + "/{what}", dispatch)

    def kind(self, request: web.Request, body: Any) -> str:
        what = request.path.rsplit("/", 1)[-1]
        if what == "messages":
            if request.method == "GET":
                return "messages"
            return "note" if isinstance(body, dict) and body.get("private") else "message"
        return {
            "toggle_status": "status",
            "custom_attributes": "attributes",
            "toggle_typing_status": "typing",
        }.get(what, what)

    def authorised(self, request: web.Request) -> bool:
        return request.headers.get("api_access_token") == self.token

    def unauthorised(self) -> web.Response:
        return web.json_response({"error": "Invalid Access Token"}, status=401)

    def _find(self, request: web.Request) -> Conversation | web.Response:
        if request.match_info["account"] != str(self.account):
            return web.json_response({"error": "You are not authorized to access this account"}, status=401)
        found = self.conversations.get(int(request.match_info["conversation"]))
        return (
            found
            if found is not None
            else web.json_response({"error": "Resource could not be found"}, status=404)
        )

    async def _post_message(self, conv: Conversation, body: Any) -> web.Response:
        problem = _message_problem(body)
        if problem:
            return web.json_response({"message": problem}, status=422)
        message = {
            "id": next(self._message_ids),
            "content": body["content"],
            "message_type": "outgoing",
            "content_type": body.get("content_type", "text"),
            "content_attributes": body.get("content_attributes") or {},
            "private": bool(body.get("private", False)),
            "conversation_id": conv.id,
            "sender": {"id": 42, "name": "supportbot", "type": "agent_bot"},
        }
        conv.messages.append(message)
        if self.deliver is not None:  # Chatwoot tells the agent bot about its own messages as well
            await self.deliver(self._event("message_created", conv, message))
        return web.json_response(message)

    async def _list_messages(self, conv: Conversation, body: Any) -> web.Response:
        return web.json_response(
            {"meta": {"labels": conv.labels, "contact": conv.contact}, "payload": conv.messages}
        )

    async def _toggle_status(self, conv: Conversation, body: Any) -> web.Response:
        if not isinstance(body, dict) or body.get("status") not in STATUSES:
            return web.json_response({"message": f"status must be one of {', '.join(STATUSES)}"}, status=422)
        conv.status = body["status"]
        return web.json_response(
            {
                "meta": {},
                "payload": {"success": True, "conversation_id": conv.id, "current_status": conv.status},
            }
        )

    async def _labels(self, conv: Conversation, body: Any) -> web.Response:
        labels = body.get("labels") if isinstance(body, dict) else None
        if not isinstance(labels, list) or not all(isinstance(x, str) and x and " " not in x for x in labels):
            return web.json_response({"message": "labels must be a list of names without spaces"}, status=422)
        conv.labels = list(labels)
        return web.json_response({"payload": conv.labels})

    async def _typing(self, conv: Conversation, body: Any) -> web.Response:
        problem = _typing_problem(body)
        if problem:
            return web.json_response({"message": problem}, status=422)
        conv.typing.append(body["typing_status"])
        return web.json_response({})

    async def _attributes(self, conv: Conversation, body: Any) -> web.Response:
        values = body.get("custom_attributes") if isinstance(body, dict) else None
        if not isinstance(values, dict):
            return web.json_response({"message": "custom_attributes must be an object"}, status=422)
        conv.attributes.update(values)
        return web.json_response({"custom_attributes": conv.attributes})


def _typing_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or body.get("typing_status") not in ("on", "off"):
        return "typing_status must be on or off"
    return None


def _message_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("content"), str) or not body["content"].strip():
        return "content can't be blank"
    if body.get("message_type", "outgoing") not in ("outgoing", "incoming"):
        return "message_type must be outgoing or incoming"
    if not isinstance(body.get("private", False), bool):
        return "private must be true or false"
    content_type = body.get("content_type", "text")
    if content_type not in CONTENT_TYPES:
        return f"content_type must be one of {', '.join(CONTENT_TYPES)}"
    if content_type == "input_select":
        items = (body.get("content_attributes") or {}).get("items")
        if not isinstance(items, list) or not items:
            return "an input_select needs content_attributes.items"
        for item in items:
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("title"), str)
                or not isinstance(item.get("value"), str)
            ):
                return "each item of an input_select is {title, value}, both strings"
    return None
