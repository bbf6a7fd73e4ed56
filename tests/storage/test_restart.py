"""A conversation outlives its process: started in a child, SIGKILLed, continued by a new process."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from bot.channels.web.bodies import transcript_body
from bot.engine.model import Incoming
from tests.support.storage import PYTHON, ROOT, child_env, running_parts

pytestmark = pytest.mark.fault

# The child: real bootstrap parts on DATABASE_URL, three turns, then it reports and waits to be killed.
CHILD = """
import asyncio, json, os, sys
from bot.channels.web.bodies import transcript_body
from bot.engine.model import Incoming
from tests.support.storage import running_parts

async def main():
    async with running_parts(os.environ["DATABASE_URL"]) as parts:
        svc = parts.service
        started = await svc.start(None, "web", {"name": "Jo"})
        cid = started.conversation_id
        for incoming in (Incoming(choice="cannot_connect"), Incoming(text="jo@example.com"),
                         Incoming(choice="yes")):
            await svc.reply(cid, incoming)
        so_far = transcript_body(await svc.transcript(cid))
        print(json.dumps({"id": cid, "token": started.token, "transcript": so_far}), flush=True)
        await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_conversation_resumes_after_sigkill(database_url: str) -> None:
    child = await asyncio.create_subprocess_exec(
        PYTHON,
        "-c",
        CHILD,
        cwd=ROOT,
        env=child_env(DATABASE_URL=database_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    try:
        async with asyncio.timeout(60):
            line = await child.stdout.readline()
        assert line, (await child.stderr.read()).decode()
        before = json.loads(line)
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGKILL)
        assert await child.wait() == -signal.SIGKILL
        await child.stderr.read()
    cid = before["id"]

    async with running_parts(database_url) as parts:
        svc = parts.service
        assert await svc.check_token(cid, before["token"])
        after = await svc.transcript(cid)
        assert transcript_body(after) == before["transcript"]
        assert after.awaiting is not None and after.awaiting.kind == "choice"
        conv = await parts.service.state(cid)
        assert conv.step == "explain_telnet_test"
        assert conv.slots["domain"] == "example.com"
        assert conv.slots["port25"]["status"] == "pass"
        assert conv.path[-3:] == ["probe_port_25", "port25_open_here", "explain_telnet_test"]

        # ...and it carries on from there, in the new process.
        turn = await svc.reply(cid, Incoming(choice="no_reply"))
        assert turn.status == "active"
        texts = " ".join(m.text for m in turn.messages)
        assert "587" in texts
        final = await svc.transcript(cid)
        assert final.messages[: len(after.messages)] == after.messages
        assert [m.role for m in final.messages].count("user") == 4
