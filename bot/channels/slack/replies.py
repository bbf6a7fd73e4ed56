"""Posts the bot owes Slack: stored before the first try, retried with backoff until Slack has them, posted once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.refusals import refusal
from bot.escalation.outbox import backoff
from bot.storage import slack as stored
from bot.storage.database import now
from bot.storage.driver import Driver

log = logging.getLogger("bot.channels.slack")
METADATA_TYPE = "supportbot_reply"
STOP_WITHIN = 10.0  # seconds a stopping process waits for a try in flight before it cancels it
MIN_WAIT = 0.05  # seconds: a post due now but just leased elsewhere is not polled in a busy loop
THREAD_LOOKBACK = 1000  # replies of a thread searched for a post that Slack took but never confirmed


@dataclass(frozen=True)
class ReplyPolicy:
    """How hard to try: a customer waits for these, so the backoff is short and capped at a minute."""

    max_attempts: int = 40
    base_delay: float = 1.0
    max_delay: float = 60.0
    lease_seconds: float = 60.0  # a process that dies mid-try loses its lease; another retries the post
    poll_interval: float = 5.0  # how often to look for posts other processes left behind
    batch: int = 20


class ReplyQueue:
    """Stores each post with a unique key, tries it at once, and retries what failed in the background."""

    def __init__(self, driver: Driver, client: AsyncWebClient, policy: ReplyPolicy | None = None):
        self.driver = driver
        self.client = client
        self.policy = policy or ReplyPolicy()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    async def send(
        self,
        *,
        key: str,
        channel: str,
        thread_ts: str | None,
        text: str,
        blocks: list[dict[str, Any]],
        conversation: str | None = None,
        seen: str | None = None,
    ) -> bool:
        """Store the post (and mark the event `seen` with it) and try it now; False when a post with
        this key was stored before, e.g. by an earlier delivery of the same Slack event."""
        body = {"text": text, "blocks": blocks}
        reply = await stored.queue_reply(
            self.driver,
            key=key,
            conversation_id=conversation,
            channel=channel,
            thread_ts=thread_ts,
            body=body,
            seen=seen,
            lease_seconds=self.policy.lease_seconds,
        )
        if reply is None:
            return False
        self.ensure_running()
        await self._try(reply)
        return True

    async def deliver_due(self) -> int:
        """Due posts one at a time, oldest first (a thread's order), until none is due or the queue
        stops; returns how many were delivered. One lease at a time: a stop leaves no post held."""
        delivered = 0
        while not self._stopping.is_set():
            leased = await stored.lease_due(self.driver, 1, self.policy.lease_seconds)
            if not leased:
                break
            delivered += await self._try(leased[0])
        return delivered

    async def _try(self, reply: stored.StoredReply) -> bool:
        try:
            # A try that failed on our side (a timeout, a crash) may have reached Slack: look first.
            if not (reply.attempts and await self._posted(reply)):
                await self.client.chat_postMessage(
                    channel=reply.channel,
                    thread_ts=reply.thread_ts,
                    metadata={"event_type": METADATA_TYPE, "event_payload": {"delivery": reply.key}},
                    unfurl_links=False,
                    unfurl_media=False,
                    **reply.body,
                )
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as exc:
            await self._failed(reply, exc)
            return False
        await stored.reply_delivered(self.driver, reply.id)
        return True

    async def _failed(self, reply: stored.StoredReply, exc: Exception) -> None:
        attempts = reply.attempts + 1
        if isinstance(exc, SlackApiError):
            refused = refusal(exc)
            error, permanent, retry_after = refused.error, refused.permanent, refused.retry_after
        else:
            error, permanent, retry_after = f"Slack could not be reached: {type(exc).__name__}", False, None
        dead = permanent or attempts >= self.policy.max_attempts
        delay = backoff(attempts, retry_after, self.policy.base_delay, self.policy.max_delay)
        await stored.reply_failed(self.driver, reply, error, delay, dead)
        log.warning(
            "Slack post %s failed (%s); %s",
            reply.key,
            error,
            "given up" if dead else f"retry in {delay:.1f} s",
        )
        self._wake.set()

    async def _posted(self, reply: stored.StoredReply) -> bool:
        if not reply.thread_ts:
            return False
        try:
            response = await self.client.conversations_replies(
                channel=reply.channel, ts=reply.thread_ts, limit=THREAD_LOOKBACK, include_all_metadata=True
            )
        except SlackApiError as exc:
            if refusal(exc).error == "thread_not_found":
                return False  # nothing in it that Slack can show, so nothing of ours
            raise
        for message in response.get("messages") or ():
            metadata = message.get("metadata") or {}
            if (metadata.get("event_payload") or {}).get("delivery") == reply.key:
                return True
        return False

    # -- the background loop -----------------------------------------------------------------------

    def ensure_running(self) -> None:
        """Start the retry loop in this process if it isn't running (a process that queued a post
        retries it; one that starts later picks up what others left, see `run`)."""
        if self._loop is None or self._loop.done():
            self._loop = asyncio.create_task(self.run(), name="slack-replies")

    async def run(self) -> None:
        """Deliver due posts until stopped, waking when a try fails or the next one is due."""
        while not self._stopping.is_set():
            self._wake.clear()
            wait = self.policy.poll_interval
            try:
                await self.deliver_due()
                due = await stored.next_due(self.driver)
                if due is not None:
                    wait = min(wait, max(MIN_WAIT, due - now()))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Slack reply pass failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def stop(self) -> None:
        """Let a try in flight finish (so its post is marked, not left leased), then end the loop."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        self._stopping.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(loop), STOP_WITHIN)
        except TimeoutError:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
