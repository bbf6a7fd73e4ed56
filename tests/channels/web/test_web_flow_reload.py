"""Editing flows under a running `supportbot serve`: old conversations keep their version, new ones get
the edit, and a broken edit is refused while the last good version serves and /healthz names the file."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.serving import serve

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def server_env(flows: Path, database: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SUPPORTBOT_FLOWS": str(flows),
        "SUPPORTBOT_NAMESERVERS": "127.0.0.1:9",  # no real DNS from tests
    }


async def health_until(client: httpx.AsyncClient, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            body: dict[str, Any] = (await client.get("/healthz")).json()
            if ready(body):
                return body
            await asyncio.sleep(0.1)


async def test_edits_reach_new_conversations_and_a_broken_edit_is_refused(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    source = ROOT / "flows" / "cant-send-email.yaml"
    target = flows / "cant-send-email.yaml"
    shutil.copy(source, target)
    original = source.read_text(encoding="utf-8")

    async with (
        serve(server_env(flows, tmp_path / "bot.db")) as served,
        httpx.AsyncClient(base_url=served.url) as client,
    ):
        proc = served.proc
        before = (await client.post("/api/conversations", json={"flow": "cant-send-email"})).json()
        token = {"Authorization": f"Bearer {before['token']}"}
        body = await health_until(client, lambda b: b.get("flows") == {"cant-send-email": "1"})
        assert body["refused"] == {}

        # A support lead rewords the first question and bumps the version; the server picks it up.
        edited = original.replace("version: 1", "version: 2").replace(
            "What happens when you try to send an email?", "What goes wrong when you send an email?"
        )
        target.write_text(edited, encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        await health_until(client, lambda b: b.get("flows") == {"cant-send-email": "2"})

        after = (await client.post("/api/conversations", json={"flow": "cant-send-email"})).json()
        assert after["messages"][-1]["text"] == "What goes wrong when you send an email?"
        # The conversation started before the edit goes on (and finishes) on version 1.
        turn = (
            await client.post(
                f"/api/conversations/{before['conversation']}/messages",
                json={"choice": "login_rejected"},
                headers=token,
            )
        ).json()
        assert turn["messages"][-1]["text"] == "Did that fix it?"
        turn = (
            await client.post(
                f"/api/conversations/{before['conversation']}/messages", json={"choice": "yes"}, headers=token
            )
        ).json()
        assert turn["status"] == "resolved"

        # A broken edit (a step that doesn't exist) is refused; version 2 keeps serving.
        target.write_text(
            edited.replace("version: 2", "version: 3").replace("next: ask_symptom", "next: ask_symtom"),
            encoding="utf-8",
        )
        proc.send_signal(signal.SIGHUP)
        body = await health_until(client, lambda b: bool(b.get("refused")))
        assert body["flows"] == {"cant-send-email": "2"}
        [(file, problems)] = body["refused"].items()
        assert file.endswith("cant-send-email.yaml")
        assert any("step `ask_symtom` does not exist; did you mean `ask_symptom`?" in p for p in problems)
        newest = (await client.post("/api/conversations", json={"flow": "cant-send-email"})).json()
        assert newest["messages"][-1]["text"] == "What goes wrong when you send an email?"
