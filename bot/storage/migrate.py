"""Schema migrations: bring a database to Alembic's head, adopting one made before there were any."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import StorageError

if TYPE_CHECKING:
    # Imported where used: a process whose database is already at HEAD loads neither SQLAlchemy nor Alembic.
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.storage.driver import Driver

SCRIPTS = Path(__file__).with_name("migrations")
# The schema as releases before migrations created it (create_all plus a schema_version row). Such a
# database has every table but no alembic_version: it is stamped at this revision, then upgraded.
BASELINE = "0001"
# The newest revision in migrations/versions. Every process start checks the database against it with
# one query, so a database already at it needs no Alembic at all (importing and reading the scripts
# cost more than the rest of the start); tests/storage/test_migrations.py keeps it equal to Alembic's head.
HEAD = "0004"
# Alembic logs its plugins and dialect choices at INFO on every run; Migrated.describe says what matters.
logging.getLogger("alembic").setLevel(logging.WARNING)


def config(connection: Connection | None = None) -> Any:
    """Alembic's configuration, built here (there is no alembic.ini: the URL is DATABASE_URL)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None
    return str(revision)


def current(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is stamped at (empty before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    return tuple(MigrationContext.configure(connection).get_current_heads())


@dataclass(frozen=True)
class Migrated:
    """What `upgrade` did: the revision found (None: no tables, or made before migrations) and now."""

    before: str | None
    after: str
    adopted: bool = False  # made by a release before migrations: stamped at the baseline, then upgraded

    def describe(self) -> str:
        if self.before == self.after:
            return f"database schema is at revision {self.after} (the newest); nothing to do"
        if self.adopted:
            return (
                f"database schema from before migrations adopted as {BASELINE} and migrated to {self.after}"
            )
        if self.before is None:
            return f"database schema created at revision {self.after}"
        return f"database schema migrated from revision {self.before} to {self.after}"


def _upgrade(connection: Connection) -> Migrated:
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError
    from sqlalchemy import inspect

    from bot.storage.schema import metadata

    cfg = config(connection)
    script = ScriptDirectory.from_config(cfg)
    newest = str(script.get_current_head())
    stamped = current(connection)
    if not stamped:
        if not inspect(connection).has_table("conversations"):
            # A new database: the tables as the models declare them (the same as every migration in
            # turn, which tests/storage/test_migrations.py checks), stamped at the newest revision.
            metadata.create_all(connection)
            command.stamp(cfg, newest)
            return Migrated(None, newest)
        command.stamp(cfg, BASELINE)
        command.upgrade(cfg, "head")
        return Migrated(None, newest, adopted=True)
    for revision in stamped:
        try:
            script.get_revision(revision)
        except CommandError as exc:
            raise StorageError(
                f"the database schema is at revision {revision}, which this supportbot does not know "
                f"(its newest is {newest}): a newer release migrated it; upgrade supportbot"
            ) from exc
    if stamped != (newest,):
        command.upgrade(cfg, "head")
    return Migrated(stamped[0], newest)


async def _at_head(engine: AsyncEngine) -> bool:
    from sqlalchemy import text

    try:
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except Exception:  # no such table yet (a new database, or one from before migrations): migrate
        return False
    return list(found) == [HEAD]


async def at_head(driver: Driver) -> bool:
    """True when the database is stamped at HEAD: the one query a process start makes when nothing
    needs migrating (on the process's own driver)."""
    try:
        async with driver.read() as s:
            found = await s.all("SELECT version_num FROM alembic_version")
    except Exception:  # no such table yet (a new database, or one from before migrations): migrate
        return False
    return [row[0] for row in found] == [HEAD]


async def upgrade(engine: AsyncEngine) -> Migrated:
    """Create the tables or migrate them to the newest revision; safe to run on every start and deploy."""
    if await _at_head(engine):
        return Migrated(HEAD, HEAD)
    from sqlalchemy import text

    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Several processes may start at once: one migrates, the others wait, then find nothing to do.
                await conn.execute(text("SELECT pg_advisory_xact_lock(7405)"))
            return await conn.run_sync(_upgrade)
    except StorageError:
        raise
    except Exception as exc:
        raise StorageError(f"cannot migrate the database: {type(exc).__name__}: {exc}") from exc


async def upgrade_url(database_url: str, driver: Driver | None = None) -> Migrated:
    """Bring DATABASE_URL's schema to the newest revision. A database already there (every start but
    the first after a release) is recognised with one query on `driver`, without loading SQLAlchemy
    or Alembic; otherwise a short-lived engine migrates it and is disposed of."""
    from bot.storage.database import open_engine

    if driver is not None and await at_head(driver):
        return Migrated(HEAD, HEAD)
    engine = open_engine(database_url)
    try:
        return await upgrade(engine)
    finally:
        await engine.dispose()


async def new_revision(engine: AsyncEngine, message: str) -> list[str]:
    """Write the migration from the database's schema (brought to head first) to the models; its files."""
    from alembic import command

    def write(connection: Connection) -> list[str]:
        # Through every migration, not create_all: that would already have the change being described.
        command.upgrade(config(connection), "head")
        scripts = command.revision(config(connection), message, autogenerate=True)
        listed = scripts if isinstance(scripts, list) else [scripts]
        return [str(script.path) for script in listed if script is not None]

    async with engine.begin() as conn:
        return await conn.run_sync(write)
