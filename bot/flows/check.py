"""Checks flow files as `supportbot flows check` does: every problem of every file, none loaded."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from bot.errors import FlowError
from bot.flows.loader import default_catalogue, parse_flow_shape, read_text
from bot.flows.shapes import FlowShape
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


class ParsedFlow(NamedTuple):
    """A flow file that passed the YAML and schema checks, with its text (the lint reads its comments)."""

    spec: FlowShape
    doc: Document
    text: str


def read_flows(files: list[Path]) -> tuple[list[ParsedFlow], list[str]]:
    """Each file that parses, read once for the checks and the lint; one line per problem of the others."""
    parsed: list[ParsedFlow] = []
    lines: list[str] = []
    for path in files:
        try:
            text = read_text(path)
            parsed.append(ParsedFlow(*parse_flow_shape(text, str(path)), text))
        except FlowError as exc:
            lines.extend(f"{loc}: {msg}" for loc, msg in exc.problems)
    return parsed, lines


def check_flows(parsed: list[ParsedFlow]) -> list[str]:
    """One `FILE:LINE:COL: message` line per problem of flows that parsed: shared ids, then each flow's."""
    lines: list[str] = []
    ids: dict[str, str] = {}
    for spec, doc, _ in parsed:
        if spec.id in ids:
            lines.append(
                f"{doc.where(('id',))}: flow id `{spec.id}` is also used by {ids[spec.id]}; ids must be unique"
            )
        ids.setdefault(spec.id, doc.file)
    catalogue = default_catalogue(set(ids))
    for spec, doc, _ in parsed:
        lines.extend(f"{loc}: {msg}" for loc, msg in validate_flow(spec, doc, catalogue))
    return lines


def check_files(files: list[Path]) -> list[str]:
    """One `FILE:LINE:COL: message` line per problem, in file order."""
    parsed, lines = read_flows(files)
    return lines + check_flows(parsed)
