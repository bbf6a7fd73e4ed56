"""Direct driver connections for a turn's hot path: hand-written SQL on sqlite3 or an asyncpg pool."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, Protocol

import orjson

from bot.errors import ConfigError, Duplicate, StorageError

# Why SQL on the driver and not SQLAlchemy Core: building, caching and running each statement
# through SQLAlchemy's async adapter cost ~0.15 ms of CPU, and a turn runs eight of them; that was
# half of a turn's time. The statements are few and fixed, so they are written once as SQL with
# PostgreSQL's `$1` placeholders (SQLite reads them as `?1`) and run on the driver itself. Every
# statement of the process goes through here (bot/storage/store.py, outbox.py, events.py, views.py),
# so a process holds one SQLite connection or one PostgreSQL pool; SQLAlchemy only describes the
# schema and runs the migrations (bot/storage/schema.py, migrate.py).


class Session(Protocol):
    """One connection's worth of SQL: rows as tuples, JSON passed and returned as text."""

    dialect: str

    async def one(self, sql: str, *args: Any) -> Sequence[Any] | None: ...

    async def all(self, sql: str, *args: Any) -> list[Sequence[Any]]: ...

    async def run(self, sql: str, *args: Any) -> int:
        """Execute; the number of rows changed."""
        ...

    async def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...


class Driver(Protocol):
    dialect: str

    def read(self) -> contextlib.AbstractAsyncContextManager[Session]:
        """A session for reads (autocommit: each statement sees the latest commit)."""
        ...

    def write(self) -> contextlib.AbstractAsyncContextManager[Session]:
        """A session in one transaction: committed on leaving, rolled back on an error."""
        ...

    def single(self) -> contextlib.AbstractAsyncContextManager[Session]:
        """A session for writes made by one statement (atomic by itself): no BEGIN and COMMIT round
        trips where a statement is its own transaction (PostgreSQL); a transaction where it is not."""
        ...

    async def close(self) -> None: ...


# -- SQLite -----------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\$(\d+)")
log = logging.getLogger(__name__)  # at DEBUG: every statement and its parameters (as SQLAlchemy's echo)


def _trace(sql: str, args: object) -> None:
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s %r", sql, args)


class SqliteSession:
    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self._sql: dict[str, str] = {}

    def _native(self, sql: str) -> str:
        native = self._sql.get(sql)
        if native is None:
            native = self._sql[sql] = _PLACEHOLDER.sub(r"?\1", sql)
        return native

    def _execute(self, sql: str, args: Sequence[Any]) -> sqlite3.Cursor:
        _trace(sql, args)
        try:
            return self.connection.execute(self._native(sql), args)
        except sqlite3.IntegrityError as exc:
            raise Duplicate(str(exc)) from exc

    async def one(self, sql: str, *args: Any) -> Sequence[Any] | None:
        rows = self._execute(sql, args).fetchall()
        return rows[0] if rows else None

    async def all(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        return self._execute(sql, args).fetchall()

    async def run(self, sql: str, *args: Any) -> int:
        return self._execute(sql, args).rowcount

    async def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        _trace(sql, rows)
        try:
            self.connection.executemany(self._native(sql), rows)
        except sqlite3.IntegrityError as exc:
            raise Duplicate(str(exc)) from exc


class Checkpoints:
    """Copies the WAL back into the database file in a thread of its own, not in a turn's COMMIT.

    SQLite's automatic checkpoint runs inside the COMMIT that fills the WAL past 1,000 pages: every
    ~100 turns one turn spent milliseconds copying pages with the event loop stopped (~0.09 ms a
    turn on average, bench/README.md). Here a thread with its own connection does the copying
    (sqlite3 releases the GIL while SQLite works) every `every` seconds. The WAL only starts over
    from its beginning once everything in it is copied, which a thread racing the writer never
    sees; so after each of its checkpoints the writer, right after a COMMIT, checkpoints the few
    pages written since, inline, and the next transaction starts the WAL over.
    """

    def __init__(self, path: str, writer: sqlite3.Connection, every: float = 0.1) -> None:
        self.writer = writer
        writer.execute("PRAGMA wal_autocheckpoint=0")
        self.every = every
        self.pending = 0  # commits since the thread's last checkpoint
        self.tail = False  # the thread checkpointed: the writer copies the rest after its next commit
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(path,), name="supportbot-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def committed(self) -> None:
        """After each COMMIT of the writer: the inline tail, when one is due."""
        self.pending += 1
        # `pending` also bounds the WAL should the thread fall behind or stop: the writer catches up.
        if self.tail or self.pending > 1_000:
            self.tail = False
            self.pending = 0
            # The commit is done whatever happens here; a busy file is checkpointed the next time.
            with contextlib.suppress(sqlite3.Error):
                self.writer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _run(self, path: str) -> None:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self.every):
                if self.pending and not self.tail:
                    self.pending = 0
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    self.tail = True
        except sqlite3.Error as exc:
            log.warning("background WAL checkpoints stopped (%s); the writer checkpoints instead", exc)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class SqliteDriver:
    """One sqlite3 connection per process, used on the event loop (and a checkpointing thread).

    Every statement takes microseconds, so it runs inline. Running a turn's transaction in a
    thread of its own was tried and halved throughput: each statement gives up the GIL and takes it
    back, and taking it back waits for the busy event loop's switch interval (bench/README.md). A write
    transaction never awaits anything that suspends, so no other task of this process can find it
    open; while another connection (another process, or a migration) holds the write lock,
    BEGIN fails at once (busy_timeout 0) and the write waits for it in asyncio, not by blocking.
    """

    dialect = "sqlite"

    def __init__(self, path: str, busy_wait: float = 30.0) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=0"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.session = SqliteSession(self.connection)
        self.busy_wait = busy_wait
        self._writing = asyncio.Lock()
        self.checkpoints = Checkpoints(path, self.connection)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[Session]:
        yield self.session

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[Session]:
        # Uncontended (the rule above), taking the lock costs no suspension; should a write ever
        # await something that suspends, the next one waits here instead of nesting a BEGIN.
        async with self._writing:
            await self._begin()
            try:
                yield self.session
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")
            self.checkpoints.committed()

    def single(self) -> contextlib.AbstractAsyncContextManager[Session]:
        return self.write()  # store.save_turn runs several statements here: they need the transaction

    async def _begin(self) -> None:
        delay, waited = 0.0005, 0.0
        while True:
            try:
                self.connection.execute("BEGIN IMMEDIATE")  # the write lock now, or SQLITE_BUSY
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise StorageError(f"SQLite refused the transaction: {exc}") from exc
                if waited >= self.busy_wait:
                    raise StorageError(f"SQLite stayed locked for {self.busy_wait:.0f} s: {exc}") from exc
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.05)

    async def close(self) -> None:
        self.checkpoints.stop()
        self.connection.close()


# -- PostgreSQL -------------------------------------------------------------------------------------


class PostgresSession:
    dialect = "postgresql"

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def one(self, sql: str, *args: Any) -> Sequence[Any] | None:
        _trace(sql, args)
        row = await self.connection.fetchrow(sql, *args)
        return tuple(row) if row is not None else None

    async def all(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        _trace(sql, args)
        return [tuple(row) for row in await self.connection.fetch(sql, *args)]

    async def run(self, sql: str, *args: Any) -> int:
        _trace(sql, args)
        status = await self.connection.execute(sql, *args)  # e.g. "UPDATE 1"
        count = status.rsplit(" ", 1)[-1]
        return int(count) if count.isdigit() else 0

    async def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        _trace(sql, rows)
        await self.connection.executemany(sql, rows)


def _connection_lost() -> tuple[type[BaseException], ...]:
    import asyncpg

    return (
        OSError,
        asyncio.TimeoutError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
        asyncpg.PostgresConnectionError,
        asyncpg.OperatorInterventionError,  # the server is shutting down or starting up
        asyncpg.InsufficientResourcesError,  # too many connections, disk full: it can't serve us now
    )


async def _keep_session(connection: Any) -> None:
    """The pool's reset on release. The default sends `RESET ALL; UNLISTEN *; …`, a round trip per
    turn; these sessions set, listen to and lock nothing, and asyncpg still rolls back a transaction
    left open before it calls this."""


class PostgresDriver:
    """An asyncpg pool; a lost connection (the server restarted) expires the whole pool at once."""

    dialect = "postgresql"

    def __init__(self, dsn: str, max_size: int = 10) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self._pool: Any = None
        self._opening = asyncio.Lock()

    async def _acquire_pool(self) -> Any:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    import asyncpg

                    # No timer per release to close connections idle for 5 minutes: a process keeps
                    # the few it needed (at most max_size), and acquiring is that much cheaper.
                    self._pool = await asyncpg.create_pool(
                        self.dsn,
                        min_size=0,
                        max_size=self.max_size,
                        timeout=10,
                        reset=_keep_session,
                        max_inactive_connection_lifetime=0,
                    )
        return self._pool

    @contextlib.asynccontextmanager
    async def _session(self, transaction: bool) -> AsyncIterator[Session]:
        import asyncpg

        pool = None
        lost = _connection_lost()
        try:
            pool = await self._acquire_pool()
            async with pool.acquire() as connection:
                if transaction:
                    async with connection.transaction():
                        yield PostgresSession(connection)
                else:
                    yield PostgresSession(connection)
        except asyncpg.UniqueViolationError as exc:
            raise Duplicate(str(exc)) from exc
        except lost as exc:
            if pool is not None:
                await (
                    pool.expire_connections()
                )  # the others are as dead as this one: reconnect each on next use
            raise StorageError(f"database unavailable: {type(exc).__name__}: {exc}") from exc

    def read(self) -> contextlib.AbstractAsyncContextManager[Session]:
        return self._session(transaction=False)

    def write(self) -> contextlib.AbstractAsyncContextManager[Session]:
        return self._session(transaction=True)

    def single(self) -> contextlib.AbstractAsyncContextManager[Session]:
        return self._session(transaction=False)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


# -- The few places the dialects differ ------------------------------------------------------------


def in_list(dialect: str, column: str, n: int) -> str:
    """`column` is one of the values in parameter $n (pass them through `listed`): an array on
    PostgreSQL, a JSON list on SQLite, so a list of any length is one parameter."""
    if dialect == "postgresql":
        return f"{column} = ANY(${n})"
    return f"{column} IN (SELECT value FROM json_each(${n}))"  # noqa: S608 (a column name we chose)


def listed(dialect: str, values: Sequence[Any]) -> Any:
    """The parameter for `in_list`."""
    return list(values) if dialect == "postgresql" else orjson.dumps(list(values)).decode()


def json_value(value: Any) -> Any:
    """A JSON column as read (text from either driver) -> the value it holds."""
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def sqlite_path(database_url: str) -> str:
    """The file of sqlite:///path (relative) or sqlite:////path (absolute)."""
    rest = database_url.split(":", 1)[1]
    path = rest[3:] if rest.startswith("///") else rest.lstrip("/")
    return path.split("?", 1)[0]


def open_driver(database_url: str) -> Driver:
    """The driver for DATABASE_URL (sqlite:///path or postgresql://…), as bot.storage.database reads it."""
    from bot.storage.database import async_url

    target = async_url(database_url)
    if target.startswith("sqlite"):
        path = sqlite_path(target)
        if path in ("", ":memory:"):
            raise ConfigError(
                f"DATABASE_URL={database_url!r} is an in-memory SQLite database, which each connection "
                "sees empty; give a file path, e.g. sqlite:///supportbot.db"
            )
        return SqliteDriver(path)
    return PostgresDriver("postgresql://" + target[len("postgresql+asyncpg://") :])
