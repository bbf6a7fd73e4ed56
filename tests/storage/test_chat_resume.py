"""`supportbot chat --save`, SIGKILLed mid-conversation, continued by `supportbot chat --resume ID`."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Any

import pytest

from tests.support.storage import PYTHON, ROOT, child_env, running_parts

pytestmark = pytest.mark.fault


async def _chat(database_url: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "bot",
        "chat",
        "--jsonl",
        *args,
        cwd=ROOT,
        # Live probes go nowhere: a closed loopback resolver answers nothing, so they come back unknown.
        env=child_env(DATABASE_URL=database_url, SUPPORTBOT_NAMESERVERS="127.0.0.1:9"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _turn(child: asyncio.subprocess.Process, line: dict[str, str] | None = None) -> dict[str, Any]:
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    if line is not None:
        child.stdin.write((json.dumps(line) + "\n").encode())
        await child.stdin.drain()
    async with asyncio.timeout(60):
        out = await child.stdout.readline()
    if not out:
        raise AssertionError((await child.stderr.read()).decode())
    return dict(json.loads(out))


async def _kill(child: asyncio.subprocess.Process) -> None:
    if child.returncode is None:
        child.send_signal(signal.SIGKILL)
    assert await child.wait() == -signal.SIGKILL
    for stream in (child.stdout, child.stderr):
        if stream is not None:
            await stream.read()


async def test_chat_killed_then_resumed_from_the_database(database_url: str) -> None:
    first = await _chat(database_url, "--save")
    try:
        opening = await _turn(first)
        await _turn(first, {"choice": "login_rejected"})
        shown = await _turn(first, {"text": "no, and my password: Sup3r-Secret!"})
    finally:
        await _kill(first)
    cid = opening["conversation"]
    assert shown["status"] == "active" and shown["awaiting"]["kind"] == "choice"

    async with running_parts(database_url) as parts:
        before = await parts.service.state(cid)
        transcript = await parts.service.transcript(cid)
    assert before.step == "ask_fixed_auth"
    assert "Sup3r-Secret" not in repr(transcript)

    second = await _chat(database_url, "--resume", cid)
    try:
        resumed = await _turn(second)
        # Where it was: the same messages, the same question, nothing asked again.
        assert resumed["messages"] == [m.to_json() for m in transcript.messages]
        assert resumed["awaiting"] == shown["awaiting"]
        assert resumed["status"] == "active"
        carried_on = await _turn(second, {"choice": "yes"})
    finally:
        assert second.stdin is not None
        second.stdin.close()
        async with asyncio.timeout(60):
            await second.wait()
    assert carried_on["conversation"] == cid and carried_on["status"] == "resolved"

    async with running_parts(database_url) as parts:
        after = await parts.service.state(cid)
        assert after.path[: len(before.path)] == before.path
        assert after.slots == before.slots
        users = [m.text for m in (await parts.service.transcript(cid)).messages if m.role == "user"]
    assert users[-1] == "Yes, it works now"


async def test_resuming_an_unknown_conversation_says_so(database_url: str) -> None:
    child = await _chat(database_url, "--resume", "c_nope")
    _out, err = await child.communicate(b"")
    assert child.returncode == 2
    assert "c_nope" in err.decode()
