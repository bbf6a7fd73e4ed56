"""The customer's side in Slack: a DM or mention starts a conversation, its thread carries the answers."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from bot.channels.slack.blocks import (
    Check,
    answered,
    checklist,
    choice_of,
    clip,
    label_of,
    slack_to_plain,
    turn_blocks,
)
from bot.channels.slack.context import SlackContext
from bot.channels.slack.threads import CHANNEL, Thread, customer_of
from bot.engine.model import Incoming, Turn
from bot.engine.probing import ProbeResult
from bot.errors import Conflict

log = logging.getLogger("bot.channels.slack")
MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")


TYPED_SHOWN = 200  # characters of a typed answer shown in place of the buttons it answered


def as_plain(text: str) -> str:
    """What the customer typed, without the bot's mention and Slack's markup (the service stores text)."""
    return slack_to_plain(MENTION.sub("", text)).strip()


def _team(body: dict[str, Any], event: dict[str, Any] | None = None) -> str:
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    if not team and event:
        team = event.get("team")
    if not team:
        team = (body.get("user") or {}).get("team_id")
    return str(team or "T")


async def on_mention(ch: SlackContext, body: dict[str, Any], context: Any) -> None:
    """@bot in a channel: a new thread starts a conversation; inside a bot thread it is an answer."""
    event = body.get("event") or {}
    if event.get("bot_id") or not event.get("user"):
        return
    thread = Thread.of_event(event, _team(body, event))
    conversation = None
    if event.get("thread_ts"):
        conversation = await ch.service.find_by_thread(CHANNEL, thread.key)
    if conversation is None:
        await start(ch, thread, str(event["user"]), body.get("event_id"))
        return
    text = as_plain(str(event.get("text", "")))
    if text:
        await answer(ch, conversation, thread, Incoming(text=text), body.get("event_id"))


async def on_message(ch: SlackContext, body: dict[str, Any], context: Any) -> None:
    """A person's message: in a DM it starts or continues a conversation; in a bot thread it answers."""
    event = body.get("event") or {}
    text = str(event.get("text") or "").strip()
    thread = Thread.of_event(event, _team(body, event))
    is_dm = event.get("channel_type") == "im"
    if not is_dm:
        if not event.get("thread_ts"):
            return  # channel chatter; a mention arrives as app_mention too
        bot_user = context.get("bot_user_id")
        if bot_user and f"<@{bot_user}>" in text:
            return  # the app_mention event for the same message answers it
    conversation = None
    if event.get("thread_ts"):
        conversation = await ch.service.find_by_thread(CHANNEL, thread.key)
    if conversation is None:
        if is_dm:
            await start(ch, thread, str(event["user"]), body.get("event_id"))
        return
    text = as_plain(text)
    if text:
        await answer(ch, conversation, thread, Incoming(text=text), body.get("event_id"))


async def on_choice(ch: SlackContext, body: dict[str, Any], context: Any) -> None:
    """A button click (already acked): show the answer in place of the buttons, then answer it."""
    action = (body.get("actions") or [{}])[0]
    choice = choice_of(str(action.get("action_id", "")))
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id", ""))
    message_ts = str(container.get("message_ts") or message.get("ts", ""))
    if not choice or not channel or not message_ts:
        return
    thread_ts = container.get("thread_ts") or message.get("thread_ts") or message_ts
    thread = Thread(_team(body), channel, str(thread_ts))
    # One answer per question message, however many clicks (or processes) race for it.
    if await ch.seen(f"slack:answer:{channel}:{message_ts}"):
        return
    conversation = await ch.service.find_by_thread(CHANNEL, thread.key)
    if conversation is None:
        return
    blocks = message.get("blocks") or []
    label = label_of(blocks, str(action["action_id"])) or str((action.get("text") or {}).get("text", choice))
    user = (body.get("user") or {}).get("id")
    await ch.client.chat_update(
        channel=channel,
        ts=message_ts,
        text=str(message.get("text") or label),
        blocks=answered(blocks, label, user),
    )
    await answer(ch, conversation, thread, Incoming(choice=choice), f"{channel}:{message_ts}")


async def start(ch: SlackContext, thread: Thread, user: str, event_id: str | None) -> None:
    name = await ch.user_name(user)
    key = f"slack:{event_id}" if event_id else f"slack:start:{thread.key}"
    try:
        started = await ch.service.start(
            None, CHANNEL, customer=customer_of(thread, user, name), thread_key=thread.key
        )
    except Conflict:
        # An earlier delivery of this event started the conversation, and its opening never got
        # stored for delivery (that would have marked the event seen): post what it has said.
        conversation = await ch.service.find_by_thread(CHANNEL, thread.key)
        if conversation is None:
            raise
        so_far = await ch.service.transcript(conversation)
        await post_turn(ch, thread, so_far.turn, key=key, conversation=conversation)
        return
    await post_turn(ch, thread, started.turn.turn, key=key, conversation=started.conversation_id)


async def answer(
    ch: SlackContext, conversation: str, thread: Thread, incoming: Incoming, key: str | None
) -> None:
    if incoming.text is not None:
        await retire_buttons(ch, thread, incoming.text)
    progress = ProbeProgress(ch, thread)
    turn = await ch.service.reply(
        conversation, incoming, idempotency_key=f"slack:{key}" if key else None, progress=progress
    )
    await progress.finish(turn.turn)
    await post_turn(
        ch,
        thread,
        turn.turn,
        key=f"slack:{key}" if key else f"slack:reply:{secrets.token_hex(8)}",
        conversation=conversation,
        probes=progress.ts is None,
    )


async def retire_buttons(ch: SlackContext, thread: Thread, typed: str) -> None:
    """A typed answer takes the place of the buttons of the question before it, so the thread shows
    what was answered and an old button cannot answer a question the conversation has left."""
    try:
        replies = await ch.client.conversations_replies(channel=thread.channel, ts=thread.ts, limit=1000)
        for message in reversed(replies.get("messages") or []):
            blocks = message.get("blocks") or []
            if message.get("bot_id") and any(b.get("type") == "actions" for b in blocks):
                await ch.client.chat_update(
                    channel=thread.channel,
                    ts=str(message["ts"]),
                    text=str(message.get("text") or typed),
                    blocks=answered(blocks, clip(typed, TYPED_SHOWN), None),
                )
                return
            if message.get("bot_id"):
                return  # the bot's last message asked nothing with buttons
    except Exception as exc:  # tidying the thread is a courtesy; the answer itself must go on
        log.warning("could not remove the previous question's buttons: %s", exc)


async def post_turn(
    ch: SlackContext, thread: Thread, turn: Turn, *, key: str, conversation: str, probes: bool = True
) -> None:
    """The bot's (or an agent's) messages and the next question, as one reply in the thread, stored
    under `key` before its first try so a refused post is retried and a repeated event posts nothing.
    A key of a Slack event marks the event seen with the stored reply."""
    text, blocks = turn_blocks(turn, probes=probes)
    if not blocks:
        return  # e.g. a customer message while an agent has the conversation
    await ch.replies.send(
        key=key,
        channel=thread.channel,
        thread_ts=thread.ts,
        text=text,
        blocks=blocks,
        conversation=conversation,
        seen=key,
    )


class ProbeProgress:
    """Posts "Checking example.com…" when the first check reports, then updates it as results come."""

    def __init__(self, ch: SlackContext, thread: Thread) -> None:
        self.ch = ch
        self.thread = thread
        self.ts: str | None = None
        self.target: str | None = None
        self.results: list[ProbeResult] = []

    async def __call__(self, result: ProbeResult) -> None:
        self.results.append(result)
        if self.target is None:
            self.target = _target(result)
        text, blocks = checklist(self.results, self.target, done=False)
        try:
            if self.ts is None:
                response = await self.ch.client.chat_postMessage(
                    channel=self.thread.channel, thread_ts=self.thread.ts, text=text, blocks=blocks
                )
                self.ts = str(response["ts"])
            else:
                await self.ch.client.chat_update(
                    channel=self.thread.channel, ts=self.ts, text=text, blocks=blocks
                )
        except Exception as exc:  # progress is a courtesy; the turn itself must go on
            log.warning("could not show probe progress: %s", exc)

    async def finish(self, turn: Turn) -> None:
        """Replace the "checking…" message with the checklist of every check in the turn."""
        if self.ts is None:
            return
        probes: list[Check] = [m.probe for m in turn.messages if m.type == "probe" and m.probe is not None]
        text, blocks = checklist(probes or self.results, self.target, done=True)
        await self.ch.client.chat_update(channel=self.thread.channel, ts=self.ts, text=text, blocks=blocks)


def _target(result: ProbeResult) -> str | None:
    details = result.details or {}
    for key in ("domain", "host", "ip"):
        value = details.get(key)
        if isinstance(value, str) and value:
            return value
    return None
