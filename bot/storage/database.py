"""Opens the database: async SQLAlchemy on SQLite (WAL, immediate transactions) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.errors import ConfigError
from bot.storage import sqlite_inline
from bot.storage.migrate import Migrated
from bot.storage.migrate import upgrade as migrate


def async_url(url: str) -> str:
    """DATABASE_URL as given (sqlite:///x.db, postgresql://…) -> the async driver's URL."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("postgresql+asyncpg://"):
        return url
    raise ConfigError(f"DATABASE_URL={url!r}: use sqlite:///path.db or postgresql://user@host/db")


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


def open_engine(url: str) -> AsyncEngine:
    target = async_url(url)
    if target.startswith("sqlite"):
        # One connection per process, run on the event loop (bot.storage.sqlite_inline), for the
        # outbox, admin pages and analytics; turns use bot.storage.driver's own connection. Kept inline
        # until those move onto the driver: through aiosqlite's thread every statement is a hop to the
        # thread and back, and the delivery loop's poll (BEGIN IMMEDIATE) held the write lock across
        # those hops while turns waited for it (SQLite fell from 59 to 52 messages/s in bench/http.py).
        engine = create_async_engine(
            target,
            async_creator=sqlite_inline.creator(make_url(target).database or ":memory:"),
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
        )
        _sqlite_pragmas(engine)
        return engine
    # asyncpg parses the DSN itself, so libpq query options (sslmode, options=-csearch_path…) keep
    # working; SQLAlchemy would pass them to asyncpg.connect() as unknown keyword arguments.
    dsn = "postgresql://" + target[len("postgresql+asyncpg://") :]

    async def connect() -> Any:
        import asyncpg

        return await asyncpg.connect(dsn)

    # Turns go through bot.storage.driver's own pool (10); this one serves the admin pages, analytics
    # and the outbox, so it stays small: a process opens at most 10 + 5 + 5 + 1 (live events) connections.
    return create_async_engine(
        "postgresql+asyncpg://", async_creator=connect, pool_size=5, max_overflow=5, pool_pre_ping=True
    )


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of pysqlite's deferred BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: two turns never interleave or deadlock on upgrade.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def upgrade(engine: AsyncEngine) -> Migrated:
    """Create the tables or migrate them to the newest revision (Alembic); what it did."""
    return await migrate(engine)


def now() -> float:
    return time.time()
