"""The `supportbot` command line: one click group; each command lives in its own module."""

from __future__ import annotations

import importlib
import logging
import sys

import click

from bot.errors import BotError

# "module:attribute" of every command; a module adds itself with one line here.
COMMANDS = [
    "bot.cli.chat:chat",
    "bot.cli.flows:flows",
    "bot.cli.probe:probe",
    "bot.cli.serve:serve",
    "bot.cli.db:db",
    "bot.cli.worker:worker",
    "bot.cli.worker:outbox_group",
    "bot.cli.stats:stats",
    "bot.cli.export:export",
]


class _Group(click.Group):
    """Turns a BotError anywhere below into one clear line and exit status 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except BotError as exc:
            click.echo(f"supportbot: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="supportbot")
def main() -> None:
    """supportbot: troubleshoot "I can't send emails!" with a decision tree."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # transitions logs every state change at INFO; that is noise in a chat or a server log.
    logging.getLogger("transitions").setLevel(logging.WARNING)


for _spec in COMMANDS:
    _module, _, _attr = _spec.partition(":")
    main.add_command(getattr(importlib.import_module(_module), _attr))
