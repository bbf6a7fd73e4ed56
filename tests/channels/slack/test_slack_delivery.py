"""Bad luck on Slack's side: posts Slack refused are retried until delivered, once, also after a restart;
a claimed conversation is relayed by whichever process serves the customer, also after a restart."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.channels.slack.replies import ReplyPolicy
from bot.storage import slack as stored
from tests.fakes.slack_api import FakeSlackAPI
from tests.support.slack import (
    AGENT,
    DM,
    ESCALATIONS,
    SlackWorld,
    bot_replies,
    escalation_posted,
    escalation_thread,
    next_reply,
    shown,
    slack_settings,
    slack_world,
    widget_conversation,
)

# Retries within a few hundredths of a second, so an outage of a few tries passes quickly.
QUICK = ReplyPolicy(base_delay=0.02, max_delay=0.05, poll_interval=0.05)


def failed_posts(fake: FakeSlackAPI) -> int:
    return len([c for c in fake.calls if c.method == "chat.postMessage" and c.status == 500])


async def test_a_reply_slack_refused_is_retried_and_slacks_retry_adds_no_second(
    tmp_path: Path, fake_slack: FakeSlackAPI
) -> None:
    async with slack_world(slack_settings(tmp_path, fake_slack.url), fake_slack, QUICK) as world:
        fake_slack.fail("chat.postMessage", 3)  # Slack answers 500 for a few seconds
        sent = await world.sim.dm("hi, my email is broken")
        ts = sent["event"]["ts"]
        # Slack did not hear back in time and sends the same event again (same event_id).
        await world.sim.send(sent, retry_num=1)
        opening = await next_reply(world, DM, ts, 1)
        assert "why your emails aren't sending" in shown(opening)
        assert failed_posts(fake_slack) == 3
        # A retry after the reply was stored for delivery is a duplicate: no second answer.
        await world.sim.send(sent, retry_num=2)
        await world.channel.idle()
        assert len(bot_replies(world, DM, ts)) == 1
        # The customer's answer in the thread, refused once too, is delivered once as well.
        fake_slack.fail("chat.postMessage", 1)
        answer = await world.sim.reply(DM, ts, "I get an error message")
        await world.sim.send(answer, retry_num=1)
        await next_reply(world, DM, ts, 2)
        await world.channel.idle()
        assert len(bot_replies(world, DM, ts)) == 2
        assert [r["status"] for r in await stored.replies(world.parts.driver)] == ["delivered", "delivered"]


async def test_a_reply_rate_limited_past_the_clients_own_retries_is_sent_once_slack_allows(
    tmp_path: Path, fake_slack: FakeSlackAPI
) -> None:
    async with slack_world(slack_settings(tmp_path, fake_slack.url), fake_slack, QUICK) as world:
        # More 429s than the Web API client retries by itself (it waits out each Retry-After).
        fake_slack.rate_limit("chat.postMessage", times=8, retry_after=0)
        sent = await world.sim.dm("hi, my email is broken")
        await next_reply(world, DM, sent["event"]["ts"], 1)
        await world.channel.idle()
        assert len(bot_replies(world, DM, sent["event"]["ts"])) == 1
        refused = [c for c in fake_slack.calls if c.method == "chat.postMessage" and c.status == 429]
        assert len(refused) == 8


async def test_a_reply_refused_until_the_process_stops_is_sent_by_the_next_one(
    tmp_path: Path, fake_slack: FakeSlackAPI, database_url: str
) -> None:
    settings = slack_settings(tmp_path, fake_slack.url, database_url=database_url)
    async with slack_world(settings, fake_slack, replace(QUICK, max_attempts=1_000_000)) as before:
        fake_slack.fail("chat.postMessage", 1_000_000)  # down for longer than this process runs
        sent = await before.sim.dm("hi, my email is broken")
        await fake_slack.wait_for(lambda: failed_posts(fake_slack) >= 2)  # tried, and retried
        assert not bot_replies(before, DM, sent["event"]["ts"])
    fake_slack.recover()
    # A new process over the same database: its retry loop starts with the app.
    async with slack_world(settings, fake_slack, QUICK) as after:
        await after.channel.start()
        await next_reply(after, DM, sent["event"]["ts"], 1)
        # Slack's retry reaching the new process finds the reply stored: still one answer.
        await after.sim.send(sent, retry_num=3)
        await after.channel.idle()
        assert len(bot_replies(after, DM, sent["event"]["ts"])) == 1


async def claimed_widget_conversation(world: SlackWorld) -> tuple[str, dict[str, str], str]:
    """A widget customer's escalation, claimed in Slack by an agent: (conversation, auth, summary ts)."""
    conversation, auth = await widget_conversation(world)
    summary = await escalation_posted(world)
    assert (await world.sim.click(summary, "escalation:claim", user=AGENT)).status_code == 200
    await world.fake.wait_for(lambda: "Claimed by" in shown(world.fake.messages[(ESCALATIONS, summary.ts)]))
    await world.channel.idle()
    return conversation, auth, summary.ts


async def test_the_customer_is_relayed_by_another_process_than_the_one_that_took_the_claim(
    tmp_path: Path, fake_slack: FakeSlackAPI, database_url: str
) -> None:
    settings = slack_settings(tmp_path, fake_slack.url, database_url=database_url)
    async with slack_world(settings, fake_slack) as first, slack_world(settings, fake_slack) as second:
        conversation, auth, summary_ts = await claimed_widget_conversation(first)
        summary = fake_slack.messages[(ESCALATIONS, summary_ts)]
        sent = await second.http.post(
            f"/api/conversations/{conversation}/messages", json={"text": "it says 550"}, headers=auth
        )
        assert sent.status_code == 200, sent.text
        await fake_slack.wait_for(lambda: "it says 550" in escalation_thread(second, summary))
        await first.channel.idle()
        await second.channel.idle()
        relayed = [m for m in fake_slack.thread(ESCALATIONS, summary_ts) if "it says 550" in m.text]
        assert len(relayed) == 1


async def test_the_relay_survives_a_restart_of_the_process_that_took_the_claim(
    tmp_path: Path, fake_slack: FakeSlackAPI, database_url: str
) -> None:
    settings = slack_settings(tmp_path, fake_slack.url, database_url=database_url)
    async with slack_world(settings, fake_slack) as before:
        conversation, auth, summary_ts = await claimed_widget_conversation(before)
    summary = fake_slack.messages[(ESCALATIONS, summary_ts)]
    async with slack_world(settings, fake_slack) as after:
        sent = await after.http.post(
            f"/api/conversations/{conversation}/messages", json={"text": "still broken"}, headers=auth
        )
        assert sent.status_code == 200, sent.text
        await fake_slack.wait_for(lambda: "still broken" in escalation_thread(after, summary))
        # Handed back from the new process: the customer's next message is the bot's again.
        await after.sim.click(
            fake_slack.messages[(ESCALATIONS, summary_ts)], "escalation:hand_back", user=AGENT
        )
        await after.fake.wait_for(
            lambda: "Handed back" in shown(fake_slack.messages[(ESCALATIONS, summary_ts)])
        )
        await after.channel.idle()
        await after.http.post(
            f"/api/conversations/{conversation}/messages", json={"text": "hello bot"}, headers=auth
        )
        await after.channel.idle()
        assert "hello bot" not in escalation_thread(after, summary)
