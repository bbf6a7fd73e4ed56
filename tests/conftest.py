"""Fixtures every layer may use: `database_url`, a fresh SQLite file or a fresh PostgreSQL schema."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _with_search_path(url: str, schema: str) -> str:
    # libpq's `options` (asyncpg reads it too): every connection of the code under test lands in `schema`.
    glue = "&" if "?" in url else "?"
    return f"{url}{glue}options=-csearch_path%3D{schema}"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A DATABASE_URL nobody else uses: a SQLite file in tmp_path, or a PostgreSQL schema of its own.

    Other tests (and other engineers' test runs) share the PostgreSQL database `test`, so each test gets
    its own schema, dropped afterwards, instead of dropping tables that someone else may be using.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'supportbot.db'}"
        return
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set (a postgresql:// URL); PostgreSQL tests skipped")
    import asyncpg

    schema = f"sbtest_{os.getpid()}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(TEST_DATABASE_URL)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await admin.close()
    try:
        yield _with_search_path(TEST_DATABASE_URL, schema)
    finally:
        admin = await asyncpg.connect(TEST_DATABASE_URL)
        try:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await admin.close()
