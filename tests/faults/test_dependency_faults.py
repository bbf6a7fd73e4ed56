"""Faults in what the bot depends on: the DNS server disappears, the webhook receiver is down for a while."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.bootstrap import build
from bot.engine.model import Incoming
from bot.engine.probing import OfflineProbes
from bot.escalation import outbox, worker
from bot.escalation.outbox import Policy
from bot.escalation.sinks import WebhookSink
from bot.probes.run import Timeouts
from bot.settings import Settings
from tests.fakes.dns_server import FakeDNS

pytestmark = [pytest.mark.fault, pytest.mark.timeout(90)]
FLOWS = Path(__file__).resolve().parents[2] / "flows"


async def test_dns_server_disappears_probes_say_unknown_and_the_conversation_goes_on(tmp_path: Path) -> None:
    dns = FakeDNS({"example.com": {"MX": ["10 mail.example.com."], "A": "192.0.2.10"}}).start()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'dns.db'}", flows_dir=FLOWS, nameservers=(dns.address,)
    )
    parts = await build(settings)
    try:
        svc = parts.service
        started = await svc.start(None, "web")
        cid = started.conversation_id
        await svc.reply(cid, Incoming(choice="cannot_connect"))
        await svc.reply(cid, Incoming(text="example.com"))
        dns.stop()  # gone: nothing answers on its port any more
        # The whole diagnosis has a deadline; the turn must come back within it (plus slack for CI).
        async with asyncio.timeout(Timeouts().deadline + 10):
            turn = await svc.reply(cid, Incoming(choice="yes"))
        probes = [m.probe for m in turn.messages if m.type == "probe" and m.probe is not None]
        assert probes and all(p.status == "unknown" for p in probes), probes
        assert turn.status == "active" and turn.awaiting is not None and turn.awaiting.kind == "choice"
        # ... and the customer carries on through the flow.
        turn = await svc.reply(cid, Incoming(choice="no_reply"))
        assert turn.status == "active" and turn.awaiting is not None
    finally:
        dns.stop()
        await parts.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def receiver(port: int, seen: list[dict[str, Any]]) -> AsyncIterator[None]:
    async def hook(request: web.Request) -> web.Response:
        seen.append(json.loads(await request.read()))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


async def test_webhook_receiver_down_for_a_while_escalations_queue_and_all_arrive(tmp_path: Path) -> None:
    # Down for 5 s rather than the minute: the same retry path, without a minute of CI time.
    down_for = 5.0
    port = free_port()  # nothing listens here until the receiver comes back
    sink = WebhookSink(f"http://127.0.0.1:{port}/hook", "webhook-secret", timeout=2)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'hook.db'}", flows_dir=FLOWS)
    parts = await build(settings, probes=OfflineProbes(), sinks={"webhook": sink})
    stop = asyncio.Event()
    policy = Policy(max_attempts=1000, base_delay=0.2, max_delay=1.0, lease_seconds=10)
    delivering = asyncio.create_task(
        worker.run_forever(parts.driver, parts.sinks, stop, poll_interval=0.1, policy=policy)
    )
    seen: list[dict[str, Any]] = []
    try:
        conversations = []
        for _ in range(5):
            started = await parts.service.start(None, "web")
            turn = await parts.service.reply(
                started.conversation_id, Incoming(text="I want to talk to a human")
            )
            assert turn.status == "escalated"
            conversations.append(started.conversation_id)
        await asyncio.sleep(down_for)
        assert await outbox.backlog(parts.driver) == 5, "while the receiver is down, every escalation waits"
        async with receiver(port, seen):
            for _ in range(300):
                if await outbox.backlog(parts.driver) == 0:
                    break
                await asyncio.sleep(0.1)
        keys = {item["idempotency_key"] for item in seen}
        assert len(keys) == 5, seen
        assert {str(item.get("conversation")) for item in seen} == set(conversations)
        assert await outbox.backlog(parts.driver) == 0
    finally:
        stop.set()
        await delivering
        await parts.close()
