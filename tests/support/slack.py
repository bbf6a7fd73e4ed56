"""Helpers for the Slack channel tests: recorded payloads sent signed like Slack sends them, the world under
test, and what the bot posted as Slack shows it."""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.bootstrap import Parts, build
from bot.channels.slack import SlackChannel, slack_routes
from bot.channels.slack.replies import ReplyPolicy
from bot.channels.web import create_app
from bot.channels.web.wiring import slack_throttle
from bot.engine.probing import FixtureProbes, ProbeResult
from bot.escalation.worker import deliver_due
from bot.service import ConversationService
from bot.settings import Settings
from tests.fakes.slack_api import (
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    TEAM_ID,
    FakeMessage,
    FakeSlackAPI,
    signed_headers,
)

FIXTURES = Path(__file__).resolve().parents[1] / "channels" / "slack" / "fixtures"
CUSTOMER = "U0CUSTOMER"
AGENT = "U0AGENT01"
OTHER_AGENT = "U0AGENT02"
GENERAL = "C0GENERAL"
ESCALATIONS = "C0ESCALATE"
DM = "D0CUSTOMER"


def fixture(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return payload


class SlackSim:
    """Plays Slack's side of the Events API and interactivity against the app under test."""

    def __init__(self, http: httpx.AsyncClient, secret: str = SIGNING_SECRET) -> None:
        self.http = http
        self.secret = secret
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)

    def next_ts(self) -> str:
        return f"{1710000000 + next(self._ts)}.000200"

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        retry_num: int | None = None,
    ) -> httpx.Response:
        headers = signed_headers(body, secret or self.secret, timestamp, content_type)
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return await self.http.post("/slack/events", content=body.encode(), headers=headers)

    def event(self, name: str, **event: Any) -> dict[str, Any]:
        """A recorded event_callback with fields of its `event` replaced and a fresh event id."""
        payload = copy.deepcopy(fixture(name))
        ts = event.pop("ts", None) or self.next_ts()
        payload["event"].update(ts=ts, event_ts=ts, **event)
        payload["event_id"] = f"Ev{next(self._ids):09d}"
        return payload

    async def send(self, payload: dict[str, Any], **options: Any) -> httpx.Response:
        return await self.post(json.dumps(payload), "application/json", **options)

    async def dm(self, text: str, thread_ts: str | None = None, **options: Any) -> dict[str, Any]:
        extra = {"thread_ts": thread_ts} if thread_ts else {}
        payload = self.event("event_message_im", text=text, **extra)
        response = await self.send(payload, **options)
        assert response.status_code == 200, response.text
        return payload

    async def mention(self, text: str, channel: str = GENERAL, **options: Any) -> dict[str, Any]:
        payload = self.event("event_app_mention", text=f"<@{BOT_USER_ID}> {text}", channel=channel)
        response = await self.send(payload, **options)
        assert response.status_code == 200, response.text
        return payload

    async def reply(
        self, channel: str, thread_ts: str, text: str, user: str = CUSTOMER, **options: Any
    ) -> dict[str, Any]:
        """A person's message in a thread (channel_type follows the channel id, like Slack)."""
        kind = "im" if channel.startswith("D") else "channel"
        payload = self.event(
            "event_message_thread",
            text=text,
            user=user,
            channel=channel,
            thread_ts=thread_ts,
            channel_type=kind,
        )
        response = await self.send(payload, **options)
        assert response.status_code == 200, response.text
        return payload

    async def click(self, message: FakeMessage, action_id: str, user: str = CUSTOMER) -> httpx.Response:
        """Click the button `action_id` on a message the bot posted (as Slack shows it now)."""
        body = urlencode({"payload": json.dumps(self.click_payload(message, action_id, user))})
        return await self.post(body, "application/x-www-form-urlencoded")

    def click_payload(self, message: FakeMessage, action_id: str, user: str = CUSTOMER) -> dict[str, Any]:
        """The block_actions payload Slack sends when `action_id` on `message` is clicked."""
        button = next(
            (
                element
                for block in message.blocks or ()
                for element in block.get("elements") or ()
                if element.get("action_id") == action_id
            ),
            None,
        )
        assert button is not None, f"no button {action_id!r} on {message.text!r}"
        payload = copy.deepcopy(fixture("block_actions"))
        payload["user"].update(id=user, username=user.lower(), name=user.lower())
        payload["team"]["id"] = TEAM_ID
        payload["channel"]["id"] = message.channel
        payload["container"].update(message_ts=message.ts, channel_id=message.channel)
        if message.thread_ts:
            payload["container"]["thread_ts"] = message.thread_ts
        else:
            payload["container"].pop("thread_ts", None)
        slack_message = message.to_slack(False)
        payload["message"] = slack_message
        payload["actions"] = [
            {
                "action_id": action_id,
                "block_id": "b",
                "text": button["text"],
                "value": button.get("value", ""),
                "type": "button",
                "action_ts": self.next_ts(),
            }
        ]
        return payload


# --- the world under test ----------------------------------------------------------------------

FLOWS = Path(__file__).resolve().parents[2] / "flows"
HOSTILE = "<!channel> <@U0BOSS> <https://evil.example|click me> & more"

PROBES = {
    "smtp_25": ProbeResult(
        "smtp_25",
        "pass",
        "mail.example.com answered on port 25.",
        {"host": "mail.example.com", "banner": f"220 mail.example.com ESMTP {HOSTILE}", "port": 25},
    ),
}


@dataclass
class SlackWorld:
    """The real Bolt app inside the real web app, bootstrap's parts behind it, a fake Slack in front."""

    fake: FakeSlackAPI
    sim: SlackSim
    channel: SlackChannel
    parts: Parts
    settings: Settings
    probes: FixtureProbes
    http: httpx.AsyncClient

    @property
    def service(self) -> ConversationService:
        return self.parts.service


def slack_settings(tmp_path: Path, api_url: str, **changes: Any) -> Settings:
    base = Settings(
        database_url=f"sqlite:///{tmp_path / 'slack.db'}",
        flows_dir=FLOWS,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_escalation_channel=ESCALATIONS,
        slack_api_url=api_url,
        agent_api_key="agent-key-for-tests",
    )
    return replace(base, **changes)


@contextlib.asynccontextmanager
async def slack_world(
    settings: Settings, fake: FakeSlackAPI, reply_policy: ReplyPolicy | None = None
) -> AsyncIterator[SlackWorld]:
    """One process of the bot with Slack on: bootstrap's parts, the Slack channel, the web app.
    Two of these over one database are two processes (or one process before and after a restart)."""
    probes = FixtureProbes(PROBES)
    parts = await build(settings, probes=probes)
    channel = SlackChannel(parts.service, settings, reply_policy=reply_policy)
    throttle, limiter = slack_throttle(settings)
    app = create_app(
        settings,
        parts.service,
        routes=slack_routes(channel.app, signing_secret=settings.slack_signing_secret, throttle=throttle),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        try:
            yield SlackWorld(fake, SlackSim(http), channel, parts, settings, probes, http)
        finally:
            await channel.aclose()
            await limiter.close()
            await parts.close()


async def deliver_escalations(world: SlackWorld) -> None:
    """Run the outbox's delivery once, as the worker (or the web process on SQLite) would."""
    assert await deliver_due(world.parts.driver, world.parts.sinks) >= 1


# --- a widget customer's escalation, as the support channel sees it ---------------------------------


async def widget_conversation(world: SlackWorld) -> tuple[str, dict[str, str]]:
    """A widget customer who typed something hostile, then asked for a human."""
    created = await world.http.post("/api/conversations", json={"flow": "cant-send-email"})
    assert created.status_code == 201, created.text
    conversation, token = created.json()["conversation"], created.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    for text in (f"my boss said {HOSTILE}", "human"):
        sent = await world.http.post(
            f"/api/conversations/{conversation}/messages", json={"text": text}, headers=auth
        )
        assert sent.status_code == 200, sent.text
    return conversation, auth


async def escalation_posted(world: SlackWorld, count: int = 1) -> FakeMessage:
    await deliver_escalations(world)
    posted = await world.fake.wait_for(
        lambda: (
            len(top := [m for m in world.fake.in_channel(ESCALATIONS) if not m.thread_ts]) >= count and top
        )
    )
    summary: FakeMessage = posted[count - 1]
    await world.fake.wait_for(lambda: len(world.fake.thread(ESCALATIONS, summary.ts)) >= 2)
    return summary


def escalation_thread(world: SlackWorld, summary: FakeMessage) -> str:
    return "\n".join(shown(m) for m in world.fake.thread(ESCALATIONS, summary.ts)[1:])


# --- reading what the bot posted -------------------------------------------------------------------


def bot_replies(world: SlackWorld, channel: str, thread_ts: str) -> list[FakeMessage]:
    return [m for m in world.fake.thread(channel, thread_ts) if m.ts != thread_ts]


async def next_reply(world: SlackWorld, channel: str, thread_ts: str, count: int) -> FakeMessage:
    """Wait for the bot's `count`-th message in the thread and return it."""
    replies: list[FakeMessage] = await world.fake.wait_for(
        lambda: (r := bot_replies(world, channel, thread_ts)) and len(r) >= count and r
    )
    await world.channel.idle()
    return replies[count - 1]


def buttons(message: FakeMessage) -> dict[str, str]:
    """Button action id -> label on a message as Slack shows it now."""
    return {
        e["action_id"]: e["text"]["text"]
        for b in message.blocks or ()
        if b["type"] == "actions"
        for e in b["elements"]
    }


def shown(message: FakeMessage) -> str:
    """All text of a message's blocks, as Slack would render it (before entity decoding)."""
    parts = [message.text]
    for block in message.blocks or ():
        if block.get("text"):
            parts.append(block["text"]["text"])
        for element in block.get("elements") or ():
            text = element.get("text")
            parts.append(text["text"] if isinstance(text, dict) else str(text or ""))
    return "\n".join(parts)
