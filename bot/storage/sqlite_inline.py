"""aiosqlite connections that run each SQLite call on the event loop instead of a helper thread."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite

# Why: a local SQLite statement takes microseconds, but aiosqlite hands every call (cursor, execute,
# fetch, close, commit: about 35 per turn) to its thread and back. Each hop waits for the thread to
# wake and then for the busy event loop to come round, so one turn cost milliseconds of waiting
# and one process managed ~150 turns/s. Run inline, a turn's SQL costs a fraction of a millisecond
# of CPU. The price: while another *process* holds the write lock, this loop waits (busy_timeout);
# with one process per SQLite file (the embedded default) that never happens.


class _RunNow:
    """Stands in for aiosqlite's queue to its thread: runs each queued call at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None and not future.done():
                future.set_exception(exc)
        else:
            if future is not None and not future.done():
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's API (what SQLAlchemy's aiosqlite dialect drives) without its thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, 64)
        self._tx = _RunNow()  # type: ignore[assignment]

    def __await__(self) -> Any:
        return self._connect().__await__()  # no thread to start

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def creator(path: str, timeout: float = 30) -> Callable[[], Awaitable[InlineConnection]]:
    """An `async_creator` for create_async_engine opening `path` inline."""
    connector = functools.partial(sqlite3.connect, path, timeout=timeout, check_same_thread=False)

    async def connect() -> InlineConnection:
        connection = InlineConnection(connector)
        await connection._connect()
        return connection

    return connect
