"""Migrations: a database from before them is adopted with nothing lost; models and migrations agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.engine.model import Incoming
from bot.errors import StorageError
from bot.storage import migrate, store
from bot.storage.database import open_engine
from bot.storage.driver import open_driver
from bot.storage.migrate import upgrade
from bot.storage.schema import metadata
from tests.support.storage import running_parts, supportbot_cli

FIXTURES = Path(__file__).with_name("fixtures")
# Every table of the release before migrations, with an order that makes a dump comparable.
TABLES = {
    "conversations": "id",
    "messages": "id",
    "turns": "conversation_id, idempotency_key",
    "escalations": "id",
    "outbox": "id",
    "processed_events": "key",
    "events": "id",
}


def _dialect(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


async def _make_old_database(database_url: str) -> None:
    """The tables and rows as the release before migrations left them: DDL from a frozen dump."""
    ddl = (FIXTURES / f"before-migrations.{_dialect(database_url)}.sql").read_text()
    ddl = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    statements = [part.strip() for part in ddl.split(";") if part.strip()]
    driver = open_driver(database_url)
    try:
        async with driver.write() as s:
            for statement in statements:
                await s.run(statement)
            for n in range(3):
                cid = f"c_old{n}"
                await s.run(
                    "INSERT INTO conversations (id, flow_id, flow_version, channel, thread_key, status, "
                    "token_hash, customer, state, awaiting, agent, domain, lock_version, turns, created_at, "
                    "updated_at) VALUES ($1, 'cant-send-email', '3', 'web', $2, $3, $4, $5, $6, $7, $8, "
                    "'example.com', $9, $9, 1700000000.5, 1700000100.25)",
                    cid,
                    f"thread-{n}" if n else None,
                    ("active", "escalated", "with_agent")[n],
                    store.token_hash(f"token-{n}"),
                    '{"name": "Jo ' + str(n) + '"}',
                    b'{"step": "ask_port", "slots": {"domain": "example.com"}}' + bytes([0, 255, n]),
                    '{"kind": "text", "hint": "your domain"}',
                    "agent@example.com" if n == 2 else None,
                    n + 1,
                )
                await s.many(
                    "INSERT INTO messages (conversation_id, role, type, text, payload, created_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6)",
                    [
                        (cid, "bot", "text", "Hi! What happens when you send?", None, 1700000000.5),
                        (cid, "user", "text", "bounces with 554 5.7.1 ünïcode", None, 1700000001.0),
                        (
                            cid,
                            "bot",
                            "probe",
                            "Port 25 is open.",
                            '{"probe": {"id": "smtp_25"}}',
                            1700000002.0,
                        ),
                    ],
                )
                await s.run(
                    "INSERT INTO turns (conversation_id, idempotency_key, response, created_at) "
                    "VALUES ($1, $2, $3, 1700000001.0)",
                    cid,
                    f"key-{n}",
                    '{"conversation": "' + cid + '", "status": "active", "messages": []}',
                )
                await s.many(
                    "INSERT INTO events (conversation_id, flow_id, flow_version, kind, step, data, created_at) "
                    "VALUES ($1, 'cant-send-email', '3', $2, $3, $4, $5)",
                    [
                        (cid, "started", None, None, 1700000000.5),
                        (cid, "step", "ask_port", None, 1700000000.6),
                        (cid, "answer", "ask_port", '{"via": "text", "choice": "bounce"}', 1700000001.0),
                    ],
                )
            escalation = await s.one(
                "INSERT INTO escalations (conversation_id, reason, packet, created_at) "
                "VALUES ('c_old1', 'customer asked', $1, 1700000050.0) RETURNING id",
                '{"reason": "customer asked", "transcript": []}',
            )
            assert escalation is not None
            await s.many(
                "INSERT INTO outbox (escalation_id, sink, idempotency_key, status, attempts, next_attempt_at, "
                "locked_until, last_error, created_at, delivered_at) VALUES ($1, $2, $3, $4, $5, $6, 0.0, $7, "
                "1700000050.0, $8)",
                [
                    (
                        escalation[0],
                        "webhook",
                        f"esc-{escalation[0]}-webhook",
                        "delivered",
                        1,
                        1700000050.0,
                        None,
                        1700000051.0,
                    ),
                    (
                        escalation[0],
                        "email",
                        f"esc-{escalation[0]}-email",
                        "pending",
                        3,
                        1700000999.0,
                        "timed out",
                        None,
                    ),
                ],
            )
            await s.run("INSERT INTO processed_events (key, created_at) VALUES ('Ev01ABC', 1700000000.0)")
    finally:
        await driver.close()


async def _dump(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    driver = open_driver(database_url)
    try:
        async with driver.read() as s:
            return {
                table: [tuple(row) for row in await s.all(f"SELECT * FROM {table} ORDER BY {order}")]
                for table, order in TABLES.items()
            }
    finally:
        await driver.close()


async def _tables(database_url: str) -> set[str]:
    engine = open_engine(database_url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_a_database_from_before_migrations_is_upgraded_with_nothing_lost(database_url: str) -> None:
    await _make_old_database(database_url)
    before = await _dump(database_url)
    assert sum(len(rows) for rows in before.values()) == 3 + 9 + 3 + 1 + 2 + 1 + 9

    output = await supportbot_cli(database_url, "db", "upgrade")  # the Procfile's release step

    assert f"adopted as {migrate.BASELINE} and migrated to {migrate.head()}" in output
    assert await _dump(database_url) == before
    assert "schema_version" not in await _tables(database_url)  # the one thing the migrations drop
    again = await supportbot_cli(database_url, "db", "upgrade")
    assert "nothing to do" in again and await _dump(database_url) == before

    # Today's code reads the old rows: the conversation, its transcript, and its token still works.
    async with running_parts(database_url) as parts:
        driver = parts.service.driver
        async with driver.read() as s:
            row = await store.load(s, "c_old2")
            lines = await store.transcript(s, "c_old2")
        assert (row.status, row.agent, row.lock_version) == ("with_agent", "agent@example.com", 3)
        assert row.state.endswith(bytes([0, 255, 2])) and row.customer == {"name": "Jo 2"}
        assert [line["text"] for line in lines][1] == "bounces with 554 5.7.1 ünïcode"
        assert row.token_hash == store.token_hash("token-2")


async def test_the_old_conversation_goes_on_after_the_upgrade(database_url: str) -> None:
    """A conversation started before the upgrade takes its next turn on the upgraded schema."""
    await _make_old_database(database_url)
    async with running_parts(database_url, migrate=False) as parts:
        started = await parts.service.start(None, "web", {"name": "Jo"})
    await supportbot_cli(database_url, "db", "upgrade")
    async with running_parts(database_url) as parts:
        turn = await parts.service.reply(started.conversation_id, Incoming(choice="cannot_connect"))
        assert turn.status == "active"
        assert len((await parts.service.transcript(started.conversation_id)).messages) > 2


async def test_a_database_made_just_before_migrations_with_newer_tables_is_adopted(database_url: str) -> None:
    """create_all made every table its models had, so a table a later migration adds may be there."""
    await _make_old_database(database_url)
    engine = open_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.tables["access_tokens"].create)
        done = await upgrade(engine)
    finally:
        await engine.dispose()
    assert done.adopted and done.after == migrate.HEAD
    assert await _tables(database_url) == {*metadata.tables, "alembic_version"}


def _diff_after_migrations(connection: Connection) -> list[Any]:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    command.upgrade(migrate.config(connection), "head")  # every migration in turn, not create_all
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_the_migrations_build_exactly_the_models(database_url: str) -> None:
    """Fails when bot/storage/schema.py changed without a migration: write one with
    `supportbot db revision "what changed"` (CONTRIBUTING.md) until this diff is empty."""
    engine = open_engine(database_url)
    try:
        async with engine.begin() as conn:
            diff = await conn.run_sync(_diff_after_migrations)
    finally:
        await engine.dispose()
    assert diff == []


def test_the_head_checked_at_start_is_the_newest_migration() -> None:
    assert migrate.head() == migrate.HEAD, "set HEAD in bot/storage/migrate.py to the newest revision"


async def test_a_database_from_a_newer_release_is_refused_with_the_fix(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(
            StorageError, match=r"revision 9999, which this supportbot does not know.*upgrade"
        ):
            await upgrade(engine)
    finally:
        await engine.dispose()


async def test_a_new_database_is_created_and_stamped_at_the_newest_revision(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        first = await upgrade(engine)
        second = await upgrade(engine)
        async with engine.connect() as conn:
            stamped = await conn.run_sync(migrate.current)
    finally:
        await engine.dispose()
    assert (first.before, first.after) == (None, migrate.head())
    assert (second.before, second.after) == (migrate.head(), migrate.head())
    assert stamped == (migrate.head(),)
    assert await _tables(database_url) == {*metadata.tables, "alembic_version"}
