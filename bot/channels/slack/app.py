"""The Bolt app: listeners for DMs, mentions, thread replies and buttons, with dedupe as middleware."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack import customer, takeover
from bot.channels.slack.blocks import CHOICE_ACTION_PREFIX
from bot.channels.slack.client import web_client
from bot.channels.slack.context import SlackContext
from bot.channels.slack.relays import Relays
from bot.channels.slack.replies import ReplyPolicy, ReplyQueue
from bot.errors import ConfigError
from bot.service import ConversationService
from bot.settings import Settings
from bot.storage import slack as stored

log = logging.getLogger("bot.channels.slack")
# A listener of ours: the context, the request body and bolt's own context (e.g. bot_user_id).
Listener = Callable[[SlackContext, dict[str, Any], Any], Awaitable[None]]


class SlackChannel:
    """The Slack side of supportbot: the Bolt app, its Web API client and the work in flight."""

    def __init__(
        self,
        service: ConversationService,
        settings: Settings,
        client: AsyncWebClient | None = None,
        reply_policy: ReplyPolicy | None = None,
    ):
        if not settings.slack_bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set; copy the Bot User OAuth Token (xoxb-…) of your app"
            )
        if not settings.slack_signing_secret and not settings.slack_app_token:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set; copy it from Basic Information of your Slack app "
                "(or set SLACK_APP_TOKEN for Socket Mode)"
            )
        self.service = service
        self.settings = settings
        self.client = client or web_client(settings)
        self.escalation_channel = settings.slack_escalation_channel
        self.replies = ReplyQueue(service.driver, self.client, reply_policy)
        self.relays = Relays(service.driver, self.replies, self.spawn)
        # Whichever process stores a customer's message relays it to a claiming agent's Slack thread:
        # every message the service stores is published on its bus by the process that stored it.
        self._unwatch = service.deps.events.watch(self.relays.observe)
        self._names: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "socket-mode-has-no-signing-secret",
            # Socket Mode requests are not signed; the websocket itself is authenticated.
            request_verification_enabled=bool(settings.slack_signing_secret),
        )
        self._register(self.app)

    # -- wiring --------------------------------------------------------------------------------

    def _register(self, app: AsyncApp) -> None:
        app.middleware(self._dedupe)
        app.event("app_mention")(self._tracked(customer.on_mention))
        app.event("message")(self._tracked(on_message))
        app.action(re.compile("^" + re.escape(CHOICE_ACTION_PREFIX)))(self._tracked(customer.on_choice))
        app.action(takeover.CLAIM_ACTION)(self._tracked(takeover.on_claim))
        app.action(takeover.HAND_BACK_ACTION)(self._tracked(takeover.on_hand_back))

    def _tracked(self, handler: Listener) -> Callable[..., Awaitable[None]]:
        """Run `handler(self, body, ack?)`, remembering its task so shutdown can wait for it."""

        async def listener(body: dict[str, Any], ack: Any, context: Any) -> None:
            with self._track():
                if body.get("type") == "block_actions":
                    await ack()  # Slack wants this within 3 s; the work below may take longer
                try:
                    await handler(self, body, context)
                except Exception:
                    # Not marked seen: Slack's retry of the event runs it again (the turn's
                    # idempotency key keeps a stored turn from being taken twice).
                    log.exception("Slack handler %s failed", getattr(handler, "__name__", handler))
                    return
                key = event_key(body)
                if key is not None:
                    # An event that owed no reply (or whose reply is stored, marking it already).
                    await stored.mark_seen(self.service.driver, key)

        listener.__name__ = getattr(handler, "__name__", "listener")
        return listener

    @contextlib.contextmanager
    def _track(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._tasks.discard(task)

    def spawn(self, work: Awaitable[Any], name: str, *, track: bool = True) -> asyncio.Task[Any]:
        """Run `work` in the background; tracked jobs are waited for by idle(), long-lived ones are not."""

        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Slack background job %s failed", name)

        task = asyncio.create_task(run(), name=name)
        if track:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return task

    async def idle(self) -> None:
        """Wait until every handler and job in flight is done (tests, graceful shutdown)."""
        me = asyncio.current_task()
        while True:
            # Bolt starts a listener with ensure_future after acking; let such tasks begin first.
            for _ in range(10):
                await asyncio.sleep(0)
            pending = [t for t in self._tasks if t is not me and not t.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    async def start(self) -> None:
        """Deliver the posts this or an earlier process left queued (the app's background job)."""
        self.replies.ensure_running()

    async def aclose(self) -> None:
        await self.idle()
        await self.replies.stop()
        self._unwatch()
        session = getattr(self.client, "session", None)
        if session is not None:
            await session.close()

    async def seen(self, key: str) -> bool:
        """Whether `key` was seen before: the service's unique key, so two processes agree."""
        return await self.service.seen_event(key)

    async def _dedupe(self, body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        """Slack retries an event it thinks we missed; a retry reaches a listener until the event's
        reply is stored for delivery (or it needed none), so a reply Slack refused is not dropped."""
        key = event_key(body)
        if key is not None and await stored.was_seen(self.service.driver, key):
            return BoltResponse(status=200, body="")
        await next()
        return None

    # -- small shared helpers ------------------------------------------------------------------

    async def user_name(self, user: str | None) -> str | None:
        """A person's display name (users.info), cached; None when Slack can't tell."""
        if not user:
            return None
        if user not in self._names:
            try:
                info = (await self.client.users_info(user=user)).get("user") or {}
            except Exception as exc:
                log.warning("users.info %s failed: %s", user, exc)
                return None
            profile = info.get("profile") or {}
            name = profile.get("real_name") or info.get("real_name") or info.get("name") or user
            self._names[user] = str(name)
        return self._names[user]


def event_key(body: dict[str, Any]) -> str | None:
    """The key an Events API delivery is known by (a retry has the same), or None for other requests."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    return f"slack:{event_id}" if event_id else None


async def on_message(ch: SlackContext, body: dict[str, Any], context: Any) -> None:
    """Every message event: a customer answering, or an agent writing in an escalation thread."""
    event = body.get("event") or {}
    if event.get("subtype") or event.get("bot_id") or not event.get("user"):
        return  # edits, joins, our own posts and other bots' are not answers
    if event.get("user") == context.get("bot_user_id"):
        return
    if event.get("channel") == ch.escalation_channel and event.get("thread_ts"):
        await takeover.on_agent_message(ch, body, context)
        return
    await customer.on_message(ch, body, context)


def build_slack_app(parts: Any, settings: Settings) -> AsyncApp:
    """The Bolt AsyncApp over the service in `parts` (bootstrap's parts, or the service itself)."""
    return SlackChannel(getattr(parts, "service", parts), settings).app
