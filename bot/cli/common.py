"""Small pieces the commands share: the --flows option and building an engine from settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:  # the commands import these when they run, so `--help` and `flows check` stay quick
    from bot.engine.engine import Engine
    from bot.engine.probing import ProbePort
    from bot.engine.registry import FlowRegistry
    from bot.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def flows_option(func: F) -> F:
    option = click.option(
        "--flows",
        "flows_dir",
        default=None,
        metavar="DIR",
        help="Folder of flow files (default: $SUPPORTBOT_FLOWS or ./flows).",
    )
    return option(func)


def flows_path(flows_dir: str | None, settings: Settings | None = None) -> Path:
    if flows_dir:
        return Path(flows_dir)
    if settings is None:
        from bot.settings import Settings  # only when no folder is given: `flows check DIR` skips it

        settings = Settings.from_env()
    return settings.flows_dir


def load_registry(flows_dir: str | None, settings: Settings | None = None) -> FlowRegistry:
    """Load the flows; refuse to go on when none could be loaded, naming the broken files."""
    from bot.engine.registry import FlowRegistry

    path = flows_path(flows_dir, settings)
    if not path.is_dir():
        raise click.ClickException(
            f"flow folder {path} does not exist; pass --flows DIR or set SUPPORTBOT_FLOWS"
        )
    registry = FlowRegistry.load_dir(path)
    for file, problems in registry.refused.items():
        click.echo(f"warning: refused {file}:", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
    if not registry.ids():
        raise click.ClickException(f"no valid flow in {path}; run `supportbot flows check {path}`")
    return registry


def live_probes(settings: Settings) -> ProbePort:
    from bot.probes import LiveProbes

    return LiveProbes(settings)


def build_engine(flows_dir: str | None) -> Engine:
    from bot.engine.engine import Engine
    from bot.settings import Settings

    settings = Settings.from_env()
    return Engine(load_registry(flows_dir, settings), live_probes(settings))
