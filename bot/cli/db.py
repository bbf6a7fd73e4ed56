"""`supportbot db upgrade`: create or migrate the schema (the Procfile's release step)."""

from __future__ import annotations

import asyncio

import click

from bot.settings import Settings


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def upgrade_command() -> None:
    """Create the tables, or migrate them to the newest revision (a database made by an earlier
    release is upgraded in place, never recreated)."""
    from bot.storage.migrate import upgrade_url

    click.echo(asyncio.run(upgrade_url(Settings.from_env().database_url)).describe())


@db.command("revision")
@click.argument("message")
def revision_command(message: str) -> None:
    """Write a migration for what changed in bot/storage/schema.py (for developers: review it, then
    commit it with the change). DATABASE_URL is migrated to the newest revision first and compared."""
    from bot.storage.database import open_engine
    from bot.storage.migrate import new_revision

    async def run() -> list[str]:
        engine = open_engine(Settings.from_env().database_url)
        try:
            return await new_revision(engine, message)
        finally:
            await engine.dispose()

    for path in asyncio.run(run()):
        click.echo(f"wrote {path}")
