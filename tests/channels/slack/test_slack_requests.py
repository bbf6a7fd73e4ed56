"""Requests from Slack: signatures and stale timestamps refused, retries and bots ignored, 429 honoured."""

from __future__ import annotations

import json
import logging
import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.web.ratelimit import RateLimits
from tests.fakes.slack_api import BOT_TOKEN, FakeSlackAPI
from tests.support.slack import DM, SlackWorld, bot_replies, fixture, next_reply

PER_ADDRESS_BURST = int(RateLimits().slack_events.burst)


async def test_url_verification_answers_the_challenge(slack: SlackWorld) -> None:
    payload = fixture("url_verification")
    response = await slack.sim.send(payload)
    assert response.status_code == 200
    assert payload["challenge"] in response.text


async def test_a_bad_signature_is_refused_and_nothing_is_posted(slack: SlackWorld) -> None:
    payload = slack.sim.event("event_message_im", text="hi")
    response = await slack.sim.send(payload, secret="not-the-signing-secret")
    assert response.status_code == 401
    await slack.channel.idle()
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_a_tampered_body_is_refused(slack: SlackWorld) -> None:
    from tests.fakes.slack_api import signed_headers

    payload = slack.sim.event("event_message_im", text="hi")
    headers = signed_headers(json.dumps(payload))
    payload["event"]["text"] = "something else"
    response = await slack.http.post("/slack/events", content=json.dumps(payload), headers=headers)
    assert response.status_code == 401
    await slack.channel.idle()
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_a_six_minute_old_request_is_refused_even_when_signed(slack: SlackWorld) -> None:
    payload = slack.sim.event("event_message_im", text="hi")
    response = await slack.sim.send(payload, timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 401
    await slack.channel.idle()
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_the_same_event_delivered_four_times_gets_one_reply(slack: SlackWorld) -> None:
    payload = slack.sim.event("event_message_im", text="hi")
    for retry in range(4):
        response = await slack.sim.send(payload, retry_num=retry or None)
        assert response.status_code == 200
    await next_reply(slack, DM, payload["event"]["ts"], 1)
    await slack.channel.idle()
    assert len(slack.fake.calls_to("chat.postMessage")) == 1
    # A thread reply retried by Slack is answered once as well.
    ts = payload["event"]["ts"]
    answer = slack.sim.event(
        "event_message_thread", text="messages sit in my outbox", channel=DM, thread_ts=ts, channel_type="im"
    )
    for retry in range(4):
        await slack.sim.send(answer, retry_num=retry or None)
    await next_reply(slack, DM, ts, 2)
    await slack.channel.idle()
    assert len(bot_replies(slack, DM, ts)) == 2


async def test_bots_and_the_bot_itself_are_ignored(slack: SlackWorld) -> None:
    other_bot = slack.sim.event("event_message_bot")
    assert (await slack.sim.send(other_bot)).status_code == 200
    own = slack.sim.event("event_message_im", text="echo", user="U0SUPBOT", bot_id="B0SUPBOT")
    assert (await slack.sim.send(own)).status_code == 200
    edited = slack.sim.event("event_message_im", text="hi", subtype="message_changed")
    assert (await slack.sim.send(edited)).status_code == 200
    await slack.channel.idle()
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_a_rate_limited_post_is_retried_after_retry_after(slack: SlackWorld) -> None:
    slack.fake.rate_limit("chat.postMessage", times=2, retry_after=0)
    payload = await slack.sim.dm("hi")
    await next_reply(slack, DM, payload["event"]["ts"], 1)
    limited = [c for c in slack.fake.calls if c.method == "chat.postMessage" and c.status == 429]
    assert len(limited) == 2
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


async def test_the_fake_answers_like_slack(fake_slack: FakeSlackAPI) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.url)
    client.retry_handlers = [AsyncRateLimitErrorRetryHandler(max_retry_count=1)]
    auth = await client.auth_test()
    assert auth["user_id"] == "U0SUPBOT"
    posted = await client.chat_postMessage(
        channel="C1", text="hello", metadata={"event_type": "t", "event_payload": {"a": 1}}
    )
    await client.chat_postMessage(channel="C1", thread_ts=posted["ts"], text="in thread")
    await client.chat_update(channel="C1", ts=posted["ts"], text="edited")
    replies = await client.conversations_replies(channel="C1", ts=posted["ts"], include_all_metadata=True)
    assert [m["text"] for m in replies["messages"]] == ["edited", "in thread"]
    assert replies["messages"][0]["metadata"]["event_payload"] == {"a": 1}
    assert (await client.users_info(user="U0AGENT01"))["user"]["real_name"] == "Alex Agent"
    await client.files_upload_v2(channel="C1", thread_ts=posted["ts"], content="x" * 10, filename="t.txt")
    assert [u["content"] for u in fake_slack.uploads.values()] == [b"x" * 10]
    bad = AsyncWebClient(token="xoxb-wrong", base_url=fake_slack.url)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await bad.auth_test()


@pytest.mark.parametrize("timestamp", ["abc", "1e9", "-5", "17e8", "0x65", "9" * 40, ""])
async def test_a_malformed_timestamp_is_a_400_that_says_what_is_wrong(
    slack: SlackWorld, timestamp: str
) -> None:
    from tests.fakes.slack_api import signed_headers

    body = json.dumps(slack.sim.event("event_message_im", text="hi"))
    headers = {**signed_headers(body), "X-Slack-Request-Timestamp": timestamp}
    response = await slack.http.post("/slack/events", content=body, headers=headers)
    assert response.status_code in (400, 401)
    if timestamp:
        assert response.status_code == 400 and "Unix time in whole seconds" in response.json()["message"]
    await slack.channel.idle()
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_refused_requests_are_logged_at_debug_without_their_body(
    slack: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps({"junk": "x" * 60_000})
    for _ in range(3):
        response = await slack.http.post(
            "/slack/events", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 401
        forged = await slack.sim.send(slack.sim.event("event_message_im", text="hi"), secret="forged-secret")
        assert forged.status_code == 401
    # The server's records (the test's own HTTP client logs its requests at INFO).
    ours = [r for r in caplog.records if not r.name.startswith("httpx")]
    above_debug = [r for r in ours if r.levelno > logging.DEBUG]
    assert above_debug == [], [r.getMessage()[:200] for r in above_debug]
    assert all("x" * 100 not in r.getMessage() for r in ours)
    assert any("refused a request" in r.getMessage() for r in ours)


async def test_one_address_is_limited_before_signatures_are_checked(slack: SlackWorld) -> None:
    answers: list[int] = []
    # The bucket refills while the requests go out, so a few more than the burst get through.
    while 429 not in answers and len(answers) < 20 * PER_ADDRESS_BURST:
        response = await slack.http.post(
            "/slack/events", content=b"{}", headers={"Content-Type": "application/json"}
        )
        answers.append(response.status_code)
    assert answers[:PER_ADDRESS_BURST] == [401] * PER_ADDRESS_BURST
    assert answers[-1] == 429 and int(response.headers["Retry-After"]) >= 1
