"""On PostgreSQL a turn holds its conversation's row (SELECT … FOR UPDATE): a second turn waits, then sees it."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from bot.engine.model import Incoming
from bot.storage import store
from tests.storage.storage_support import running_parts

pytestmark = pytest.mark.postgres


async def _waiting_on_a_lock(admin: asyncpg.Connection, marker: str) -> bool:
    rows = await admin.fetch(
        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1", f"%{marker}%"
    )
    return bool(rows)


async def test_a_turn_waits_for_the_row_another_process_holds(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's; SQLite serialises with BEGIN IMMEDIATE and a version check")
    async with running_parts(database_url) as parts:
        svc = parts.service
        cid = (await svc.start(None, "web")).conversation_id
        admin = await asyncpg.connect(database_url)
        try:
            # Another process is in the middle of a turn: it holds the row.
            async with parts.db.connect() as holder:
                await holder.begin()
                await store.load(holder, cid, lock=True)
                reply = asyncio.create_task(svc.reply(cid, Incoming(choice="cannot_connect"), "k-1"))
                # Wait (by polling the server, not the clock) until the reply is blocked on the lock.
                while not await _waiting_on_a_lock(admin, "conversations"):
                    assert not reply.done(), reply.result()
                    await asyncio.sleep(0.02)
                assert not reply.done()
                await holder.execute(
                    text("UPDATE conversations SET updated_at = updated_at WHERE id = :id"), {"id": cid}
                )
                await holder.commit()
            turn = await reply
        finally:
            await admin.close()
        assert turn["status"] == "active" and turn["awaiting"]["kind"] == "text"
        # A retry of the same request is answered from the stored turn, not applied again.
        assert await svc.reply(cid, Incoming(choice="cannot_connect"), "k-1") == turn
        users = [m for m in (await svc.transcript(cid))["messages"] if m["role"] == "user"]
        assert len(users) == 1
