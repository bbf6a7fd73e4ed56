"""The Slack escalation sink: posts a handoff packet to SLACK_ESCALATION_CHANNEL with Claim buttons."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.blocks import (
    BLOCKS_PER_MESSAGE,
    SECTION_LIMIT,
    Block,
    clip,
    context,
    escape,
    probe_blocks,
    section,
)
from bot.channels.slack.client import web_client
from bot.channels.slack.refusals import refusal
from bot.channels.slack.takeover import METADATA_TYPE, actions, escalation_metadata
from bot.channels.slack.threads import Thread, thread_of_customer
from bot.errors import DeliveryError
from bot.settings import Settings

# A transcript longer than this goes in the thread as a file (a snippet) rather than as messages.
SNIPPET_OVER = 6000
# How far back in the escalation channel a retried delivery looks for the summary it may have posted.
RECENT_MESSAGES = 200
ROLE_NAMES = {"user": "Customer", "bot": "Bot", "agent": "Agent"}


def _get(packet: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    for name in names:
        if packet.get(name) not in (None, ""):
            return packet[name]
    return default


def _probes(packet: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = _get(packet, "probes", "probe_results", default=[])
    if isinstance(found, Mapping):
        found = list(found.values())
    return [p for p in found if isinstance(p, Mapping) and "status" in p]


def _facts(packet: Mapping[str, Any]) -> str:
    slots = packet.get("slots") or {}
    parts = [
        f"{escape(str(k))}: *{escape(str(v))}*"
        for k, v in slots.items()
        if isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v)
    ]
    return "  ·  ".join(parts)


def summary_blocks(
    packet: Mapping[str, Any], conversation: str, customer_thread: Thread | None
) -> list[Block]:
    """The summary message: reason, who, key facts, probe results, and the Claim buttons."""
    reason = str(_get(packet, "reason", default="The customer asked for a person."))
    customer = packet.get("customer") or {}
    who = customer.get("name") or customer.get("email") or customer.get("slack_user") or "a customer"
    flow = _get(packet, "flow", "flow_id", default="?")
    version = _get(packet, "version", "flow_version", default="")
    if isinstance(flow, Mapping):  # {"id", "version", "title"}
        flow, version = flow.get("id", "?"), flow.get("version", version)
    channel = _get(packet, "channel", default="?")
    blocks: list[Block] = [
        section(f":sos: *Escalation:* {escape(reason)}"),
        context(
            f"From *{escape(str(who))}* on {escape(str(channel))}  ·  flow `{escape(str(flow))}`"
            f"{' v' + escape(str(version)) if version else ''}  ·  conversation `{escape(conversation)}`"
        ),
    ]
    summary = _get(packet, "summary")
    if summary:
        blocks.append(section(escape(str(summary))))
    facts = _facts(packet)
    if facts:
        blocks.append(context(facts))
    tried = [str(t) for t in packet.get("tried") or () if t]
    if tried:
        blocks.append(context("Tried: " + escape("; ".join(tried))))
    for probe in _probes(packet):
        blocks.extend(probe_blocks(probe))
    blocks = blocks[: BLOCKS_PER_MESSAGE - 1]
    blocks.append(actions(conversation, customer_thread, claimed=False))
    return blocks


def transcript_lines(packet: Mapping[str, Any]) -> list[str]:
    lines = []
    for message in packet.get("transcript") or ():
        role = str(message.get("role", "bot"))
        name = message.get("agent") if role == "agent" else None
        text = str(message.get("text", ""))
        if message.get("type") == "probe" and message.get("probe"):
            text = f"[{message['probe'].get('status')}] {text}"
        lines.append(f"{name or ROLE_NAMES.get(role, role)}: {text}")
    return lines


class SlackSink:
    """Delivers escalations to one Slack channel; raises DeliveryError so the outbox can retry."""

    name = "slack"

    def __init__(self, client: AsyncWebClient, channel: str) -> None:
        self.client = client
        self.channel = channel

    async def deliver(self, packet: Mapping[str, Any], idempotency_key: str | None = None) -> None:
        conversation = str(_get(packet, "conversation", "conversation_id", default=""))
        customer_thread = thread_of_customer(packet.get("customer"))
        reason = str(_get(packet, "reason", default="escalation"))
        try:
            # A worker may have died after Slack accepted the post and before the outbox heard:
            # then the summary is in the channel already, and at most its transcript is missing.
            earlier = await self._posted(idempotency_key) if idempotency_key else None
            if earlier is not None:
                ts, replies = earlier
                if not replies:
                    await self._transcript(packet, ts, conversation)
                return
            posted = await self.client.chat_postMessage(
                channel=self.channel,
                text=f"Escalation: {escape(reason)}",
                blocks=summary_blocks(packet, conversation, customer_thread),
                metadata=escalation_metadata(conversation, customer_thread, delivery=idempotency_key or ""),
                unfurl_links=False,
                unfurl_media=False,
            )
            await self._transcript(packet, str(posted["ts"]), conversation)
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except SlackClientError as exc:
            raise DeliveryError(f"Slack could not be reached: {exc}") from exc
        except OSError as exc:
            raise DeliveryError(f"Slack could not be reached: {exc}") from exc

    async def _posted(self, key: str) -> tuple[str, int] | None:
        """(ts, reply count) of a summary this delivery posted before, from the channel's recent history."""
        history = await self.client.conversations_history(
            channel=self.channel, limit=RECENT_MESSAGES, include_all_metadata=True
        )
        for message in history.get("messages") or ():
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_TYPE and payload.get("delivery") == key:
                return str(message["ts"]), int(message.get("reply_count") or 0)
        return None

    async def _transcript(self, packet: Mapping[str, Any], ts: str, conversation: str) -> None:
        lines = transcript_lines(packet)
        if not lines:
            return
        full = "\n".join(lines)
        if len(full) > SNIPPET_OVER:
            await self.client.files_upload_v2(
                channel=self.channel,
                thread_ts=ts,
                content=full,
                filename=f"transcript-{conversation}.txt",
                title="Transcript",
                initial_comment="The whole conversation so far:",
            )
            return
        # Bold role names are ours; everything the customer typed is escaped.
        rendered = []
        for line in lines:
            who, _, text = line.partition(": ")
            rendered.append(f"*{escape(who)}:* {escape(text)}")
        chunks: list[str] = []
        for line in rendered:
            if chunks and len(chunks[-1]) + len(line) + 1 <= SECTION_LIMIT:
                chunks[-1] += "\n" + line
            else:
                chunks.append(clip(line, SECTION_LIMIT))
        await self.client.chat_postMessage(
            channel=self.channel,
            thread_ts=ts,
            text="Transcript",
            blocks=[section(chunk) for chunk in chunks[:BLOCKS_PER_MESSAGE]],
            unfurl_links=False,
            unfurl_media=False,
        )


def _delivery_error(exc: SlackApiError) -> DeliveryError:
    refused = refusal(exc)
    return DeliveryError(
        f"Slack refused the escalation post: {refused.error}",
        retry_after=refused.retry_after,
        permanent=refused.permanent,
    )


def slack_sink(settings: Settings) -> SlackSink | None:
    """The Slack sink when a bot token and an escalation channel are set (the channel's sink entry point)."""
    if not (settings.slack_bot_token and settings.slack_escalation_channel):
        return None
    return SlackSink(web_client(settings), settings.slack_escalation_channel)
