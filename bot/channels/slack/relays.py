"""Relaying a claimed conversation: the customer's new messages, from any channel, into the agent's thread."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from bot.channels.slack.blocks import escape, section
from bot.channels.slack.replies import ReplyQueue
from bot.storage import slack as stored
from bot.storage.driver import Driver


class Relays:
    """The agent's Slack thread of each claimed conversation, kept in the database, so whichever process
    stores a customer's message relays it, also after the process that handled the claim is gone."""

    def __init__(self, driver: Driver, replies: ReplyQueue, spawn: Any) -> None:
        self.driver = driver
        self.replies = replies
        self.spawn = spawn  # SlackChannel.spawn: tracked tasks, awaited on close
        self._order = (
            asyncio.Lock()
        )  # this process relays one message at a time: the thread keeps their order

    async def start(self, conversation: str, channel: str, ts: str) -> None:
        await stored.save_claim(self.driver, conversation, channel, ts)

    async def stop(self, conversation: str) -> None:
        await stored.drop_claim(self.driver, conversation)

    async def relay(self, conversation: str, message: dict[str, Any]) -> None:
        """Post the customer's message into the agent's thread, if an agent claimed it in Slack."""
        async with self._order:
            claim = await stored.claim_of(self.driver, conversation)
            if claim is None:
                return
            channel, ts = claim
            text = str(message.get("text", ""))
            await self.replies.send(
                # Each stored message is published once, by the process that stored it: a fresh key.
                key=f"slack:relay:{conversation}:{secrets.token_hex(8)}",
                channel=channel,
                thread_ts=ts,
                text=f"Customer: {text}",
                blocks=[section(f":speech_balloon: *Customer:* {escape(text)}")],
                conversation=conversation,
            )

    async def observe(self, conversation_id: str, event: dict[str, Any]) -> None:
        """Watch the service's bus: the process that stores a message is the one that publishes it, on
        either database, so each customer message is relayed once, from whichever process served it."""
        kind = event.get("type")
        if kind == "status" and event.get("status") != "with_agent":
            # Handed back (from Slack or the agent API) or closed: the bot answers again.
            await self.stop(conversation_id)
        message = event.get("message") or {}
        if kind == "message" and message.get("role") == "user":
            # Beside the customer's turn, not in it.
            self.spawn(self.relay(conversation_id, message), name=f"slack-relay-{conversation_id}")
