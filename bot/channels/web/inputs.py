"""Strict parsing of JSON request bodies: UTF-8, one object, known fields, sane strings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NotRequired, Required, get_args, get_origin, get_type_hints

from annotated_types import MaxLen
from pydantic.fields import FieldInfo

from bot.errors import InputError

MAX_TEXT = 2000  # characters a customer can send in one message
MAX_AGENT_TEXT = 4000
MAX_NAME = 100  # flow ids, choice ids, agent names, step names


@dataclass(frozen=True)
class Field:
    """One allowed field: its maximum length in characters and whether it must be present."""

    max_chars: int
    required: bool = False


def fields_of(body: Any) -> dict[str, Field]:
    """A request body's TypedDict as parse_object checks it: each field's documented length and presence."""
    out = {}
    for name, hint in get_type_hints(body, include_extras=True).items():
        # Read from the hint: __required_keys__ misses NotRequired in postponed annotations on 3.11.
        required = get_origin(hint) is not NotRequired
        if get_origin(hint) in (NotRequired, Required):
            hint = get_args(hint)[0]
        limits = [
            m.max_length
            for info in getattr(hint, "__metadata__", ())
            if isinstance(info, FieldInfo)
            for m in info.metadata
            if isinstance(m, MaxLen)
        ]
        if not limits:
            raise TypeError(f"{body.__name__}.{name} needs a max_length: every string field is capped")
        out[name] = Field(limits[0], required=required)
    return out


def parse_object(body: bytes, fields: dict[str, Field]) -> dict[str, str]:
    """Decode `body` as a JSON object whose values are strings; raise InputError saying what's wrong."""
    if not body.strip():
        if any(f.required for f in fields.values()):
            raise InputError(f"The request body is empty; send a JSON object with {_names(fields)}.")
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"The request body is not valid UTF-8 (bad byte at position {exc.start}); "
            "send JSON encoded as UTF-8."
        ) from None
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"The request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from None
    except RecursionError:
        raise InputError("The request body is nested too deeply; send a flat JSON object.") from None
    if not isinstance(data, dict):
        raise InputError(
            f"The request body must be a JSON object like {{{_example(fields)}}}, not {type(data).__name__}."
        )
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InputError(f"Unknown field {unknown[0]!r}; this endpoint accepts only {_names(fields)}.")
    out: dict[str, str] = {}
    for name, spec in fields.items():
        if name not in data or data[name] is None:
            if spec.required:
                raise InputError(f"Field {name!r} is required.")
            continue
        value = data[name]
        if not isinstance(value, str):
            raise InputError(f"Field {name!r} must be a string, not {type(value).__name__}.")
        out[name] = check_string(name, value, spec.max_chars)
    return out


def check_string(name: str, value: str, max_chars: int) -> str:
    """Refuse NUL bytes, unpaired surrogates, blank and over-long values."""
    if "\x00" in value:
        raise InputError(f"Field {name!r} contains a NUL character (\\u0000); remove it.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            f"Field {name!r} contains an unpaired surrogate escape; send real Unicode text."
        ) from None
    if not value.strip():
        raise InputError(f"Field {name!r} is empty.")
    if len(value) > max_chars:
        raise InputError(f"Field {name!r} is {len(value)} characters long; the limit is {max_chars}.")
    return value


def _names(fields: dict[str, Field]) -> str:
    return ", ".join(repr(n) for n in fields) or "no fields"


def _example(fields: dict[str, Field]) -> str:
    return ", ".join(f'"{n}": "..."' for n in fields)
