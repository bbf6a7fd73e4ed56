"""`supportbot worker` delivers escalations; `supportbot outbox list|retry` shows and revives dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import click

from bot.escalation.policy import BASE_DELAY, LEASE_SECONDS, MAX_ATTEMPTS, MAX_DELAY, Policy
from bot.settings import Settings


@click.command()
@click.option(
    "--max-attempts",
    type=click.IntRange(1),
    default=MAX_ATTEMPTS,
    show_default=True,
    envvar="SUPPORTBOT_OUTBOX_MAX_ATTEMPTS",
    help="Tries before a delivery becomes a dead letter (see `supportbot outbox list`).",
)
@click.option(
    "--base-delay",
    type=click.FloatRange(0),
    default=BASE_DELAY,
    show_default=True,
    envvar="SUPPORTBOT_OUTBOX_BASE_DELAY",
    help="Seconds before the first retry; doubles each try, with jitter.",
)
@click.option(
    "--lease",
    type=click.FloatRange(0.1),
    default=LEASE_SECONDS,
    show_default=True,
    envvar="SUPPORTBOT_OUTBOX_LEASE",
    help="Seconds a worker holds a row; a crashed worker's rows are retried after this.",
)
@click.option(
    "--poll", type=click.FloatRange(0.01), default=0.5, show_default=True, help="Idle poll seconds."
)
def worker(max_attempts: int, base_delay: float, lease: float, poll: float) -> None:
    """Deliver escalations from the outbox until stopped (SIGTERM/SIGINT)."""
    from bot.bootstrap import build, run_until_cancelled

    policy = Policy(max_attempts, base_delay, MAX_DELAY, lease)

    async def run() -> None:
        from bot.engine.probing import OfflineProbes

        # The worker never runs a conversation, so it needs no live probes.
        parts = await build(Settings.from_env(), probes=OfflineProbes())
        if not parts.sinks:
            click.echo("warning: no escalation sink is configured; rows stay in the outbox", err=True)
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            if task is not None:
                loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await run_until_cancelled(parts, policy, poll)

    asyncio.run(run())


@click.group("outbox")
def outbox_group() -> None:
    """Inspect escalation deliveries."""


@outbox_group.command("list")
@click.option("--status", type=click.Choice(["pending", "delivered", "dead"]), default=None)
def list_command(status: str | None) -> None:
    """Show recent deliveries (newest first)."""
    from bot.escalation import outbox
    from bot.storage.driver import open_driver

    async def run() -> None:
        driver = open_driver(Settings.from_env().database_url)
        try:
            for row in await outbox.listing(driver, status):
                click.echo(
                    f"{row['id']:>6}  {row['status']:<9} {row['sink']:<8} tries={row['attempts']:<2} "
                    f"{row['idempotency_key']}  {row['last_error'] or ''}"
                )
        finally:
            await driver.close()

    asyncio.run(run())


@outbox_group.command("retry")
@click.argument("ids", nargs=-1, type=int)
def retry_command(ids: tuple[int, ...]) -> None:
    """Queue dead letters again (all of them, or the ids given)."""
    from bot.escalation import outbox
    from bot.storage.driver import open_driver

    async def run() -> int:
        driver = open_driver(Settings.from_env().database_url)
        try:
            return await outbox.retry(driver, ids)
        finally:
            await driver.close()

    click.echo(f"{asyncio.run(run())} delivery(ies) queued again")
