"""Two `supportbot serve` processes sharing PostgreSQL: any process serves any turn and any stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support import serving
from tests.support.web import AGENT_KEY, FLOWS

DATABASE = os.environ.get("TEST_DATABASE_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not DATABASE, reason="TEST_DATABASE_URL is not set (a PostgreSQL URL)"),
]
ROOT = Path(__file__).resolve().parents[3]


def env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": DATABASE or "",
        "SUPPORTBOT_FLOWS": str(FLOWS),
        "SUPPORTBOT_AGENT_API_KEY": AGENT_KEY,
        "SUPPORTBOT_NAMESERVERS": "127.0.0.1:9",  # no real DNS from tests; probes say "unknown"
    }


async def supportbot(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env=env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


@contextlib.asynccontextmanager
async def serve() -> AsyncIterator[str]:
    """Run `supportbot serve --port 0` on the shared database and yield its URL once it answers."""
    async with serving.serve(env()) as served:
        yield served.url


async def test_two_processes_share_conversations_and_events() -> None:
    upgrade = await supportbot("db", "upgrade")
    output, _ = await upgrade.communicate()
    assert upgrade.returncode == 0, output.decode()

    async with serve() as one, serve() as two, httpx.AsyncClient(timeout=15) as c:
        r = await c.post(f"{one}/api/conversations", json={"flow": "cant-send-email"})
        assert r.status_code == 201
        cid = r.json()["conversation"]
        auth = {"Authorization": f"Bearer {r.json()['token']}"}

        # The conversation started on one continues on two, and one sees what two did.
        r = await c.post(
            f"{two}/api/conversations/{cid}/messages", json={"choice": "cannot_connect"}, headers=auth
        )
        assert r.status_code == 200 and r.json()["awaiting"]["kind"] == "text"
        r = await c.post(
            f"{one}/api/conversations/{cid}/messages", json={"text": "example.com"}, headers=auth
        )
        assert r.status_code == 200
        seen = (await c.get(f"{two}/api/conversations/{cid}", headers=auth)).json()
        assert "example.com" in [m["text"] for m in seen["messages"]]

        # The customer's stream is on two; the agent writes through one.
        await c.post(f"{two}/api/conversations/{cid}/messages", json={"choice": "human"}, headers=auth)
        async with c.stream("GET", f"{two}/api/conversations/{cid}/events", headers=auth) as stream:
            lines = stream.aiter_lines()
            assert await anext(lines) == "retry: 3000"
            assert await anext(lines) == ": connected"
            agent = {"Authorization": f"Bearer {AGENT_KEY}"}
            base = f"{one}/api/agent/conversations/{cid}"
            assert (await c.post(f"{base}/claim", json={"agent": "Sam"}, headers=agent)).status_code == 200
            r = await c.post(
                f"{base}/messages", json={"agent": "Sam", "text": "Hi from process one"}, headers=agent
            )
            assert r.status_code == 201
            last_id = ""
            async with asyncio.timeout(15):
                async for line in lines:
                    if line.startswith("id:"):
                        last_id = line[3:].strip()
                    if line.startswith("data:") and "Hi from process one" in line:
                        event = json.loads(line[5:])
                        assert event["message"]["role"] == "agent"
                        break
        assert last_id.isdigit()

        # The stream breaks off; the reply sent meanwhile is replayed by the other process, which
        # resumes from the id process two sent (ids are transcript lines, the same on every process).
        r = await c.post(f"{base}/messages", json={"agent": "Sam", "text": "Sent while away"}, headers=agent)
        assert r.status_code == 201
        resume = {**auth, "Last-Event-ID": last_id}
        async with c.stream("GET", f"{one}/api/conversations/{cid}/events", headers=resume) as stream:
            lines = stream.aiter_lines()
            assert [await anext(lines), await anext(lines)] == ["retry: 3000", ": connected"]
            async with asyncio.timeout(15):
                async for line in lines:
                    if line.startswith("data:"):
                        assert "Sent while away" in line  # the first event is the missed reply
                        break
