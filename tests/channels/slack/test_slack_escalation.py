"""Escalation to the support channel and agent takeover from Slack, for widget and Slack customers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.sink import SlackSink
from bot.errors import DeliveryError
from tests.fakes.slack_api import BOT_TOKEN, FakeSlackAPI
from tests.support.slack import (
    AGENT,
    DM,
    ESCALATIONS,
    HOSTILE,
    OTHER_AGENT,
    SlackWorld,
    buttons,
    escalation_posted,
    escalation_thread,
    next_reply,
    shown,
    widget_conversation,
)


@contextlib.asynccontextmanager
async def collected(world: SlackWorld, conversation: str) -> AsyncIterator[list[dict[str, Any]]]:
    """The events a widget's stream would receive, collected in the background."""
    seen: list[dict[str, Any]] = []
    listening = asyncio.Event()

    async def collect() -> None:
        async for event in world.service.events.subscribe(conversation, ready=listening):
            seen.append(event)

    task = asyncio.create_task(collect())
    async with asyncio.timeout(10):
        await listening.wait()  # nothing published from here on is missed
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_widget_escalation_is_claimed_answered_and_handed_back_from_slack(slack: SlackWorld) -> None:
    conversation, auth = await widget_conversation(slack)
    summary = await escalation_posted(slack)
    assert set(buttons(summary)) == {"escalation:claim", "escalation:hand_back"}
    # What the customer typed stays literal text: no @channel, no mention, no live link.
    thread = escalation_thread(slack, summary)
    everything = shown(summary) + thread
    assert "&lt;!channel&gt; &lt;@U0BOSS&gt; &lt;https://evil.example|click me&gt; &amp; more" in thread
    assert (
        "<!channel>" not in everything and "<@U0BOSS>" not in everything and "<https://evil" not in everything
    )

    async with collected(slack, conversation) as events:
        assert (await slack.sim.click(summary, "escalation:claim", user=AGENT)).status_code == 200
        claimed = await slack.fake.wait_for(
            lambda: (
                "Claimed by <@U0AGENT01>" in shown(m := slack.fake.messages[(ESCALATIONS, summary.ts)]) and m
            )
        )
        await slack.channel.idle()
        assert set(buttons(claimed)) == {"escalation:hand_back"}
        assert (await slack.service.transcript(conversation)).status == "with_agent"

        # The claiming agent's reply reaches the widget customer; a colleague's note does not.
        await slack.sim.reply(ESCALATIONS, summary.ts, "note to self: check the MX", user=OTHER_AGENT)
        await slack.sim.reply(
            ESCALATIONS, summary.ts, "Hi, I'm Alex. See <https://help.example/587|this guide>", user=AGENT
        )
        await slack.channel.idle()
        transcript = await slack.http.get(f"/api/conversations/{conversation}", headers=auth)
        agent_texts = [m["text"] for m in transcript.json()["messages"] if m["role"] == "agent"]
        assert agent_texts == ["Hi, I'm Alex. See this guide (https://help.example/587)"]
        assert any(e.get("message", {}).get("role") == "agent" for e in events)

        # The customer's reply comes back into the escalation thread, escaped.
        sent = await slack.http.post(
            f"/api/conversations/{conversation}/messages", json={"text": "thanks <!here>"}, headers=auth
        )
        assert sent.status_code == 200
        await slack.fake.wait_for(lambda: "thanks &lt;!here&gt;" in escalation_thread(slack, summary))

    await slack.sim.click(slack.fake.messages[(ESCALATIONS, summary.ts)], "escalation:hand_back", user=AGENT)
    await slack.fake.wait_for(
        lambda: "Handed back to the bot" in shown(slack.fake.messages[(ESCALATIONS, summary.ts)])
    )
    await slack.channel.idle()
    assert (await slack.service.transcript(conversation)).status == "active"
    assert "escalation:claim" in buttons(slack.fake.messages[(ESCALATIONS, summary.ts)])


async def test_a_slack_customer_talks_to_the_agent_in_their_own_thread(slack: SlackWorld) -> None:
    ts = (await slack.sim.dm("hello"))["event"]["ts"]
    await next_reply(slack, DM, ts, 1)
    await slack.sim.reply(DM, ts, "human")
    await next_reply(slack, DM, ts, 2)
    summary = await escalation_posted(slack)
    assert "Casey Customer" in shown(summary)

    await slack.sim.click(summary, "escalation:claim", user=AGENT)
    joined = await next_reply(slack, DM, ts, 3)
    assert "Alex Agent from our support team has joined" in shown(joined)

    await slack.sim.reply(ESCALATIONS, summary.ts, "Which program do you use?", user=AGENT)
    relayed = await next_reply(slack, DM, ts, 4)
    assert "*Alex Agent:* Which program do you use?" in shown(relayed)

    await slack.sim.reply(DM, ts, "Outlook <@U0BOSS>")
    await slack.fake.wait_for(lambda: "Outlook" in escalation_thread(slack, summary))
    assert "<@U0BOSS>" not in escalation_thread(slack, summary)
    # While the agent has the conversation the bot stays quiet in the customer's thread.
    await slack.channel.idle()
    assert len([m for m in slack.fake.thread(DM, ts) if m.ts != ts]) == 4

    await slack.sim.click(slack.fake.messages[(ESCALATIONS, summary.ts)], "escalation:hand_back", user=AGENT)
    back = await next_reply(slack, DM, ts, 5)
    assert "What happens when you try to send an email?" in shown(back)


async def test_a_long_transcript_goes_in_as_a_snippet(fake_slack: FakeSlackAPI) -> None:
    sink = SlackSink(AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.url), ESCALATIONS)
    packet = {
        "conversation": "c_long",
        "reason": "The customer asked for a person.",
        "channel": "web",
        "customer": {},
        "transcript": [{"role": "user", "type": "text", "text": f"line {i} {HOSTILE}"} for i in range(200)],
    }
    await sink.deliver(packet, "key-1")
    (upload,) = fake_slack.uploads.values()
    assert b"line 199" in upload["content"]
    (summary,) = [m for m in fake_slack.in_channel(ESCALATIONS) if not m.thread_ts]
    assert fake_slack.thread(ESCALATIONS, summary.ts)[1].files


async def test_slack_refusals_become_delivery_errors(fake_slack: FakeSlackAPI) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.url)
    client.retry_handlers = []  # the outbox retries, honouring Retry-After
    packet = {"conversation": "c_1", "reason": "stuck", "transcript": []}
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=7)
    with pytest.raises(DeliveryError) as limited:
        await SlackSink(client, ESCALATIONS).deliver(packet, "k")
    assert limited.value.retry_after == 7 and not limited.value.permanent
    with pytest.raises(DeliveryError) as refused:
        await SlackSink(AsyncWebClient(token="xoxb-revoked", base_url=fake_slack.url), ESCALATIONS).deliver(
            packet, "k"
        )
    assert refused.value.permanent


def packet(transcript: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "conversation": "c_retry",
        "reason": "Port 587 is closed",
        "channel": "web",
        "customer": {"name": "Jo"},
        "flow": {"id": "cant-send-email", "version": "1", "title": "I can't send emails"},
        "transcript": transcript,
    }


async def test_a_delivery_retried_after_slack_accepted_it_posts_once(fake_slack: FakeSlackAPI) -> None:
    sink = SlackSink(AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.url), ESCALATIONS)
    story = packet([{"role": "user", "text": "my mail times out"}, {"role": "bot", "text": "Checking…"}])
    await sink.deliver(story, "esc-7-slack")
    [summary] = [m for m in fake_slack.in_channel(ESCALATIONS) if not m.thread_ts]
    # The worker died after Slack took the summary, before the transcript: the retry adds only that.
    [transcript] = fake_slack.thread(ESCALATIONS, summary.ts)[1:]
    del fake_slack.messages[(ESCALATIONS, transcript.ts)]
    await sink.deliver(story, "esc-7-slack")
    await sink.deliver(story, "esc-7-slack")  # and once everything is there, a retry adds nothing
    assert [m.ts for m in fake_slack.in_channel(ESCALATIONS) if not m.thread_ts] == [summary.ts]
    assert len(fake_slack.thread(ESCALATIONS, summary.ts)) == 2
    # Another escalation (another key) is posted as usual.
    await sink.deliver(story, "esc-8-slack")
    assert len([m for m in fake_slack.in_channel(ESCALATIONS) if not m.thread_ts]) == 2


async def test_long_transcript_lines_are_cut_with_an_ellipsis(fake_slack: FakeSlackAPI) -> None:
    sink = SlackSink(AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.url), ESCALATIONS)
    await sink.deliver(packet([{"role": "user", "text": "x" * 4000}]), "esc-9-slack")
    [summary] = [m for m in fake_slack.in_channel(ESCALATIONS) if not m.thread_ts]
    [transcript] = fake_slack.thread(ESCALATIONS, summary.ts)[1:]
    [block] = transcript.blocks or []
    assert len(block["text"]["text"]) == 3000 and block["text"]["text"].endswith("x…")


async def test_a_claimed_escalation_with_many_findings_stays_within_slacks_block_limit(
    slack: SlackWorld,
) -> None:
    conversation, _auth = await widget_conversation(slack)
    findings = [{"id": f"check_{i}", "status": "fail", "summary": f"finding {i}"} for i in range(80)]
    story = {**packet([{"role": "user", "text": "human"}]), "conversation": conversation, "probes": findings}
    sink = SlackSink(AsyncWebClient(token=BOT_TOKEN, base_url=slack.fake.url), ESCALATIONS)
    await sink.deliver(story, "esc-50-slack")
    [summary] = [m for m in slack.fake.in_channel(ESCALATIONS) if not m.thread_ts]
    assert len(summary.blocks or ()) == 50 and "escalation:claim" in buttons(summary)
    await slack.sim.click(summary, "escalation:claim", user=AGENT)
    claimed = await slack.fake.wait_for(
        lambda: "Claimed by" in shown(m := slack.fake.messages[(ESCALATIONS, summary.ts)]) and m
    )
    await slack.channel.idle()
    assert len(claimed.blocks or ()) <= 50 and set(buttons(claimed)) == {"escalation:hand_back"}
    assert "Escalation:" in shown(claimed)  # the reason at the top stayed; the last findings gave way
