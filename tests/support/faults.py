"""Helpers for the fault tests: `supportbot` child processes on loopback and a private PostgreSQL schema."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ROOT / "flows"
DATABASE = os.environ.get("TEST_DATABASE_URL")
# One customer's turns through the reference flow, with no probes on the way.
SCRIPT = [
    {"text": "it says my password is wrong"},
    {"choice": "no"},
    {"choice": "no"},
    {"text": "example.com"},
    {"choice": "no"},
]


@contextlib.asynccontextmanager
async def pg_schema() -> AsyncIterator[str]:
    """A DATABASE_URL on a schema of its own in TEST_DATABASE_URL, dropped afterwards."""
    if not DATABASE:
        pytest.skip("TEST_DATABASE_URL is not set (a postgresql:// URL)")
    import asyncpg

    schema = f"sbfault_{os.getpid()}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(DATABASE)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await admin.close()
    glue = "&" if "?" in DATABASE else "?"
    try:
        yield f"{DATABASE}{glue}options=-csearch_path%3D{schema}"
    finally:
        for _ in range(20):  # the server may still be coming back from a restart test
            try:
                admin = await asyncpg.connect(DATABASE)
            except (OSError, asyncpg.PostgresError):
                await asyncio.sleep(0.5)
                continue
            try:
                await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                await admin.close()
            break


def bot_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "SUPPORTBOT_FLOWS": str(FLOWS),
        "SUPPORTBOT_TRUSTED_PROXIES": "127.0.0.1/32",  # each simulated customer has its own address
        "SUPPORTBOT_NAMESERVERS": "127.0.0.1:9",
        **extra,
    }


async def upgrade(env: dict[str, str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "db",
        "upgrade",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()
