"""Reads a flow file's data into plain objects without pydantic, for checks; None whenever in doubt."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.flows.shapes import (
    ENTITY_KINDS,
    FLOW_ID,
    SLOT_NAME,
    STEP_ID,
    VALIDATORS,
    ArmReading,
    ChoiceReading,
    StepReading,
    arm_problem,
    step_problem,
    thresholds_problem,
    version_problem,
)

# The reader accepts a strict subset of what the pydantic models accept (exact types, only the coercions the
# models themselves make) and yields the same values. Anything else, valid or not, gives None and the
# caller validates with pydantic, whose wording is the one users see: no message is written here.

T = TypeVar("T")
_STEP_ID = re.compile(STEP_ID.strip("^$"))
_FLOW_ID = re.compile(FLOW_ID.strip("^$"))
_SLOT_NAME = re.compile(SLOT_NAME.strip("^$"))


class _Unsure(Exception):
    """Not surely valid: leave the verdict (and its message) to pydantic."""


@dataclass(frozen=True, slots=True)
class PlainSignals:
    codes: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PlainChoice(ChoiceReading):
    label: str
    next: str
    id: str | None = None
    synonyms: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    signals: PlainSignals | None = None
    confirm: str | None = None
    hidden: bool = False
    direct: float | None = None
    set: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlainArm(ArmReading):
    if_: str | None = None
    else_: str | None = None
    next: str | None = None


@dataclass(frozen=True, slots=True)
class PlainUnderstanding:
    direct: float = 0.6
    confirm: float = 0.3
    unclear: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PlainStep(StepReading):
    say: str | list[str] | None = None
    ask: str | None = None
    choices: list[PlainChoice] | None = None
    slot: str | None = None
    validate_: str | None = None
    hint: str | None = None
    max_tries: int = 3
    on_invalid: str | None = None
    skip_if_known: bool = False
    understanding: PlainUnderstanding | None = None
    probe: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    save_as: str | None = None
    outcomes: dict[str, str] | None = None
    branch: list[PlainArm] | None = None
    escalate: str | None = None
    end: str | None = None
    call: str | None = None
    on_unresolved: str | None = None
    next: str | None = None
    max_visits: int | None = None
    on_max_visits: str | None = None


@dataclass(frozen=True, slots=True)
class PlainFlow:
    id: str
    title: str
    version: int | str
    start: str
    steps: dict[str, PlainStep]
    description: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    entities: dict[str, str] = field(default_factory=dict)
    on_human: str | None = None
    migrate: dict[str, str] = field(default_factory=dict)


def plain_flow(data: Any) -> PlainFlow | None:
    """The flow, when `data` is surely valid in the pydantic models' eyes; else None."""
    try:
        return _flow(data)
    except _Unsure:
        return None


# --- values, each exactly as the models take it -------------------------------------------------


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _Unsure
    return value


def _text(value: Any) -> str:
    text = _str(value)
    if not text:
        raise _Unsure
    return text


def _str_where(ok: Callable[[str], bool]) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        text = _str(value)
        if not ok(text):
            raise _Unsure
        return text

    return read


def _named(pattern: re.Pattern[str]) -> Callable[[Any], str]:
    return _str_where(lambda text: pattern.fullmatch(text) is not None)


_step_id = _named(_STEP_ID)
_slot_name = _named(_SLOT_NAME)


def _one_of(*allowed: str) -> Callable[[Any], str]:
    return _str_where(lambda text: text in allowed)


def _int(value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _Unsure
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise _Unsure
    return value


def _unit(value: Any) -> float:
    """A score in (0, 1]."""
    if type(value) not in (int, float) or not 0 < value <= 1:
        raise _Unsure
    return float(value)


def _same(value: Any) -> Any:
    return value


def _optional(read: Callable[[Any], T], value: Any) -> T | None:
    return None if value is None else read(value)


def _list(read: Callable[[Any], T], value: Any) -> list[T]:
    if type(value) is not list:
        raise _Unsure
    return [read(item) for item in value]


def _dict(key: Callable[[Any], str], read: Callable[[Any], T], value: Any) -> dict[str, T]:
    if type(value) is not dict:
        raise _Unsure
    return {key(k): read(v) for k, v in value.items()}


def _mapping(value: Any, allowed: frozenset[str], required: frozenset[str] = frozenset()) -> dict[str, Any]:
    if type(value) is not dict or not value.keys() <= allowed or not required <= value.keys():
        raise _Unsure
    return value


# --- the models ---------------------------------------------------------------------------------


def _code(value: Any) -> str:
    # The models write an unquoted 0x800CCC0E (read by YAML as a number) back in hex, and any other
    # number as its digits.
    if type(value) is int and value >= 0:
        return f"0x{value:08X}" if value > 0xFFFF else str(value)
    return _str(value)


def _signals(value: Any) -> PlainSignals:
    data = _mapping(value, frozenset({"codes", "patterns"}))
    return PlainSignals(
        codes=_list(_code, data.get("codes", [])),
        patterns=_list(_str, data.get("patterns", [])),
    )


_CHOICE_KEYS = frozenset(
    {"label", "id", "synonyms", "examples", "signals", "confirm", "hidden", "direct", "next", "set"}
)


def _choice(value: Any) -> PlainChoice:
    data = _mapping(value, _CHOICE_KEYS, frozenset({"label", "next"}))
    return PlainChoice(
        label=_text(data["label"]),
        next=_step_id(data["next"]),
        id=_optional(_slot_name, data.get("id")),
        synonyms=_list(_str, data.get("synonyms", [])),
        examples=_list(_str, data.get("examples", [])),
        signals=_optional(_signals, data.get("signals")),
        confirm=_optional(_str, data.get("confirm")),
        hidden=_bool(data.get("hidden", False)),
        direct=_optional(_unit, data.get("direct")),
        set=_dict(_slot_name, _same, data.get("set", {})),
    )


def _arm(value: Any) -> PlainArm:
    data = _mapping(value, frozenset({"if", "else", "next"}))
    arm = PlainArm(
        if_=_optional(_str, data.get("if")),
        else_=_optional(_step_id, data.get("else")),
        next=_optional(_step_id, data.get("next")),
    )
    if arm_problem(arm):
        raise _Unsure
    return arm


def _understanding(value: Any) -> PlainUnderstanding:
    data = _mapping(value, frozenset({"direct", "confirm", "unclear"}))
    understanding = PlainUnderstanding(
        direct=_unit(data.get("direct", 0.6)),
        confirm=_unit(data.get("confirm", 0.3)),
        unclear=_list(_str, data.get("unclear", [])),
    )
    if thresholds_problem(understanding.direct, understanding.confirm):
        raise _Unsure
    return understanding


def _say(value: Any) -> str | list[str]:
    return _list(_text, value) if type(value) is list else _text(value)


_STEP_KEYS = frozenset(
    {
        *("say", "ask", "choices", "slot", "validate", "hint", "max_tries", "on_invalid", "skip_if_known"),
        *("understanding", "probe", "args", "save_as", "outcomes", "branch", "escalate", "end", "call"),
        *("on_unresolved", "next", "max_visits", "on_max_visits"),
    }
)


def _step(value: Any) -> PlainStep:
    data = _mapping(value, _STEP_KEYS)
    get = data.get
    step = PlainStep(
        say=_optional(_say, get("say")),
        ask=_optional(_text, get("ask")),
        choices=_optional(lambda v: _list(_choice, v), get("choices")),
        slot=_optional(_slot_name, get("slot")),
        validate_=_optional(_one_of(*VALIDATORS), get("validate")),
        hint=_optional(_str, get("hint")),
        max_tries=_int(get("max_tries", 3), 1, 10),
        on_invalid=_optional(_step_id, get("on_invalid")),
        skip_if_known=_bool(get("skip_if_known", False)),
        understanding=_optional(_understanding, get("understanding")),
        probe=_optional(_str, get("probe")),
        args=_dict(_str, _str, get("args", {})),
        save_as=_optional(_slot_name, get("save_as")),
        outcomes=_optional(lambda v: _dict(_str, _step_id, v), get("outcomes")),
        branch=_optional(lambda v: _list(_arm, v), get("branch")),
        escalate=_optional(_text, get("escalate")),
        end=_optional(_one_of("resolved", "unresolved"), get("end")),
        call=_optional(_named(_FLOW_ID), get("call")),
        on_unresolved=_optional(_step_id, get("on_unresolved")),
        next=_optional(_step_id, get("next")),
        max_visits=_optional(lambda v: _int(v, 1, 100), get("max_visits")),
        on_max_visits=_optional(_step_id, get("on_max_visits")),
    )
    if step_problem(step):
        raise _Unsure
    return step


_FLOW_KEYS = frozenset(
    {"id", "title", "version", "description", "start", "variables", "inputs", "entities", "on_human"}
    | {"migrate", "steps"}
)


def _version(value: Any) -> int | str:
    version: int | str = _int(value, -(2**63), 2**63 - 1) if type(value) is int else _str(value)
    if version_problem(version):
        raise _Unsure
    return version


def _flow(value: Any) -> PlainFlow:
    data = _mapping(value, _FLOW_KEYS, frozenset({"id", "title", "version", "start", "steps"}))
    steps = _dict(_step_id, _step, data["steps"])
    if not steps:
        raise _Unsure
    return PlainFlow(
        id=_named(_FLOW_ID)(data["id"]),
        title=_text(data["title"]),
        version=_version(data["version"]),
        start=_step_id(data["start"]),
        steps=steps,
        description=_optional(_str, data.get("description")),
        variables=_dict(_slot_name, _same, data.get("variables", {})),
        inputs=_list(_slot_name, data.get("inputs", [])),
        entities=_dict(_one_of(*ENTITY_KINDS), _slot_name, data.get("entities", {})),
        on_human=_optional(_step_id, data.get("on_human")),
        migrate=_dict(_step_id, _step_id, data.get("migrate", {})),
    )
