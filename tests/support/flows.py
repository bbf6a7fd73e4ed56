"""Helpers for the flow tests: broken copies of the reference flow, and where each problem must be reported."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from bot.cli import main

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "flows" / "cant-send-email.yaml"


@dataclass(frozen=True)
class Mutation:
    """Replace `old` (found exactly once) with `new`; the problem is at `needle`'s line and column."""

    old: str
    new: str
    needle: str
    message: str
    column_offset: int = 0  # from the needle's first character to the reported column


def reference_text() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def write_copy(folder: Path, mutation: Mutation, name: str = "cant-send-email.yaml") -> tuple[Path, str]:
    text = reference_text()
    assert text.count(mutation.old) == 1, f"{mutation.old!r} must occur once in the reference flow"
    changed = text.replace(mutation.old, mutation.new)
    path = folder / name
    path.write_text(changed, encoding="utf-8")
    return path, changed


def position_of(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the only occurrence of `needle` in `text`."""
    assert text.count(needle) == 1, f"{needle!r} must occur once in the changed flow"
    before = text[: text.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def expected_location(path: Path, text: str, mutation: Mutation) -> tuple[int, int]:
    line, column = position_of(text, mutation.needle)
    return line, column + mutation.column_offset


def flows_check(*paths: Path) -> Result:
    return CliRunner().invoke(main, ["flows", "check", *map(str, paths)])
