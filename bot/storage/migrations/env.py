"""Alembic's entry point: runs the migrations on the connection that bot.storage.migrate hands over."""

from __future__ import annotations

from alembic import context

from bot.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    # There is no alembic.ini with a URL: the database is DATABASE_URL, as everywhere else.
    raise SystemExit("run migrations with `supportbot db upgrade` (it reads DATABASE_URL)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite can't ALTER most things; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
