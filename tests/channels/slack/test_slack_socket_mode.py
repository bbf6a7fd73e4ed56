"""Socket Mode end to end: the Bolt app connects to a local Socket Mode server and works over it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.bootstrap import build
from bot.channels.slack import SlackChannel
from bot.channels.slack.socket import socket_mode_job
from bot.engine.probing import FixtureProbes
from tests.fakes.slack_api import APP_TOKEN, FakeMessage, FakeSlackAPI
from tests.fakes.slack_socket import FakeSocketMode
from tests.support.slack import CUSTOMER, DM, PROBES, SlackSim, slack_settings


@dataclass
class SocketWorld:
    fake: FakeSlackAPI
    socket: FakeSocketMode
    channel: SlackChannel
    sim: SlackSim
    service: Any

    def replies(self, thread_ts: str) -> list[FakeMessage]:
        return [m for m in self.fake.thread(DM, thread_ts) if m.ts != thread_ts]

    async def reply(self, thread_ts: str, count: int) -> FakeMessage:
        """The bot's `count`-th message in the thread, once it is there."""
        found = await self.fake.wait_for(lambda: (r := self.replies(thread_ts)) and len(r) >= count and r)
        await self.channel.idle()
        return found[count - 1]  # type: ignore[no-any-return]


@pytest.fixture
async def socket_world(tmp_path: Path, fake_slack: FakeSlackAPI) -> AsyncIterator[SocketWorld]:
    async with FakeSocketMode().running() as socket:
        fake_slack.socket_mode_url = socket.url
        # Socket Mode only: no signing secret, no /slack/events route; the websocket is the way in.
        settings = slack_settings(
            tmp_path, fake_slack.url, slack_signing_secret=None, slack_app_token=APP_TOKEN
        )
        parts = await build(settings, probes=FixtureProbes(PROBES))
        channel = SlackChannel(parts.service, settings)
        job = asyncio.create_task(socket_mode_job(channel.app, APP_TOKEN)())
        try:
            await socket.connected()
            async with httpx.AsyncClient() as unused:  # the sim only builds payloads here
                yield SocketWorld(fake_slack, socket, channel, SlackSim(unused), parts.service)
        finally:
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
            await channel.aclose()
            await parts.close()


async def test_a_dm_over_the_socket_is_acked_and_answered(socket_world: SocketWorld) -> None:
    world = socket_world
    assert world.fake.calls_to("apps.connections.open")[0].token == APP_TOKEN
    payload = world.sim.event("event_message_im", text="hi, my email is broken")
    envelope = await world.socket.events_api(payload)
    assert (await world.socket.acked(envelope))["envelope_id"] == envelope
    opening = await world.reply(payload["event"]["ts"], 1)
    assert opening.thread_ts == payload["event"]["ts"]
    assert "why your emails aren't sending" in opening.text + str(opening.blocks)


async def test_a_button_click_over_the_socket_is_handled(socket_world: SocketWorld) -> None:
    world = socket_world
    payload = world.sim.event("event_message_im", text="hi")
    await world.socket.events_api(payload)
    ts = payload["event"]["ts"]
    question = await world.reply(ts, 1)
    envelope = await world.socket.interactive(world.sim.click_payload(question, "choice:login_rejected"))
    await world.socket.acked(envelope)
    answer = await world.reply(ts, 2)
    assert "StackCP" in answer.text + str(answer.blocks)
    # The clicked question now shows the answer instead of its buttons.
    assert world.fake.messages[(DM, question.ts)].edits == 1


async def test_a_retried_envelope_gets_no_second_reply(socket_world: SocketWorld) -> None:
    world = socket_world
    started = world.sim.event("event_message_im", text="hi, my email is broken")
    await world.socket.events_api(started)
    ts = started["event"]["ts"]
    await world.reply(ts, 1)
    answer = world.sim.event(
        "event_message_thread",
        text="It keeps telling me my password is wrong",
        user=CUSTOMER,
        channel=DM,
        thread_ts=ts,
        channel_type="im",
    )
    first = await world.socket.events_api(answer)
    await world.reply(ts, 2)
    # Slack did not see the ack in time and sends the same event (same event_id) again.
    retry = await world.socket.events_api(answer, retry_attempt=1)
    await world.socket.acked(first)
    await world.socket.acked(retry)  # acked, so Slack stops retrying…
    await world.channel.idle()
    assert len(world.replies(ts)) == 2  # …and the answer was answered once


async def test_a_disconnect_is_followed_by_a_new_connection_that_works(socket_world: SocketWorld) -> None:
    world = socket_world
    await world.socket.disconnect()
    assert len(world.fake.calls_to("apps.connections.open")) == 2  # a fresh URL for the new connection
    await world.socket.wait_for(lambda: world.socket.connections[0].closed)
    payload = world.sim.event("event_message_im", text="hi, my email is broken")
    envelope = await world.socket.events_api(payload)  # over the new connection
    await world.socket.acked(envelope)
    await world.reply(payload["event"]["ts"], 1)
