"""Test helpers for the Slack channel: recorded payloads as fixtures, sent signed like Slack sends them."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.slack_api import BOT_USER_ID, SIGNING_SECRET, TEAM_ID, FakeMessage, signed_headers

FIXTURES = Path(__file__).parent / "fixtures"
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
