"""`supportbot chat`: talk to the bot in the terminal, as a person or as a program (--jsonl)."""

from __future__ import annotations

import asyncio
import sys

import click

from bot.cli.common import build_engine, flows_option
from bot.settings import Settings


@click.command()
@click.option("--flow", "flow_id", default=None, help="Flow id (default: cant-send-email).")
@click.option("--jsonl", is_flag=True, help='Read {"text"}/{"choice"} lines, write turn objects.')
@click.option("--save", is_flag=True, help="Store the conversation in DATABASE_URL (resume it later).")
@click.option("--resume", "resume", default=None, metavar="ID", help="Continue a stored conversation.")
@flows_option
def chat(flow_id: str | None, jsonl: bool, save: bool, resume: str | None, flows_dir: str | None) -> None:
    """Chat with the bot in the terminal."""
    if save or resume:
        from bot.cli.chat_stored import chat_stored  # the database only when asked for

        chat_stored(flow_id, jsonl, resume, flows_dir)
        return
    from bot.channels.terminal import TerminalSession, run_human, run_jsonl

    engine = build_engine(flows_dir)
    # Held in memory only: a hand-over is neither stored nor sent, and the chat says so.
    session = TerminalSession(engine, flow_id, sinks=Settings.from_env().escalation_sinks())
    if jsonl:
        asyncio.run(run_jsonl(session, sys.stdin, sys.stdout))
    else:
        asyncio.run(run_human(session, input, click.echo))
