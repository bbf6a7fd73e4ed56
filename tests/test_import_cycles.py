"""No import cycles in `bot/`: at every level of the package tree, siblings import each other one way only.

Every `import` statement counts, wherever it stands: at module level, under `if TYPE_CHECKING:` and
inside a function. A cycle hidden behind a type-only or a deferred import still ties the modules
together (neither can be read, tested or moved without the other), and a deferred import that closes
a cycle is one refactor away from a partially initialised module at start-up.

Imports are compared per level: two modules that import each other are a cycle, and so are two
packages (`bot.engine` and `bot.flows`) when a module in each imports a module in the other. A
package's `__init__` is a sibling of its own modules, so `__init__` re-exporting `live.LiveProbes`
is fine until `live` imports from `__init__`.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Import:
    """One import statement from a module of the package to another module of it."""

    source: str  # the importing module, dotted ("bot.engine.engine"; a package's own name for __init__)
    target: str
    path: Path
    line: int
    kind: str  # "module", "TYPE_CHECKING" or "function"

    def __str__(self) -> str:
        where = "" if self.kind == "module" else f" ({self.kind})"
        return f"{self.path}:{self.line} imports {self.target}{where}"


def modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of `package` (a folder under `root`) by dotted name."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(tree: ast.AST, kind: str = "module") -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """Each import statement under `tree` with where it stands: module level, TYPE_CHECKING or a function."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, kind
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _statements(node, "function")
        elif isinstance(node, ast.If) and _is_type_checking(node.test) and kind == "module":
            for statement in node.body:
                yield from _statements(ast.Module(body=[statement], type_ignores=[]), "TYPE_CHECKING")
            for statement in node.orelse:
                yield from _statements(ast.Module(body=[statement], type_ignores=[]), kind)
        else:
            yield from _statements(node, kind)


def _targets(
    node: ast.Import | ast.ImportFrom, source: str, is_package: bool, known: dict[str, Path]
) -> set[str]:
    """The modules of the package that one statement imports: `from a import b` is module `a.b` if
    there is one, else a name in `a`."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = source.split(".") if is_package else source.split(".")[:-1]
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    targets = set()
    for name in names:
        while name and name not in known:  # `import bot.x.y` names a module; an attribute's owner otherwise
            name = name.rpartition(".")[0]
        if name and name != source:
            targets.add(name)
    return targets


def imports(root: Path, package: str) -> list[Import]:
    """Every import from one module of `package` to another, read from the source (nothing is run)."""
    known = modules(root, package)
    found = []
    for source, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, kind in _statements(tree):
            for target in _targets(node, source, path.name == "__init__.py", known):
                found.append(Import(source, target, path.relative_to(root), node.lineno, kind))
    return found


def _place(name: str, packages: set[str]) -> tuple[str, ...]:
    """Where a module sits in the tree: a package's `__init__` is a child of the package itself."""
    return (*name.split("."), "__init__") if name in packages else tuple(name.split("."))


def sibling_edges(found: list[Import], packages: set[str]) -> dict[tuple[str, str], list[Import]]:
    """Each import lifted to the level where importer and imported part: `bot.engine.engine` importing
    `bot.flows.compile` is the edge `bot.engine -> bot.flows`, between two children of `bot`."""
    edges: dict[tuple[str, str], list[Import]] = {}
    for one in found:
        source, target = _place(one.source, packages), _place(one.target, packages)
        shared = 0
        while shared < min(len(source), len(target)) and source[shared] == target[shared]:
            shared += 1
        if shared == len(source) or shared == len(target):
            continue  # a package importing its own module: its __init__ re-exports (source is the __init__)
        edge = (".".join(source[: shared + 1]), ".".join(target[: shared + 1]))
        edges.setdefault(edge, []).append(one)
    return edges


def cycles(root: Path, package: str) -> list[str]:
    """One line per cycle among siblings, naming the cycle and the import statements that close it."""
    found = imports(root, package)
    packages = {name for name, path in modules(root, package).items() if path.name == "__init__.py"}
    edges = sibling_edges(found, packages)
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
    reports = []
    for component in _strongly_connected(graph):
        loop = _a_cycle(component, graph)
        steps = [f"{a} -> {b}: " + "; ".join(map(str, edges[(a, b)])) for a, b in itertools.pairwise(loop)]
        others = sorted(component - set(loop))
        tangle = [f"(the tangle also holds {', '.join(others)})"] if others else []
        reports.append(" -> ".join(loop) + "\n    " + "\n    ".join([*steps, *tangle]))
    return sorted(reports)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """The groups of siblings that all reach each other (a sibling never imports itself); the graph
    has a few hundred nodes, so reachability from every node is quick enough and easy to check."""
    reach = {node: _reachable(node, graph) for node in graph}
    found: list[set[str]] = []
    for node in sorted(graph):
        if node in reach[node] and not any(node in group for group in found):
            found.append({other for other in reach[node] if node in reach.get(other, set())})
    return found


def _reachable(start: str, graph: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def _a_cycle(component: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest closed path through the component's first node, found breadth first."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph.get(node, set()) & component):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def test_bot_has_no_import_cycles() -> None:
    found = cycles(REPO, "bot")
    assert not found, "import cycles in bot/ (each line is one import statement):\n" + "\n".join(found)


def test_the_graph_reads_the_imports_it_should() -> None:
    """A check on the check: the reader sees `bot`'s real imports, so an empty cycle list means something."""
    found = {(one.source, one.target) for one in imports(REPO, "bot")}
    assert ("bot.cli.flows", "bot.flows.check") in found  # inside a command function
    assert ("bot.__main__", "bot.cli") in found


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "cycle", "statements"),
    [
        pytest.param(
            {"a.py": "from pkg import b\n", "b.py": "import pkg.a\n"},
            "pkg.a -> pkg.b -> pkg.a",
            ["pkg/a.py:1 imports pkg.b", "pkg/b.py:1 imports pkg.a"],
            id="module-level",
        ),
        pytest.param(
            {
                "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n",
                "b.py": "from .a import A\n",
            },
            "pkg.a -> pkg.b -> pkg.a",
            ["pkg/a.py:3 imports pkg.b (TYPE_CHECKING)", "pkg/b.py:1 imports pkg.a"],
            id="type-checking",
        ),
        pytest.param(
            {"a.py": "import pkg.b\n", "b.py": "def later():\n    from pkg import a\n"},
            "pkg.a -> pkg.b -> pkg.a",
            ["pkg/b.py:2 imports pkg.a (function)"],
            id="in-a-function",
        ),
        pytest.param(
            {
                "one/__init__.py": "",
                "one/x.py": "from pkg.two.y import Y\n",
                "two/__init__.py": "",
                "two/y.py": "",
                "two/z.py": "from ..one import x\n",
            },
            "pkg.one -> pkg.two -> pkg.one",
            ["pkg/one/x.py:1 imports pkg.two.y", "pkg/two/z.py:1 imports pkg.one.x"],
            id="between-packages",
        ),
        pytest.param(
            {
                "live.py": "from pkg import helper\n",
                "__init__.py": "from pkg.live import run\ndef helper(): ...\n",
            },
            "pkg.__init__ -> pkg.live -> pkg.__init__",
            ["pkg/__init__.py:1 imports pkg.live", "pkg/live.py:1 imports pkg"],
            id="through-init",
        ),
    ],
)
def test_a_cycle_fails_and_is_named(
    tmp_path: Path, files: dict[str, str], cycle: str, statements: list[str]
) -> None:
    write(tmp_path / "pkg", {"__init__.py": "", **files})
    [found] = cycles(tmp_path, "pkg")
    assert found.splitlines()[0] == cycle
    for statement in statements:
        assert statement in found


def test_one_way_imports_are_no_cycle(tmp_path: Path) -> None:
    write(
        tmp_path / "pkg",
        {
            "__init__.py": "from pkg.live import run\n",  # re-exporting its own module
            "live.py": "from pkg.core import model\n",
            "core/__init__.py": "",
            "core/model.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.core import rules\n",
            "core/rules.py": "import json\n",  # outside the package: not part of the graph
        },
    )
    assert cycles(tmp_path, "pkg") == []
