"""DATABASE_URL's forms, the clock rows are stamped with, and the migration step run before serving."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


def async_url(url: str) -> str:
    """DATABASE_URL as given (sqlite:///x.db, postgresql://…) -> the async driver's URL."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("postgresql+asyncpg://"):
        return url
    raise ConfigError(f"DATABASE_URL={url!r}: use sqlite:///path.db or postgresql://user@host/db")


def open_engine(url: str) -> AsyncEngine:
    """A SQLAlchemy engine for migrating the schema (and for tests that inspect it), never for serving:
    every runtime statement goes through bot.storage.driver. Dispose of it when done."""
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    target = async_url(url)
    if target.startswith("sqlite"):
        # aiosqlite's thread: a migration may wait for another process's write lock without
        # holding up the event loop.
        engine = create_async_engine(target)

        @event.listens_for(engine.sync_engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000", "foreign_keys=ON"):
                dbapi_connection.execute(f"PRAGMA {pragma}")

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection: Any) -> None:
            # IMMEDIATE takes the write lock up front: two processes migrating never deadlock on upgrade.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # asyncpg parses the DSN itself, so libpq query options (sslmode, options=-csearch_path…) keep
    # working; SQLAlchemy would pass them to asyncpg.connect() as unknown keyword arguments.
    dsn = "postgresql://" + target[len("postgresql+asyncpg://") :]

    async def connect() -> Any:
        import asyncpg

        return await asyncpg.connect(dsn)

    return create_async_engine("postgresql+asyncpg://", async_creator=connect, poolclass=_null_pool())


def _null_pool() -> Any:
    from sqlalchemy.pool import NullPool

    return NullPool  # short-lived: nothing worth keeping open between a migration's few connections


def now() -> float:
    return time.time()
