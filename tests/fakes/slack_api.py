"""A fake Slack Web API: a real HTTP server on loopback that records calls and answers like Slack."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from tests.fakes import serve_app, wait_until

TEAM_ID = "T0SUPPORT"
BOT_USER_ID = "U0SUPBOT"
BOT_ID = "B0SUPBOT"
BOT_TOKEN = "xoxb-test-token"
MAX_BLOCKS = 50  # Slack refuses a message with more blocks (invalid_blocks)
APP_TOKEN = "xapp-1-A0SUPBOT-test-token"  # app-level, for Socket Mode's apps.connections.open
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"

# Methods a bot token may call here; anything else answers unknown_method like Slack does.
_METHODS = (
    "auth.test",
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "conversations.replies",
    "conversations.history",
    "users.info",
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
    "apps.connections.open",
)


@dataclass
class Call:
    """One Web API request as the fake received it."""

    method: str
    args: dict[str, Any]
    token: str | None
    status: int = 200


@dataclass
class FakeMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    user: str
    metadata: dict[str, Any] | None = None
    edits: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)

    def to_slack(self, with_metadata: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "user": self.user,
            "text": self.text,
            "ts": self.ts,
            "team": TEAM_ID,
        }
        if self.user == BOT_USER_ID:
            out["bot_id"] = BOT_ID
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if with_metadata and self.metadata:
            out["metadata"] = self.metadata
        if self.files:
            out["files"] = self.files
        return out


class FakeSlackAPI:
    """Records every call in `calls` and keeps the messages it was asked to post, per channel."""

    def __init__(self, token: str = BOT_TOKEN, app_token: str = APP_TOKEN) -> None:
        self.token = token
        self.app_token = app_token
        self.socket_mode_url = ""  # where apps.connections.open sends clients (tests.fakes.slack_socket)
        self.connections_opened = 0
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], FakeMessage] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self._rate_limits: dict[str, list[int]] = {}
        self._failures: dict[str, int] = {}
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self.url = ""

    # -- scripting -----------------------------------------------------------------------------

    def add_user(self, user_id: str, real_name: str, *, is_bot: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": real_name.lower().replace(" ", "."),
            "real_name": real_name,
            "is_bot": is_bot,
            "profile": {"real_name": real_name, "display_name": real_name.split()[0]},
        }

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 and `Retry-After: retry_after`."""
        self._rate_limits.setdefault(method, []).extend([retry_after] * times)

    def fail(self, method: str, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with a 500, as Slack does in an outage."""
        self._failures[method] = self._failures.get(method, 0) + times

    def recover(self) -> None:
        """The outage is over: no more scripted 500s."""
        self._failures.clear()

    # -- reading what happened -----------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.status == 200]

    def thread(self, channel: str, thread_ts: str) -> list[FakeMessage]:
        """The parent message and its replies, oldest first."""
        found = [
            m
            for (ch, _), m in self.messages.items()
            if ch == channel and (m.ts == thread_ts or m.thread_ts == thread_ts)
        ]
        return sorted(found, key=lambda m: float(m.ts))

    def in_channel(self, channel: str) -> list[FakeMessage]:
        return sorted((m for (ch, _), m in self.messages.items() if ch == channel), key=lambda m: float(m.ts))

    async def wait_for(self, predicate: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked after every call); a guard, not a timing test."""
        return await wait_until(
            self._changed,
            predicate,
            within,
            lambda: f"calls {[(c.method, c.args.get('text')) for c in self.calls]}",
        )

    # -- server --------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeSlackAPI]:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_put("/upload/{file_id}", self._upload)
        app.router.add_post("/upload/{file_id}", self._upload)
        async with serve_app(app) as base:
            self.url = f"{base}/api/"
            yield self

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            raw = await request.read()
            if request.content_type == "application/json":
                args.update(json.loads(raw or b"{}"))
            else:
                args.update(parse_qsl(raw.decode(), keep_blank_values=True))
        # Slack accepts JSON-encoded strings for structured arguments in form posts.
        for key in ("blocks", "metadata", "files"):
            if isinstance(args.get(key), str):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        return args

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        call = Call(method, args, token)
        try:
            if self._failures.get(method):
                self._failures[method] -= 1
                call.status = 500
                return web.json_response({"ok": False, "error": "internal_error"}, status=500)
            pending = self._rate_limits.get(method)
            if pending:
                call.status = 429
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(pending.pop(0))},
                )
            # apps.connections.open takes only the app-level token; every other method the bot token.
            expected = self.app_token if method == "apps.connections.open" else self.token
            if token != expected:
                error = "not_allowed_token_type" if token in (self.token, self.app_token) else "invalid_auth"
                return web.json_response({"ok": False, "error": error})
            if method not in _METHODS:
                return web.json_response({"ok": False, "error": "unknown_method"})
            handler = getattr(self, "_" + method.replace(".", "_"))
            body: dict[str, Any] = handler(args, request)
            return web.json_response(body)
        finally:
            self.calls.append(call)
            async with self._changed:
                self._changed.notify_all()

    def _next_ts(self) -> str:
        return f"{1700000000 + next(self._ts)}.000100"

    def _auth_test(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://supportbot-test.slack.com/",
            "team": "Support Test",
            "user": "supportbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        if not self.socket_mode_url:
            return {"ok": False, "error": "internal_error"}
        self.connections_opened += 1
        return {"ok": True, "url": f"{self.socket_mode_url}?ticket=t{self.connections_opened}"}

    def _chat_postMessage(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if len(args.get("blocks") or ()) > MAX_BLOCKS:
            return {"ok": False, "error": "invalid_blocks"}
        ts = self._next_ts()
        message = FakeMessage(
            channel=channel,
            ts=ts,
            text=args.get("text", ""),
            blocks=args.get("blocks"),
            thread_ts=args.get("thread_ts"),
            user=BOT_USER_ID,
            metadata=args.get("metadata"),
        )
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message.to_slack(True)}

    def _chat_postEphemeral(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        key = (args.get("channel", ""), args.get("ts", ""))
        message = self.messages.get(key)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if len(args.get("blocks") or ()) > MAX_BLOCKS:
            return {"ok": False, "error": "invalid_blocks"}
        if "text" in args:
            message.text = args["text"]
        if "blocks" in args:
            message.blocks = args["blocks"]
        if args.get("metadata"):
            message.metadata = args["metadata"]
        message.edits += 1
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message.text}

    def _conversations_replies(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        channel, ts = args.get("channel", ""), args.get("ts", "")
        thread = self.thread(channel, ts)
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(args.get("limit") or 1000)
        return {
            "ok": True,
            "messages": [m.to_slack(with_metadata) for m in thread[:limit]],
            "has_more": len(thread) > limit,
        }

    def _conversations_history(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        """A channel's top-level messages, newest first, each with its reply_count (as Slack lists them)."""
        channel = args.get("channel", "")
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(args.get("limit") or 100)
        top = [m for m in reversed(self.in_channel(channel)) if not m.thread_ts or m.thread_ts == m.ts]
        listed = []
        for message in top[:limit]:
            shown = message.to_slack(with_metadata)
            replies = len(self.thread(channel, message.ts)) - 1
            if replies:
                shown["reply_count"] = replies
            listed.append(shown)
        return {"ok": True, "messages": listed, "has_more": len(top) > limit}

    def _users_info(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        user = self.users.get(args.get("user", ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _files_getUploadURLExternal(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        file_id = f"F{len(self.uploads) + 1:08d}"
        self.uploads[file_id] = {"id": file_id, "name": args.get("filename"), "content": b""}
        base = self.url.removesuffix("api/")
        return {"ok": True, "upload_url": f"{base}upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        files = args.get("files") or []
        channel = args.get("channel_id")
        shared = []
        for item in files:
            upload = self.uploads.get(item.get("id"))
            if upload is None:
                return {"ok": False, "error": "file_not_found"}
            upload["title"] = item.get("title")
            shared.append({"id": upload["id"], "name": upload["name"], "title": item.get("title")})
        if channel:
            ts = self._next_ts()
            self.messages[(channel, ts)] = FakeMessage(
                channel=channel,
                ts=ts,
                text=args.get("initial_comment", ""),
                blocks=None,
                thread_ts=args.get("thread_ts"),
                user=BOT_USER_ID,
                files=shared,
            )
        return {"ok": True, "files": shared}

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404)
        upload["content"] = await request.read()
        return web.Response(text="OK - " + str(len(upload["content"])))


# -- the other direction: requests "from Slack" to the app, signed like Slack signs them ---------


def signed_headers(
    body: bytes | str,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/json",
) -> dict[str, str]:
    """Headers Slack would send with `body`, signed with the real v0 algorithm."""
    raw = body if isinstance(body, str) else body.decode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=raw)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
    }


def event_id_for(seed: str) -> str:
    """A stable, Slack-looking event id for a test payload."""
    return "Ev" + hashlib.sha1(seed.encode()).hexdigest()[:10].upper()
