"""The turn's driver: a locked SQLite file is waited for in asyncio, duplicates and lost connections are named."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import asyncpg
import pytest

from bot.errors import ConfigError, Duplicate, StorageError
from bot.storage.driver import SqliteDriver, open_driver
from tests.support.storage import running_parts

TABLE = "CREATE TABLE IF NOT EXISTS probe_keys (key VARCHAR(40) PRIMARY KEY, n INTEGER NOT NULL)"


async def test_a_locked_sqlite_file_is_waited_for_without_blocking_the_loop(tmp_path: Path) -> None:
    path = str(tmp_path / "locked.db")
    driver = SqliteDriver(path)
    async with driver.write() as s:
        await s.run(TABLE)
    other = sqlite3.connect(path, isolation_level=None)  # another process, say `supportbot chat`
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO probe_keys VALUES ('theirs', 1)")

    async def mine() -> None:
        async with driver.write() as s:
            await s.run("INSERT INTO probe_keys VALUES ($1, $2)", "mine", 2)

    writing = asyncio.create_task(mine())
    ticks = 0
    for _ in range(20):  # the loop keeps running while the write waits for the lock
        await asyncio.sleep(0.01)
        ticks += 1
    assert not writing.done() and ticks == 20
    other.execute("COMMIT")
    async with asyncio.timeout(5):
        await writing
    async with driver.read() as s:
        assert await s.all("SELECT key, n FROM probe_keys ORDER BY n") == [("theirs", 1), ("mine", 2)]
    other.close()
    await driver.close()


async def test_sqlite_gives_up_after_its_busy_wait_with_a_clear_error(tmp_path: Path) -> None:
    path = str(tmp_path / "stuck.db")
    driver = SqliteDriver(path, busy_wait=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StorageError, match="locked for 0 s"):
        async with driver.write():
            pass
    other.execute("ROLLBACK")
    other.close()
    await driver.close()


async def test_a_taken_key_is_a_duplicate_and_the_transaction_is_rolled_back(database_url: str) -> None:
    async with running_parts(database_url) as parts:
        driver = parts.service.driver
        async with driver.write() as s:
            await s.run(TABLE)
            await s.run("INSERT INTO probe_keys VALUES ($1, $2)", "k", 1)
        with pytest.raises(Duplicate):
            async with driver.write() as s:
                await s.run("INSERT INTO probe_keys VALUES ($1, $2)", "other", 2)
                await s.many("INSERT INTO probe_keys VALUES ($1, $2)", [("k", 3)])
        async with driver.read() as s:
            assert await s.all("SELECT key FROM probe_keys") == [("k",)]  # "other" rolled back too


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # a server that drops connections
async def test_a_lost_postgresql_connection_is_a_storage_error_then_recovers(database_url: str) -> None:
    async with running_parts(database_url) as parts:
        driver = parts.service.driver

        async def slow_statement() -> None:
            async with driver.read() as s:
                await s.one("SELECT pg_sleep(30) AS supportbot_driver_probe")

        running = asyncio.create_task(slow_statement())
        admin = await asyncpg.connect(database_url)
        try:
            # The server goes away under a statement (a restart, a failover, an operator).
            for _ in range(500):  # polling the server until the statement shows up, at most 10 s
                terminated = await admin.fetchval(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE '%supportbot_driver_probe%' AND pid <> pg_backend_pid()"
                )
                if terminated:
                    break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("the slow statement never showed up in pg_stat_activity")
        finally:
            await admin.close()
        with pytest.raises(StorageError, match="database unavailable"):
            await running
        async with driver.read() as s:  # the pool reconnects: no restart needed
            assert await s.one("SELECT 1") == (1,)


def test_in_memory_sqlite_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError, match="file path"):
        open_driver("sqlite:///:memory:")


async def test_sqlite_copies_the_wal_back_in_the_background_not_in_a_commit(tmp_path: Path) -> None:
    path = str(tmp_path / "wal.db")
    driver = SqliteDriver(path)
    try:
        # A turn's COMMIT no longer checkpoints (SQLite's default would, every 1,000 pages)...
        assert driver.connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        async with driver.write() as s:
            await s.run(TABLE)
        for n in range(20):  # ...far fewer pages than that: SQLite's own checkpoint would not run yet
            async with driver.write() as s:
                await s.run("INSERT INTO probe_keys VALUES ($1, $2)", f"k{n}", n)
        before = (tmp_path / "wal.db").stat().st_size
        # ...yet the thread copies them into the database file within a few of its rounds.
        async with asyncio.timeout(5):
            while (tmp_path / "wal.db").stat().st_size == before:  # noqa: ASYNC110 (a file, no event)
                await asyncio.sleep(0.02)
        async with driver.read() as s:
            assert await s.one("SELECT count(*) FROM probe_keys") == (20,)
    finally:
        await driver.close()
    assert not any(t.name == "supportbot-sqlite-checkpoint" for t in threading.enumerate())


async def test_the_wal_starts_over_while_writes_never_pause(tmp_path: Path) -> None:
    path = str(tmp_path / "busy.db")
    driver = SqliteDriver(path)
    driver.checkpoints.every = 0.005
    try:
        async with driver.write() as s:
            await s.run(TABLE)
        # Writes back to back for a while: a thread that checkpoints alone would never see the WAL
        # wholly copied, so it would never start over and would grow with every write.
        for n in range(3_000):
            async with driver.write() as s:
                await s.run("INSERT INTO probe_keys VALUES ($1, $2)", f"k{n}", n)
            if n % 100 == 0:
                await asyncio.sleep(0.01)  # the thread's turn
        # The WAL file is as long as the WAL ever was (it is reused from its start, not shrunk).
        pages = (tmp_path / "busy.db-wal").stat().st_size // 4096
        assert pages < 1_000, f"the WAL grew to {pages} pages"
    finally:
        await driver.close()
