"""Validates flow data with the pydantic models: every schema problem located and worded for support leads."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.errors import FlowError, Location
from bot.flows.model import BranchCase, ChoiceSpec, FlowSpec, StepSpec
from bot.flows.validate import Problem
from bot.flows.yamlsafe import Document


def model_flow(doc: Document) -> FlowSpec:
    """The flow as models; FlowError with every schema problem located."""
    try:
        return FlowSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise FlowError(_schema_problems(exc, doc)) from None


_MODELS: dict[str, type[BaseModel]] = {
    "flow": FlowSpec,
    "step": StepSpec,
    "choice": ChoiceSpec,
    "arm": BranchCase,
}


def _schema_problems(exc: ValidationError, doc: Document) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[Location, str]] = set()
    for error in exc.errors():
        loc = tuple(error["loc"])
        path = _doc_path(loc, doc)
        message = _message(error, loc, path)
        location = doc.where(path, key=error["type"] == "extra_forbidden")
        if (location, message) not in seen:
            seen.add((location, message))
            problems.append((location, message))
    problems.sort(key=lambda p: (p[0].line, p[0].column))
    return problems


def _doc_path(loc: tuple[Any, ...], doc: Document) -> tuple[str | int, ...]:
    """pydantic's error location without union-member tags, cut to what exists in the file."""
    path: list[str | int] = []
    probe: Any = doc.data
    for part in loc:
        if (isinstance(probe, dict) and part in probe) or (
            isinstance(probe, list) and isinstance(part, int) and part < len(probe)
        ):
            probe = probe[part]
            path.append(part)
        elif (
            isinstance(probe, dict)
            and not isinstance(part, int)
            and "[" not in str(part)
            and (str(part) not in ("str", "list", "int"))
        ):
            path.append(part)  # a missing or extra key: point at its parent or at the key itself
            break
    return tuple(path)


def _message(error: Any, loc: tuple[Any, ...], path: tuple[str | int, ...]) -> str:
    kind = error["type"]
    field = str(path[-1]) if path else "the flow"
    if len(path) > 1 and isinstance(path[-1], int):
        field = f"{path[-2]}[{path[-1] + 1}]"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(path[:-1])
        close = difflib.get_close_matches(field, allowed, n=1, cutoff=0.6)
        hint = f"; did you mean `{close[0]}`?" if close else f"; allowed keys: {', '.join(allowed)}"
        return f"unknown key `{field}`" + hint
    if kind == "missing":
        return f"missing required key `{loc[-1]}`"
    if kind == "string_pattern_mismatch":
        return (
            f"`{error['input']}` is not a valid name for `{field}`: use lower-case letters, "
            "digits and _ (flow ids use -)"
        )
    if kind == "literal_error":
        return f"`{field}`: {error['input']!r} is not allowed; expected {error['ctx']['expected']}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return f"`{field}`: {error['msg']}"


def _allowed_keys(parent: tuple[str | int, ...]) -> list[str]:
    if not parent:
        model: type[BaseModel] = FlowSpec
    elif parent[0] == "steps" and len(parent) == 2:
        model = StepSpec
    elif "choices" in parent and isinstance(parent[-1], int):
        model = ChoiceSpec
    elif "branch" in parent and isinstance(parent[-1], int):
        model = BranchCase
    else:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]
