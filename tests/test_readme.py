"""The README stays true: its flow diagram is the one the reference flow draws today."""

from __future__ import annotations

from pathlib import Path

from bot.flows.diagram import render
from bot.flows.loader import load_file

REPO = Path(__file__).resolve().parent.parent


def test_readme_embeds_the_current_diagram_of_the_reference_flow() -> None:
    diagram = render(load_file(REPO / "flows" / "cant-send-email.yaml"), "mermaid").rstrip("\n")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"```mermaid\n{diagram}\n```" in readme, (
        "README's diagram is stale: regenerate it with `supportbot flows graph cant-send-email`"
    )


def test_readme_names_the_two_setup_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up", 1)[1].split("##", 1)[0]
    assert "pip install -e '.[dev]'" in setup and "\npytest\n" in setup
