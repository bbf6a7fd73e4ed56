"""The test tree keeps its own rules: helpers come from tests.support, nothing skips on a failed import."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
FILES = sorted(p for p in TESTS.rglob("*.py") if "fixtures" not in p.parts)


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(TESTS.parent)}:{getattr(node, 'lineno', 0)}"


def test_helpers_are_imported_from_tests_support_or_tests_fakes_only() -> None:
    wrong = []
    for path in FILES:
        for name in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            last = name.rsplit(".", 1)[-1]
            if (
                last == "conftest"
                or last.startswith("test_")
                or last.endswith("_support")
                or (name.startswith("tests.") and not name.startswith(("tests.support", "tests.fakes")))
            ):
                wrong.append(f"{path.relative_to(TESTS.parent)} imports {name}")
    assert not wrong, "move shared helpers into tests/support/ and import them from there:\n" + "\n".join(
        wrong
    )


def test_no_test_skips_because_an_import_failed() -> None:
    found = []
    for path in FILES:
        if path == Path(__file__).resolve():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "importorskip":
                found.append(f"{_where(path, node)}: importorskip")
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                caught = ast.unparse(node.type)
                if "ImportError" in caught or "ModuleNotFoundError" in caught:
                    found.append(f"{_where(path, node)}: except {caught}")
    assert not found, "a broken import must fail the test, not skip it:\n" + "\n".join(found)
