"""The JSON Schema for editors: generated from the models, committed in sync, agreeing with the loader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.errors import FlowError
from bot.flows.loader import parse_flow
from bot.flows.schema import SCHEMA_FILE, flow_schema, schema_text
from bot.flows.yamlsafe import read_document
from tests.support.flows import REPO

COMMITTED = REPO / "flows" / SCHEMA_FILE
FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = sorted((FIXTURES / "schema").glob("*.yaml"))
FLOWS = sorted((REPO / "flows").glob("*.yaml")) + sorted((FIXTURES / "lint").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _data(path: Path) -> Any:
    return read_document(path.read_text(encoding="utf-8"), str(path)).data


def test_committed_schema_is_the_generated_one() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "flows/flow.schema.json is stale: run `supportbot flows schema -o flows/flow.schema.json`"
    )


def test_flows_schema_command_prints_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "schema"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == flow_schema()


def test_every_flow_starts_with_the_editor_schema_line() -> None:
    for path in sorted((REPO / "flows").glob("*.yaml")):
        assert path.read_text(encoding="utf-8").startswith(f"# yaml-language-server: $schema={SCHEMA_FILE}\n")


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.name)
def test_schema_accepts_every_valid_flow(path: Path, validator: jsonschema.Draft202012Validator) -> None:
    parse_flow(path.read_text(encoding="utf-8"), str(path))  # the loader accepts it too
    assert [e.message for e in validator.iter_errors(_data(path))] == []


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_schema_rejects_what_the_loader_rejects(
    path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    with pytest.raises(FlowError):
        parse_flow(path.read_text(encoding="utf-8"), str(path))
    assert list(validator.iter_errors(_data(path))) != []


def test_schema_points_editors_at_the_offending_key(validator: jsonschema.Draft202012Validator) -> None:
    [error] = validator.iter_errors(_data(FIXTURES / "schema" / "unknown_key.yaml"))
    assert list(error.absolute_path) == ["steps", "first"]
    assert "'hnit' was unexpected" in error.message


def test_schema_describes_keys_for_completion() -> None:
    step = flow_schema()["$defs"]["StepSpec"]["properties"]
    assert step["max_visits"]["description"] == "Loop cap for this step"
    assert step["validate"]["anyOf"][0]["enum"] == ["domain", "email", "ip", "number", "yes_no", "text"]
