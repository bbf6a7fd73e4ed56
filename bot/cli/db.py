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
    """Create the tables, or bring them up to date."""
    from bot.storage.database import open_engine, upgrade

    async def run() -> int:
        engine = open_engine(Settings.from_env().database_url)
        try:
            return await upgrade(engine)
        finally:
            await engine.dispose()

    version = asyncio.run(run())
    click.echo(f"database schema is at version {version}")
