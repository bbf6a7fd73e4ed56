"""Names the engine tests share (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.engine.engine import Engine

REPO = Path(__file__).resolve().parents[2]
REFERENCE_FLOWS = REPO / "flows"

MakeEngine = Callable[..., Engine]
WriteFlow = Callable[[str, str], Path]
