"""Hostile flow files: any text loads as a valid flow or fails with a located FlowError, and quickly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.compile import CompiledFlow, load_flow
from bot.errors import FlowError, Location

REFERENCE = (Path(__file__).resolve().parents[2] / "flows" / "cant-send-email.yaml").read_text()
LINES = REFERENCE.splitlines(keepends=True)
FILE = "hostile.yaml"
# A generous bound for one load on a busy CI machine; the reference flow loads in ~40 ms once what
# a load may import is imported (the `warm` fixture).
DEADLINE_MS = 2000
FAST = settings(
    max_examples=60, deadline=DEADLINE_MS, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@pytest.fixture(autouse=True, scope="module")
def warm() -> None:
    """Import what a load may need (the classifier's scikit-learn, pydantic and Jinja2 for broken
    flows: seconds on a busy machine) before any example runs against the deadline."""
    import bot.flows.modelread
    import bot.flows.sandbox  # noqa: F401

    load_flow(REFERENCE, FILE)
    check(REFERENCE.replace("steps:", "stepz:", 1))


def check(text: str) -> None:
    """The property: a CompiledFlow, or a FlowError whose every problem names this file and a place in it."""
    try:
        flow = load_flow(text, FILE)
    except FlowError as exc:
        assert exc.problems, "a FlowError must list at least one problem"
        lines = text.count("\n") + 2  # a problem may point just past the last line (unexpected end)
        for location, message in exc.problems:
            assert isinstance(location, Location)
            assert location.file == FILE
            assert 1 <= location.line <= lines, (location, message)
            assert location.column >= 1
            assert message.strip()
    else:
        assert isinstance(flow, CompiledFlow)
        assert flow.start in flow.steps


@FAST
@given(st.text(max_size=400))
def test_any_text(text: str) -> None:
    check(text)


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_decoded_leniently(raw: bytes) -> None:
    check(raw.decode("utf-8", errors="replace"))


# Edits of the real flow reach deep into validation (unknown targets, wrong types, broken templates).
edit = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, len(LINES) - 1), st.just("")),
    st.tuples(st.just("duplicate"), st.integers(0, len(LINES) - 1), st.just("")),
    st.tuples(st.just("insert"), st.integers(0, len(LINES) - 1), st.text(max_size=30)),
    st.tuples(
        st.just("replace"),
        st.integers(0, len(LINES) - 1),
        st.sampled_from(
            ["{{", "}}", "next: nowhere", "- ", ": ", "&a", "*a", "!!python/object", "\t", "'", "[", "{"]
        ),
    ),
)


@settings(FAST, max_examples=80)
@given(st.lists(edit, min_size=1, max_size=4))
def test_edited_reference_flow(edits: list[tuple[str, int, str]]) -> None:
    lines = list(LINES)
    for kind, at, extra in edits:
        at %= len(lines)
        if kind == "delete" and len(lines) > 1:
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, lines[at])
        elif kind == "insert":
            lines.insert(at, extra + "\n")
        elif kind == "replace":
            middle = len(lines[at]) // 2
            lines[at] = lines[at][:middle] + extra + lines[at][middle:]
    check("".join(lines))


# Well-formed YAML of any shape: mappings, lists and scalars where the schema expects others.
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(
                st.sampled_from(
                    ["id", "title", "version", "start", "steps", "say", "ask", "next", "choices"]
                ),
                st.text(max_size=8),
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=25,
)


@FAST
@given(documents)
def test_any_yaml_document(document: object) -> None:
    check(yaml.safe_dump(document, allow_unicode=True))


@FAST
@given(
    st.dictionaries(
        st.sampled_from(["say", "ask", "next", "choices", "slot", "probe", "end"]), documents, max_size=4
    )
)
def test_reference_flow_with_a_hostile_step(step: dict[str, object]) -> None:
    flow = yaml.safe_load(REFERENCE)
    flow["steps"]["welcome"] = step
    check(yaml.safe_dump(flow, allow_unicode=True, sort_keys=False))
