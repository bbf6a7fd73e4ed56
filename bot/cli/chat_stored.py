"""`supportbot chat --save/--resume ID`: the terminal chat stored in DATABASE_URL through the service."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace

import click

from bot.bootstrap import build
from bot.channels.stored import StoredSession
from bot.channels.terminal import run_human, run_jsonl
from bot.cli.common import flows_path, live_probes, load_registry
from bot.settings import Settings


def chat_stored(flow_id: str | None, jsonl: bool, resume: str | None, flows_dir: str | None) -> None:
    settings = Settings.from_env()
    settings = replace(settings, flows_dir=flows_path(flows_dir, settings))
    registry = load_registry(flows_dir, settings)

    async def run() -> None:
        parts = await build(settings, probes=live_probes(settings), registry=registry)
        try:
            session = StoredSession(parts, flow_id, resume)
            if jsonl:
                await run_jsonl(session, sys.stdin, sys.stdout)
            else:
                await run_human(session, input, click.echo)
                if session.conversation is not None:
                    click.echo(f"(continue with: supportbot chat --resume {session.conversation.id})")
        finally:
            await parts.close()

    asyncio.run(run())
