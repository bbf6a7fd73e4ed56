"""Fake Zendesk and Freshdesk ticket APIs: real HTTP servers on loopback that check what their docs require.

Both run on the test's event loop (`async with FakeZendesk().running() as zd:`), record every request in
`requests`, keep the tickets they created, and can be scripted:

- `fail(kind, status, times, headers)`: answer the next `times` requests of `kind` ("lookup", "create",
  "note", "notes") with `status`, before doing anything;
- `hold(kind)`: do the request's work (the ticket exists), then wait for `release()` before answering,
  so a test can kill the worker after the helpdesk has accepted a create but before the worker heard.

What they check, from the vendors' API references:
- Zendesk: `Authorization: Basic base64("{email}/token:{api_token}")`; `GET /api/v2/tickets.json?external_id=`;
  `POST /api/v2/tickets.json` `{"ticket": {subject, comment: {body | html_body, public}, requester?,
  tags, external_id, priority}}`; the `Idempotency-Key` header (a repeat answers the first ticket with
  `x-idempotency-lookup: hit`; the same key with another body is a 400 IdempotentRequestError).
- Freshdesk: `Authorization: Basic base64("{api_key}:X")`; `POST /api/v2/tickets` (subject,
  description, status 2-5, priority 1-4, a requester: email / requester_id / phone / unique_external_id,
  tags of at most 32 characters); `GET /api/v2/search/tickets?query="tag:'…'"` (the query in double
  quotes); `POST /api/v2/tickets/{id}/notes` `{body, private}`; `GET /api/v2/tickets/{id}/conversations`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes import serve_app

ZENDESK_EMAIL = "bot@acme.example"
ZENDESK_TOKEN = "zd-token-6f1e2b9c"
FRESHDESK_KEY = "fd-key-a41c77e0"


@dataclass
class Request:
    """One request as the fake saw it, and its answer."""

    kind: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class _Script:
    failures: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    holds: set[str] = field(default_factory=set)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    held: asyncio.Event = field(default_factory=asyncio.Event)


class FakeHelpdesk:
    """What both fakes share: the server, the request log, failure and hold scripting."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.tickets: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1001)
        self._script = _Script()
        self.url = ""

    # -- scripting -------------------------------------------------------------------------------

    def fail(self, kind: str, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        self._script.failures.setdefault(kind, []).extend([(status, headers or {})] * times)

    def hold(self, kind: str) -> None:
        self._script.holds.add(kind)

    async def held(self) -> None:
        """Wait until a held request has done its work (and now waits for release())."""
        await asyncio.wait_for(self._script.held.wait(), 30)

    def release(self) -> None:
        self._script.holds.clear()
        self._script.released.set()

    def of(self, kind: str) -> list[Request]:
        return [r for r in self.requests if r.kind == kind]

    # -- server ----------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Any]:
        app = web.Application(middlewares=[self._record])
        self.routes(app)
        async with serve_app(app) as self.url:
            try:
                yield self
            finally:
                self.release()  # a held handler must finish before the server can shut down

    def kind(self, request: web.Request, body: Any) -> str:
        raise NotImplementedError

    def authorised(self, request: web.Request) -> bool:
        raise NotImplementedError

    def unauthorised(self) -> web.Response:
        raise NotImplementedError

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        kind = self.kind(request, body)
        entry = Request(kind, request.method, request.path, dict(request.query), dict(request.headers), body)
        self.requests.append(entry)
        response: web.StreamResponse
        planned = self._script.failures.get(kind)
        if planned:
            status, headers = planned.pop(0)
            response = web.json_response({"error": "scripted failure"}, status=status, headers=headers)
        elif not self.authorised(request):
            response = self.unauthorised()
        elif request.method == "POST" and request.content_type != "application/json":
            response = web.json_response({"error": "Content-Type must be application/json"}, status=415)
        else:
            response = await handler(request)
            if kind in self._script.holds:
                self._script.held.set()
                await self._script.released.wait()
        entry.status = response.status
        return response


def _basic(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password


class FakeZendesk(FakeHelpdesk):
    """Zendesk Support's ticket API, as much of it as the sink uses."""

    def __init__(self, email: str = ZENDESK_EMAIL, token: str = ZENDESK_TOKEN) -> None:
        super().__init__()
        self.email = email
        self.token = token
        self.honour_idempotency_key = True  # off: as if the key had expired (Zendesk keeps it 2 hours)
        self._keys: dict[str, tuple[Any, int]] = {}

    def routes(self, app: web.Application) -> None:
        for path in ("/api/v2/tickets.json", "/api/v2/tickets"):
            app.router.add_get(path, self._list)
            app.router.add_post(path, self._create)

    def kind(self, request: web.Request, body: Any) -> str:
        return "create" if request.method == "POST" else "lookup"

    def authorised(self, request: web.Request) -> bool:
        return _basic(request) == (f"{self.email}/token", self.token)

    def unauthorised(self) -> web.Response:
        return web.json_response({"error": "Couldn't authenticate you"}, status=401)

    async def _list(self, request: web.Request) -> web.Response:
        wanted = request.query.get("external_id")
        found = [t for t in self.tickets.values() if wanted is None or t.get("external_id") == wanted]
        return web.json_response(
            {"tickets": found, "next_page": None, "previous_page": None, "count": len(found)}
        )

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = request.headers.get("Idempotency-Key")
        if key and self.honour_idempotency_key and key in self._keys:
            first_body, ticket_id = self._keys[key]
            if first_body != body:
                return web.json_response(
                    {"error": "IdempotentRequestError", "description": "Request parameters differ"},
                    status=400,
                )
            return web.json_response(
                {"ticket": self.tickets[ticket_id]}, status=201, headers={"x-idempotency-lookup": "hit"}
            )
        problems = _zendesk_problems(body)
        if problems:
            return web.json_response(
                {"error": "RecordInvalid", "description": "Record validation errors", "details": problems},
                status=422,
            )
        ticket = dict(body["ticket"])
        ticket_id = next(self._ids)
        comment = ticket.pop("comment")
        ticket.update(
            id=ticket_id,
            status="new",
            description=comment.get("body") or comment.get("html_body"),
            comments=[comment],
        )
        self.tickets[ticket_id] = ticket
        if key:
            self._keys[key] = (body, ticket_id)
        return web.json_response({"ticket": ticket}, status=201, headers={"x-idempotency-lookup": "miss"})


def _zendesk_problems(body: Any) -> dict[str, list[str]]:
    ticket = body.get("ticket") if isinstance(body, dict) else None
    if not isinstance(ticket, dict):
        return {"base": ['the body must be {"ticket": {...}}']}
    problems: dict[str, list[str]] = {}
    comment = ticket.get("comment")
    if not isinstance(comment, dict) or not (comment.get("body") or comment.get("html_body")):
        problems["comment"] = ["a ticket needs a first comment: comment.body or comment.html_body"]
    elif not isinstance(comment.get("public", True), bool):
        problems["comment"] = ["comment.public must be true or false"]
    subject = ticket.get("subject")
    if subject is not None and (not isinstance(subject, str) or len(subject) > 150):
        problems["subject"] = ["subject is a string of at most 150 characters"]
    tags = ticket.get("tags", [])
    if not isinstance(tags, list) or any(not isinstance(t, str) or " " in t or not t for t in tags):
        problems["tags"] = ["tags are non-empty strings without spaces"]
    requester = ticket.get("requester")
    if requester is not None:
        email = requester.get("email") if isinstance(requester, dict) else None
        if (
            not isinstance(requester, dict)
            or not requester.get("name")
            or (email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email))
        ):
            problems["requester"] = ["requester needs a name and, if given, a valid email"]
    if ticket.get("priority") not in (None, "urgent", "high", "normal", "low"):
        problems["priority"] = ["priority is urgent, high, normal or low"]
    return problems


class FakeFreshdesk(FakeHelpdesk):
    """Freshdesk's ticket, note and filter APIs, as much of them as the sink uses."""

    REQUESTERS = ("requester_id", "email", "facebook_id", "phone", "twitter_id", "unique_external_id")

    def __init__(self, api_key: str = FRESHDESK_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self._note_ids = itertools.count(5001)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v2/tickets", self._create)
        app.router.add_get("/api/v2/search/tickets", self._search)
        app.router.add_post("/api/v2/tickets/{id}/notes", self._note)
        app.router.add_get("/api/v2/tickets/{id}/conversations", self._conversations)

    def kind(self, request: web.Request, body: Any) -> str:
        if request.path.endswith("/notes"):
            return "note"
        if request.path.endswith("/conversations"):
            return "notes"
        return "lookup" if "search" in request.path else "create"

    def authorised(self, request: web.Request) -> bool:
        found = _basic(request)
        return found is not None and found[0] == self.api_key

    def unauthorised(self) -> web.Response:
        return web.json_response(
            {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."},
            status=401,
        )

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        errors = _freshdesk_problems(body, self.REQUESTERS)
        if errors:
            return web.json_response({"description": "Validation failed", "errors": errors}, status=400)
        ticket_id = next(self._ids)
        ticket = {**body, "id": ticket_id, "tags": list(body.get("tags") or [])}
        self.tickets[ticket_id] = ticket
        self.notes[ticket_id] = []
        return web.json_response(ticket, status=201)

    async def _search(self, request: web.Request) -> web.Response:
        query = request.query.get("query", "")
        match = re.fullmatch(r"\"tag:'([^']+)'\"", query)
        if match is None:
            return web.json_response(
                {
                    "description": "Validation failed",
                    "errors": [
                        {
                            "field": "query",
                            "message": "query must be like \"tag:'value'\"",
                            "code": "invalid_value",
                        }
                    ],
                },
                status=400,
            )
        found = [t for t in self.tickets.values() if match.group(1) in t["tags"]]
        return web.json_response({"results": found, "total": len(found)})

    async def _note(self, request: web.Request) -> web.Response:
        ticket_id = int(request.match_info["id"])
        if ticket_id not in self.tickets:
            return web.json_response({"code": "access_denied", "message": "not found"}, status=404)
        body = await request.json()
        if (
            not isinstance(body, dict)
            or not body.get("body")
            or not isinstance(body.get("private", True), bool)
        ):
            return web.json_response(
                {"description": "Validation failed", "errors": [{"field": "body", "code": "missing_field"}]},
                status=400,
            )
        note = {
            "id": next(self._note_ids),
            "ticket_id": ticket_id,
            "body": body["body"],
            "body_text": re.sub(r"<[^>]+>", " ", body["body"]),
            "private": body.get("private", True),
        }
        self.notes[ticket_id].append(note)
        return web.json_response(note, status=201)

    async def _conversations(self, request: web.Request) -> web.Response:
        ticket_id = int(request.match_info["id"])
        if ticket_id not in self.tickets:
            return web.json_response({"code": "access_denied", "message": "not found"}, status=404)
        return web.json_response(self.notes[ticket_id])


def _freshdesk_problems(body: Any, requesters: tuple[str, ...]) -> list[dict[str, str]]:
    if not isinstance(body, dict):
        return [{"field": "body", "message": "a JSON object is expected", "code": "invalid_value"}]
    errors = []
    for name in ("subject", "description"):
        if not isinstance(body.get(name), str) or not body[name]:
            errors.append({"field": name, "message": "It should be a/an String", "code": "missing_field"})
    if body.get("status") not in (2, 3, 4, 5):
        errors.append(
            {
                "field": "status",
                "message": "It should be one of these values: '2,3,4,5'",
                "code": "invalid_value",
            }
        )
    if body.get("priority") not in (1, 2, 3, 4):
        errors.append(
            {
                "field": "priority",
                "message": "It should be one of these values: '1,2,3,4'",
                "code": "invalid_value",
            }
        )
    if not any(body.get(name) for name in requesters):
        errors.append(
            {
                "field": "requester_id",
                "message": "Please fill at least 1 of requester_id, email, facebook_id, phone, twitter_id, unique_external_id fields",
                "code": "missing_field",
            }
        )
    tags = body.get("tags", [])
    if not isinstance(tags, list) or any(not isinstance(t, str) or len(t) > 32 for t in tags):
        errors.append(
            {
                "field": "tags",
                "message": "Each tag is a string of at most 32 characters",
                "code": "invalid_value",
            }
        )
    return errors
