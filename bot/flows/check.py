"""Checks flow files as `supportbot flows check` does: every problem of every file, none loaded."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.errors import FlowError
from bot.flows.loader import default_catalogue, parse_flow, read_text
from bot.flows.model import FlowSpec
from bot.flows.validate import validate_flow
from bot.flows.yamlsafe import Document


def flow_files(paths: Iterable[Path]) -> list[Path]:
    """Flow files named directly, or every *.yaml directly inside the folders named (not tests/)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.yaml") if p.is_file()))
        else:
            files.append(path)
    return files


def check_files(files: list[Path]) -> list[str]:
    """One `FILE:LINE:COL: message` line per problem, in file order."""
    lines: list[str] = []
    parsed: list[tuple[FlowSpec, Document]] = []
    for path in files:
        try:
            parsed.append(parse_flow(read_text(path), str(path)))
        except FlowError as exc:
            lines.extend(f"{loc}: {msg}" for loc, msg in exc.problems)
    ids: dict[str, str] = {}
    for spec, doc in parsed:
        if spec.id in ids:
            lines.append(
                f"{doc.where(('id',))}: flow id `{spec.id}` is also used by {ids[spec.id]}; ids must be unique"
            )
        ids.setdefault(spec.id, doc.file)
    catalogue = default_catalogue(set(ids))
    for spec, doc in parsed:
        lines.extend(f"{loc}: {msg}" for loc, msg in validate_flow(spec, doc, catalogue))
    return lines
