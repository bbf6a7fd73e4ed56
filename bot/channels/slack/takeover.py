"""The agent's side in Slack: Claim and Hand back on an escalation, and relaying the conversation."""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.channels.slack.blocks import BLOCKS_PER_MESSAGE, button, context, escape, section, slack_to_plain
from bot.channels.slack.context import SlackContext
from bot.channels.slack.customer import post_turn
from bot.channels.slack.threads import Thread
from bot.errors import BotError

log = logging.getLogger("bot.channels.slack")

METADATA_TYPE = "supportbot_escalation"
CLAIM_ACTION = "escalation:claim"
HAND_BACK_ACTION = "escalation:hand_back"


def button_value(conversation: str, customer_thread: Thread | None) -> str:
    """What Claim / Hand back carry, so a click needs no lookup."""
    return json.dumps({"c": conversation, "t": customer_thread.key if customer_thread else ""})


def escalation_metadata(
    conversation: str,
    customer_thread: Thread | None,
    agent: str = "",
    agent_name: str = "",
    delivery: str = "",
) -> dict[str, Any]:
    """Message metadata on the escalation summary: any process can tell whose thread it is, and a
    retried delivery (`delivery` is its idempotency key) can tell it was already posted."""
    payload = {
        "conversation": conversation,
        "customer_thread": customer_thread.key if customer_thread else "",
        "agent": agent,
        "agent_name": agent_name,
    }
    if delivery:
        payload["delivery"] = delivery
    return {"event_type": METADATA_TYPE, "event_payload": payload}


def actions(conversation: str, customer_thread: Thread | None, *, claimed: bool) -> dict[str, Any]:
    value = button_value(conversation, customer_thread)
    elements = [] if claimed else [button(CLAIM_ACTION, "Claim", value, style="primary")]
    elements.append(button(HAND_BACK_ACTION, "Hand back to bot", value))
    return {"type": "actions", "block_id": "escalation", "elements": elements}


def _clicked(body: dict[str, Any]) -> tuple[str, str, str, Thread | None, list[dict[str, Any]]] | None:
    action = (body.get("actions") or [{}])[0]
    try:
        value = json.loads(action.get("value") or "{}")
    except ValueError:
        return None
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if not value.get("c") or not channel or not ts:
        return None
    thread = Thread.from_key(value.get("t") or "")
    blocks = (body.get("message") or {}).get("blocks") or []
    return str(value["c"]), str(channel), str(ts), thread, blocks


def _without(blocks: list[dict[str, Any]], block_id: str) -> list[dict[str, Any]]:
    """The summary's blocks without its buttons and state, leaving room to add both back within
    Slack's 50-block limit (the last probe findings give way, never the reason at the top)."""
    kept = [b for b in blocks if b.get("block_id") not in (block_id, "escalation-state")]
    return kept[: BLOCKS_PER_MESSAGE - 2]


async def on_claim(ch: SlackContext, body: dict[str, Any], ctx: Any) -> None:
    clicked = _clicked(body)
    if clicked is None:
        return
    conversation, channel, ts, customer_thread, blocks = clicked
    user = str((body.get("user") or {}).get("id", ""))
    name = await ch.user_name(user) or str((body.get("user") or {}).get("name") or user)
    await ch.relays.start(conversation, channel, ts)
    try:
        await ch.service.claim(conversation, name)
    except BotError as exc:
        await ch.relays.stop(conversation)
        await ch.client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=ts, text=f"I couldn't claim this conversation: {exc}"
        )
        return
    state = context(
        f":raising_hand: Claimed by <@{escape(user)}>. Reply in this thread to talk to the customer; "
        "they see your messages in their chat."
    )
    state["block_id"] = "escalation-state"
    await ch.client.chat_update(
        channel=channel,
        ts=ts,
        text=f"Escalation claimed by {name}",
        blocks=[*_without(blocks, "escalation"), state, actions(conversation, customer_thread, claimed=True)],
        metadata=escalation_metadata(conversation, customer_thread, user, name),
    )
    if customer_thread is not None:
        await ch.client.chat_postMessage(
            channel=customer_thread.channel,
            thread_ts=customer_thread.ts,
            text=f"{name} from our support team has joined this conversation.",
            blocks=[context(f":wave: *{escape(name)}* from our support team has joined this conversation.")],
        )


async def on_hand_back(ch: SlackContext, body: dict[str, Any], ctx: Any) -> None:
    clicked = _clicked(body)
    if clicked is None:
        return
    conversation, channel, ts, customer_thread, blocks = clicked
    user = str((body.get("user") or {}).get("id", ""))
    name = await ch.user_name(user) or user
    try:
        turn = await ch.service.hand_back(conversation, name)
    except BotError as exc:
        await ch.client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=ts, text=f"I couldn't hand this back: {exc}"
        )
        return
    await ch.relays.stop(conversation)
    state = context(f":robot_face: Handed back to the bot by <@{escape(user)}>.")
    state["block_id"] = "escalation-state"
    await ch.client.chat_update(
        channel=channel,
        ts=ts,
        text=f"Escalation handed back to the bot by {name}",
        blocks=[
            *_without(blocks, "escalation"),
            state,
            actions(conversation, customer_thread, claimed=False),
        ],
        metadata=escalation_metadata(conversation, customer_thread),
    )
    if customer_thread is not None:
        action_ts = str((body.get("actions") or [{}])[0].get("action_ts") or ts)
        key = f"slack:hand_back:{channel}:{ts}:{action_ts}"
        await post_turn(ch, customer_thread, turn.turn, key=key, conversation=conversation)


async def escalation_of(ch: SlackContext, channel: str, thread_ts: str) -> dict[str, Any] | None:
    """The metadata of the escalation summary that starts this thread, or None for other threads."""
    response = await ch.client.conversations_replies(
        channel=channel, ts=thread_ts, limit=1, include_all_metadata=True
    )
    messages = response.get("messages") or []
    if not messages or messages[0].get("ts") != thread_ts:
        return None
    metadata = messages[0].get("metadata") or {}
    if metadata.get("event_type") != METADATA_TYPE:
        return None
    payload = metadata.get("event_payload")
    return payload if isinstance(payload, dict) else None


async def on_agent_message(ch: SlackContext, body: dict[str, Any], ctx: Any) -> None:
    """The claiming agent's message in the escalation thread goes to the customer; others stay internal."""
    event = body.get("event") or {}
    escalation = await escalation_of(ch, str(event["channel"]), str(event["thread_ts"]))
    if escalation is None or not escalation.get("agent") or escalation["agent"] != event.get("user"):
        return
    text = slack_to_plain(str(event.get("text") or "")).strip()
    if not text:
        return
    name = str(escalation.get("agent_name") or await ch.user_name(str(event["user"])) or "Support")
    conversation = str(escalation["conversation"])
    # What was stored (redacted) is what the customer sees and what waits in the queue of posts.
    text = (await ch.service.agent_message(conversation, name, text)).message.text
    customer_thread = Thread.from_key(str(escalation.get("customer_thread") or ""))
    if customer_thread is not None:
        key = f"slack:{body.get('event_id') or event.get('ts')}"
        await ch.replies.send(
            key=key,
            channel=customer_thread.channel,
            thread_ts=customer_thread.ts,
            text=f"{name}: {text}",
            blocks=[section(f":bust_in_silhouette: *{escape(name)}:* {escape(text)}")],
            conversation=conversation,
            seen=key,
        )
