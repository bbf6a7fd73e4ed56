"""The fast reader accepts only flows the pydantic models accept, and reads them into the same values."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from bot.flows.model import FlowSpec
from bot.flows.plain import plain_flow
from bot.flows.yamlsafe import read_document
from tests.support.flows import REPO, reference_text

FIXTURES = sorted((REPO / "tests" / "flows" / "fixtures").rglob("*.yaml"))
# Values that each break some field's type, pattern or range, and that some other field takes.
ODD_VALUES: list[Any] = [
    None, "", " ", "x", "Bad-Name", "bad-name", "ok_name", "resolved", "default", "pass",
    0, 1, 3, 11, 101, -1, 535, 0x800CCC0E, 0.5, 1.0, 1.5, True, False, [], ["x"], [""], [1], {}, {"x": 1},
]  # fmt: skip


def model_or_none(data: Any) -> FlowSpec | None:
    try:
        return FlowSpec.model_validate(data)
    except ValidationError:
        return None


def same(plain: Any, model: Any) -> bool:
    """Field by field, with the types the models give (1.0 is not 1, "535" is not 535)."""
    if isinstance(model, BaseModel):
        return all(same(getattr(plain, name), getattr(model, name)) for name in type(model).model_fields)
    if isinstance(model, list):
        return isinstance(plain, list) and len(plain) == len(model) and all(map(same, plain, model))
    if isinstance(model, dict):
        return (
            isinstance(plain, dict)
            and list(plain) == list(model)
            and all(same(plain[k], model[k]) for k in model)
        )
    return type(plain) is type(model) and plain == model


def agree(data: Any) -> None:
    plain = plain_flow(data)
    if plain is None:
        return  # in doubt: pydantic decides, whatever it says
    model = model_or_none(data)
    assert model is not None, "the fast reader accepted what the models refuse"
    assert same(plain, model)


def places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value in the document."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from places(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from places(value, (*path, i))


def replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(data)
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return out


def reference() -> Any:
    return read_document(reference_text(), "cant-send-email.yaml").data


# Every key of the format at least once, small enough to change each value in turn.
EVERY_KEY = """
id: every-key
title: Every key
version: 1
description: All of them
start: first
variables: {host: smtp.example.com, limit: 25}
inputs: [client_ip]
entities: {domain: domain, codes: codes}
on_human: human
migrate: {old: first}
steps:
  first:
    say: ["Hello {{ host }}", Welcome]
    next: question
    max_visits: 3
    on_max_visits: human
  question:
    ask: Which one?
    hint: type it
    slot: answer
    validate: text
    max_tries: 2
    on_invalid: human
    skip_if_known: true
    next: check
    understanding: {direct: 0.7, confirm: 0.2, unclear: [it fails]}
    choices:
      - label: Yes
        id: yes_please
        synonyms: [sure]
        examples: [yes it is]
        signals: {codes: [535, 0x800CCC0E, "5.7.8"], patterns: [auth.*failed]}
        confirm: it works
        hidden: false
        direct: 0.9
        next: check
        set: {tried: true}
      - label: No
        next: human
  check:
    probe: smtp_587
    args: {domain: "{{ domain }}"}
    save_as: port587
    outcomes: {pass: fork, default: human}
  fork:
    branch:
      - if: port587.status == 'pass'
        next: sub
      - else: done
  sub:
    call: other-flow
    next: done
    on_unresolved: human
  human:
    escalate: The port did not answer after the customer tried
  done:
    end: resolved
"""


def every_key() -> Any:
    return read_document(EVERY_KEY, "every-key.yaml").data


def test_the_reference_flow_is_read_fast_and_the_same() -> None:
    data = reference()
    plain = plain_flow(data)
    assert plain is not None  # otherwise `flows check` pays for pydantic on every valid flow
    assert same(plain, FlowSpec.model_validate(data))


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(REPO)) for p in FIXTURES])
def test_each_fixture_is_judged_alike(path: Path) -> None:
    doc = read_document(path.read_text(encoding="utf-8"), str(path))
    agree(doc.data)


def test_every_key_is_read_fast_and_the_same() -> None:
    data = every_key()
    plain = plain_flow(data)
    assert plain is not None
    assert same(plain, FlowSpec.model_validate(data))


def test_any_value_anywhere_is_judged_alike() -> None:
    data = every_key()
    checked = 0
    for path in places(data):
        if not path:
            continue
        for value in ODD_VALUES:
            agree(replaced(data, path, value))
            checked += 1
    assert checked > 2000


def test_any_key_added_or_removed_is_judged_alike() -> None:
    data = every_key()
    for path in places(data):
        node = data
        for part in path:
            node = node[part]
        if not isinstance(node, dict):
            continue
        for key in [*node, "validate_", "if_", "else_", "bogus"]:
            changed = copy.deepcopy(data)
            target = changed
            for part in path:
                target = target[part]
            if key in target:
                del target[key]
            else:
                target[key] = "x"
            agree(changed)
