"""One data access layer: only bot/storage's schema and migrations use SQLAlchemy; a serving process never loads it."""

from __future__ import annotations

import ast
import asyncio
import sys
from pathlib import Path

from bot.storage.driver import open_driver
from tests.support.storage import ROOT, child_env, supportbot_cli

# The schema, the migrations and the engine they run on at upgrade time: nothing else may name it.
MAY_USE_SQLALCHEMY = {
    Path("bot/storage/schema.py"),
    Path("bot/storage/migrate.py"),
    Path("bot/storage/database.py"),
}
MIGRATIONS = Path("bot/storage/migrations")


def sqlalchemy_imports(path: Path) -> list[int]:
    """Lines of `path` importing sqlalchemy or alembic, wherever they stand (module level or a function)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name.split(".")[0] in ("sqlalchemy", "alembic") for name in names):
            lines.append(node.lineno)
    return lines


def test_only_the_schema_and_migrations_import_sqlalchemy() -> None:
    offenders = [
        f"{relative}:{line}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if (relative := path.relative_to(ROOT)) not in MAY_USE_SQLALCHEMY
        and MIGRATIONS not in relative.parents
        for line in sqlalchemy_imports(path)
    ]
    assert offenders == [], "statements belong on bot.storage.driver; SQLAlchemy only describes and migrates"


# A process serving a database that is already migrated: a turn with an escalation, the outbox's
# lease and mark, the idle sweep, the admin pages' and analytics' reads, an export.
SERVE = """
import asyncio, sys
from bot.bootstrap import build
from bot.settings import Settings
from bot.engine.model import Incoming
from bot.escalation import outbox
from bot.analytics.abandon import sweep
from bot.analytics.export import records
from bot.analytics.stats import Filters, compute
from bot.channels.web.admin import queries
from bot.channels.web.wiring import build_app

async def main():
    await build_app(Settings.from_env())  # every route and background job of `supportbot serve`
    parts = await build(Settings.from_env())
    try:
        cid = (await parts.service.start(None, "web")).conversation_id
        await parts.service.reply(cid, Incoming(text="human"))
        for job in await outbox.lease(parts.driver):
            await outbox.mark_delivered(parts.driver, job.id)
        await sweep(parts.driver, 0.0)
        await compute(parts.driver, Filters(), parts.registry)
        await queries.page(parts.driver, Filters())
        await queries.conversation(parts.driver, cid)
        assert [r async for r in records(parts.driver, Filters())]
    finally:
        await parts.close()

asyncio.run(main())
loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("sqlalchemy", "alembic", "aiosqlite"))
print(loaded)
"""


async def test_a_serving_process_never_loads_sqlalchemy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'supportbot.db'}"
    await supportbot_cli(url, "db", "upgrade")  # the release step, in its own process
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVE,
        cwd=ROOT,
        env=child_env(DATABASE_URL=url, SUPPORTBOT_ESCALATION_WEBHOOK_URL="http://127.0.0.1:9/hook"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await child.communicate()
    assert child.returncode == 0, err.decode()
    assert out.decode().strip().splitlines()[-1] == "[]"
    driver = open_driver(url)
    try:
        async with driver.read() as s:
            assert await s.one("SELECT count(*) FROM outbox WHERE status = 'delivered'") == (1,)
    finally:
        await driver.close()
