"""Small flows written into a temporary folder, and engines over them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.engine.engine import Engine
from bot.engine.probing import OfflineProbes, ProbePort
from bot.engine.registry import FlowRegistry
from tests.support.engine import REFERENCE_FLOWS, MakeEngine


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    return folder


@pytest.fixture
def write_flow(flows_dir: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = flows_dir / f"{name}.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_engine(flows_dir: Path) -> MakeEngine:
    """An engine over every flow in `flows_dir`; refuses to build when a flow was refused."""

    def make(probes: ProbePort | None = None) -> Engine:
        registry = FlowRegistry.load_dir(flows_dir)
        assert not registry.refused, registry.refused
        return Engine(registry, probes or OfflineProbes())

    return make


@pytest.fixture
def reference_engine() -> Engine:
    return Engine(FlowRegistry.load_dir(REFERENCE_FLOWS), OfflineProbes())
