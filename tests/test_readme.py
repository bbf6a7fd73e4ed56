"""The README stays true: its flow diagram is the one the reference flow draws today."""

from __future__ import annotations

import re
from pathlib import Path

from bot.engine.compile import load_file
from bot.flows.diagram import render

REPO = Path(__file__).resolve().parent.parent


def test_readme_embeds_the_current_diagram_of_the_reference_flow() -> None:
    diagram = render(load_file(REPO / "flows" / "cant-send-email.yaml"), "mermaid").rstrip("\n")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"```mermaid\n{diagram}\n```" in readme, (
        "README's diagram is stale: regenerate it with `supportbot flows graph cant-send-email`"
    )


def test_readme_names_the_two_setup_commands_and_ci_runs_them() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    setup = readme.split("\n## Set up\n", 1)[1].split("\n## ", 1)[0]
    commands = setup.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert commands == ["pip install -c constraints.txt -e '.[dev]'", "pytest"]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -q -c constraints.txt -e '.[dev]'\n" in ci and "; pytest\n" in ci
    assert "--system-site-packages" not in ci, "CI must install as a newcomer would, with no site packages"


def test_readme_shows_every_screenshot_in_docs_and_no_missing_one() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"docs/[\w-]+\.png", readme))
    present = {f"docs/{p.name}" for p in (REPO / "docs").glob("*.png")}
    assert named - present == set(), "the README shows screenshots that docs/ does not have"
    assert present - named == set(), "docs/ has screenshots the README does not list"
