"""Faults under load with PostgreSQL: a web process SIGKILLed mid-load, and PostgreSQL itself restarted."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.faults import DATABASE, SCRIPT, bot_env, pg_schema, upgrade
from tests.support.serving import serve

pytestmark = [
    pytest.mark.fault,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not DATABASE, reason="TEST_DATABASE_URL is not set (a PostgreSQL URL)"),
    pytest.mark.timeout(120),
]


class Customer:
    """One customer who retries an unanswered turn, with the same Idempotency-Key, on any process."""

    def __init__(self, n: int, urls: list[str]) -> None:
        self.n = n
        self.urls = urls  # the processes still believed alive, shared by all customers
        self.acked: dict[str, int] = {}  # conversation id -> turns answered with 200
        self.retried = 0

    async def post(
        self, client: httpx.AsyncClient, path: str, body: dict[str, str], headers: dict[str, str]
    ) -> Any:
        for attempt in range(40):
            url = self.urls[(self.n + attempt) % len(self.urls)]
            try:
                r = await client.post(url + path, json=body, headers=headers)
            except httpx.TransportError:
                self.retried += 1
                await asyncio.sleep(0.05)
                continue
            if r.status_code in (409, 503):
                self.retried += 1
                await asyncio.sleep(0.05)
                continue
            assert r.status_code in (200, 201), r.text
            return r.json()
        raise AssertionError(f"customer {self.n}: no process answered {path}")

    async def conversation(self, client: httpx.AsyncClient, i: int) -> None:
        ip = {"X-Forwarded-For": f"10.9.{self.n}.{i % 250}"}
        opened = await self.post(client, "/api/conversations", {"flow": "cant-send-email"}, ip)
        cid = opened["conversation"]
        headers = {**ip, "Authorization": f"Bearer {opened['token']}"}
        self.acked[cid] = 0
        for turn, body in enumerate(SCRIPT):
            await self.post(
                client,
                f"/api/conversations/{cid}/messages",
                body,
                {**headers, "Idempotency-Key": f"{cid}-{turn}"},
            )
            self.acked[cid] += 1


async def user_messages(database_url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from bot.storage.database import open_engine
    from bot.storage.schema import messages

    engine = open_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(messages.c.conversation_id, func.count())
                .where(messages.c.role == "user")
                .group_by(messages.c.conversation_id)
            )
            return {r[0]: int(r[1]) for r in rows}
    finally:
        await engine.dispose()


async def test_sigkill_a_web_process_mid_load_loses_nothing_and_applies_nothing_twice() -> None:
    async with pg_schema() as url:
        env = bot_env(url)
        await upgrade(env)
        async with serve(env) as one, serve(env) as two, httpx.AsyncClient(timeout=20) as client:
            urls = [one.url, two.url]
            customers = [Customer(n, urls) for n in range(12)]
            stop = asyncio.Event()

            async def keep_going(c: Customer) -> None:
                i = 0
                while not stop.is_set():
                    await c.conversation(client, i)
                    i += 1

            tasks = [asyncio.create_task(keep_going(c)) for c in customers]
            await asyncio.sleep(1.5)
            one.proc.send_signal(signal.SIGKILL)  # mid-turn for some customers
            await one.proc.wait()
            urls.remove(one.url)
            before = sum(sum(c.acked.values()) for c in customers)
            await asyncio.sleep(1.5)
            stop.set()
            await asyncio.gather(*tasks)  # every customer finishes the conversation it was in

            after = sum(sum(c.acked.values()) for c in customers)
            assert after > before, "the surviving process kept answering"
            stored = await user_messages(url)
            for c in customers:
                for cid, acked in c.acked.items():
                    # Every answered turn is stored, and a retried turn is stored once.
                    assert stored.get(cid, 0) == acked == len(SCRIPT), (cid, stored.get(cid), acked)
            assert sum(c.retried for c in customers) > 0, "the kill should have cut some turns off"


def _cluster() -> list[str] | None:
    tool = shutil.which("pg_ctlcluster")
    versions = (
        sorted(p.name for p in Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").exists() else []
    )
    if not tool or not versions:
        return None
    return [tool, "--skip-systemctl-redirect", versions[0], "main"]


async def pg(action: str) -> None:
    cluster = _cluster()
    assert cluster is not None
    proc = await asyncio.create_subprocess_exec(
        *cluster[:2],
        cluster[2],
        cluster[3],
        action,
        *(["-m", "fast"] if action == "stop" else []),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()


@pytest.mark.skipif(_cluster() is None, reason="needs pg_ctlcluster to stop and start the local PostgreSQL")
async def test_postgres_restart_gives_503_then_recovers_without_restarting_the_app() -> None:
    async with pg_schema() as url:
        env = bot_env(url)
        await upgrade(env)
        async with serve(env) as web, httpx.AsyncClient(base_url=web.url, timeout=20) as client:
            r = await client.post("/api/conversations", json={}, headers={"X-Forwarded-For": "10.8.0.1"})
            assert r.status_code == 201
            cid, auth = r.json()["conversation"], {"Authorization": f"Bearer {r.json()['token']}"}
            try:
                await pg("stop")
                # While it is down: the API and /healthz say 503 (the client timeout bounds "fast").
                health = await client.get("/healthz")
                assert health.status_code == 503
                r = await client.post(f"/api/conversations/{cid}/messages", json=SCRIPT[0], headers=auth)
                assert r.status_code == 503, r.text
                r = await client.post("/api/conversations", json={}, headers={"X-Forwarded-For": "10.8.0.2"})
                assert r.status_code == 503, r.text
            finally:
                await pg("start")
            # Back without restarting the app: health first, then the same conversation carries on.
            for _ in range(300):
                if (await client.get("/healthz")).status_code == 200:
                    break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("/healthz did not recover within a minute")
            for _ in range(50):
                r = await client.post(f"/api/conversations/{cid}/messages", json=SCRIPT[0], headers=auth)
                if r.status_code != 503:
                    break
                await asyncio.sleep(0.2)  # pooled connections from before the restart are replaced
            assert r.status_code == 200, r.text
            with contextlib.suppress(KeyError):
                assert r.json()["awaiting"]["kind"] == "choice"
