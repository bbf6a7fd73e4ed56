"""`supportbot export --since DATE`: transcripts and events as JSON Lines, one conversation a line."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import IO

import click

from bot.analytics.periods import parse_when
from bot.settings import Settings


@click.command()
@click.option("--since", default=None, metavar="DATE", help="Conversations started since (UTC), or 7d.")
@click.option("--flow", "flow_id", default=None, metavar="ID", help="Only conversations of this flow.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File (default stdout).",
)
def export(since: str | None, flow_id: str | None, output: str | None) -> None:
    """Write each conversation (redacted transcript and analytics events) as one JSON line."""
    from bot.analytics.export import records
    from bot.analytics.stats import Filters
    from bot.storage.driver import open_driver
    from bot.storage.migrate import upgrade_url

    settings = Settings.from_env()
    filters = Filters(flow=flow_id, since=parse_when(since) if since else None)

    async def run(out: IO[str]) -> int:
        driver = open_driver(settings.database_url)
        count = 0
        try:
            await upgrade_url(settings.database_url, driver)
            async for record in records(driver, filters):
                out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
        finally:
            await driver.close()
        out.flush()
        return count

    if output:
        with open(output, "w", encoding="utf-8") as handle:
            count = asyncio.run(run(handle))
        click.echo(f"wrote {count} conversation(s) to {output}", err=True)
    else:
        asyncio.run(run(sys.stdout))
