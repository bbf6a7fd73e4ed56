"""The quick commands import only what they use: `--help` and `flows check` load no server, database,
Slack or scikit-learn (support leads run `flows check` from their editor and CI, on every save)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import cast

import click
import pytest

from bot.cli import COMMANDS, main

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("slack_bolt", "slack_sdk", "aiohttp", "sqlalchemy", "starlette", "uvicorn", "sklearn")


def imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `python -X importtime -m bot ARGS`; the top-level packages it imported, from the import log."""
    done, modules = imported_modules(*args)
    return done, {name.split(".")[0] for name in modules}


def imported_modules(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `python -X importtime -m bot ARGS`; every module it imported, by its dotted name."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    modules = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported":  # the header line: "self [us] | cumulative | imported package"
                modules.add(name)
    return done, modules


@pytest.mark.parametrize(
    "args",
    [("--help",), ("flows", "check", "flows/"), ("flows", "check", "--help"), ("probe", "--help")],
    ids=["help", "flows-check", "flows-check-help", "probe-help"],
)
def test_quick_commands_leave_the_heavy_stack_unimported(args: tuple[str, ...]) -> None:
    done, modules = imported(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "click" in modules  # the import log was read
    assert sorted(modules & set(HEAVY)) == []


def test_help_loads_no_flow_machinery() -> None:
    _, modules = imported("--help")
    assert sorted(modules & {"pydantic", "jinja2", "transitions", "dns", "rapidfuzz"}) == []


def test_flows_check_validates_without_compiling() -> None:
    done, modules = imported("flows", "check", "flows/")
    assert "flow file(s) OK" in done.stdout
    assert "bot" in modules and "yaml" in modules  # the import log was read
    assert "transitions" not in modules  # compiling builds state machines; checking needs none


def test_a_valid_flow_is_checked_without_pydantic_or_jinja2() -> None:
    """Their imports cost more than the whole check of a valid flow: plain forms are read without them."""
    done, modules = imported("flows", "check", "flows/")
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(modules & {"pydantic", "jinja2"}) == []


def test_a_broken_flow_is_explained_by_pydantic_and_jinja2(tmp_path: Path) -> None:
    """Problems keep the models' and the template parser's wording: a broken flow brings them in."""
    text = (REPO / "flows" / "cant-send-email.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(text.replace("title:", "titel:", 1), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(text.replace("{{ domain }}", "{{ domain | }}", 1), encoding="utf-8")
    done, modules = imported("flows", "check", str(tmp_path))
    assert done.returncode == 1
    assert "unknown key `titel`; did you mean `title`?" in done.stdout
    assert "template error: " in done.stdout
    assert {"pydantic", "jinja2"} <= modules


def test_flows_check_of_a_folder_reads_no_settings() -> None:
    """The settings (and office hours) only say where the flows are; a folder given says it already."""
    done, modules = imported_modules("flows", "check", "flows/")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "bot.flows.validate" in modules  # the import log was read
    assert "bot.settings" not in modules
    _, without_folder = imported_modules("flows", "check")
    assert "bot.settings" in without_folder


def test_a_command_that_needs_the_stack_still_gets_it() -> None:
    """The lazy imports run when the command does: `flows graph` compiles the flow and draws it."""
    done, modules = imported("flows", "graph", "cant-send-email", "--flows", "flows")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "stateDiagram" in done.stdout
    assert "transitions" in modules


def test_each_command_is_found_by_the_name_it_has() -> None:
    """The lazy group registers a command under its key in COMMANDS; that key is the command's own name."""
    group = cast(click.Group, main)
    ctx = click.Context(group)
    for name in COMMANDS:
        command = group.get_command(ctx, name)
        assert command is not None and command.name == name
