"""The `supportbot` command line: one click group; each command lives in its own module."""

from __future__ import annotations

import importlib
import logging
import sys

import click

from bot.errors import BotError

# Every command by name, as "module:attribute"; a module adds itself with one line here. A command's
# module is imported when that command runs (or --help lists them all), so `flows check` loads no
# other command's imports.
COMMANDS = {
    "chat": "bot.cli.chat:chat",
    "flows": "bot.cli.flows:flows",
    "probe": "bot.cli.probe:probe",
    "serve": "bot.cli.serve:serve",
    "db": "bot.cli.db:db",
    "worker": "bot.cli.worker:worker",
    "outbox": "bot.cli.worker:outbox_group",
    "stats": "bot.cli.stats:stats",
    "export": "bot.cli.export:export",
}


class _Group(click.Group):
    """Loads each command when it is asked for, and turns a BotError anywhere below into one clear
    line and exit status 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, _, attribute = COMMANDS[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return self.commands.get(cmd_name)

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
