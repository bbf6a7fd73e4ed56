"""`supportbot chat`: talk to the bot in the terminal, as a person or as a program (--jsonl)."""

from __future__ import annotations

import asyncio
import sys

import click

from bot.channels.terminal import TerminalSession, run_human, run_jsonl
from bot.cli.common import build_engine, flows_option


@click.command()
@click.option("--flow", "flow_id", default=None, help="Flow id (default: cant-send-email).")
@click.option("--jsonl", is_flag=True, help='Read {"text"}/{"choice"} lines, write turn objects.')
@flows_option
def chat(flow_id: str | None, jsonl: bool, flows_dir: str | None) -> None:
    """Chat with the bot in the terminal."""
    engine = build_engine(flows_dir)
    session = TerminalSession(engine, flow_id)
    if jsonl:
        asyncio.run(run_jsonl(session, sys.stdin, sys.stdout))
    else:
        asyncio.run(run_human(session, input, click.echo))
