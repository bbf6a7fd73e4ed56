"""Safe YAML reading that keeps every value's line and column, refuses tags, duplicates and alias bombs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.errors import FlowError, Location

MAX_BYTES = 256 * 1024  # a flow is a few hundred lines; anything near this is a mistake or an attack
MAX_NODES = 50_000  # counted while expanding aliases, so a "billion laughs" document stops early
MAX_DEPTH = 40

Path = tuple[str | int, ...]

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. Support leads write `no` and `on` as words, not booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


# The same rules over libyaml, which parses a flow file about 15 times faster than pure Python.
# PyYAML's wheels include libyaml; a build without it reads everything in pure Python.
_LIBYAML: Any = getattr(yaml, "CSafeLoader", None)
_FastLoader: Any = (
    type("_FastLoader", (_LIBYAML,), {"yaml_implicit_resolvers": _Loader.yaml_implicit_resolvers})
    if _LIBYAML is not None
    else None
)


def _compose(text: str) -> yaml.Node | None:
    """The node tree of `text`: libyaml's when it reads the text, else the pure-Python parser's, whose
    error messages (and its reading of anything libyaml refuses) are the ones support leads see."""
    if _FastLoader is not None:
        try:
            return yaml.compose(text, Loader=_FastLoader)
        except (yaml.YAMLError, ValueError):  # ValueError: libyaml's UnicodeEncodeError for a lone surrogate
            pass
    return yaml.compose(text, Loader=_Loader)


@dataclass
class Document:
    """Plain data from a YAML file and where each value (and each mapping key) sits in it."""

    file: str
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path, *, key: bool = False) -> Location:
        """The location of `path`, or of its nearest ancestor that has one."""
        table = self.key_positions if key else self.positions
        probe = tuple(path)
        while probe:
            if probe in table:
                line, col = table[probe]
                return Location(self.file, line, col)
            if not key and probe in self.key_positions:
                line, col = self.key_positions[probe]
                return Location(self.file, line, col)
            probe = probe[:-1]
        line, col = self.positions.get((), (1, 1))
        return Location(self.file, line, col)


def read_document(text: str, file: str) -> Document:
    """Parse `text` into a Document; raise FlowError with file:line:col for anything unsafe or invalid."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise FlowError.at(
            Location(file), f"the file is larger than {MAX_BYTES // 1024} KB; split it into subflows"
        )
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        opened = exc.context_mark
        if opened is not None and mark is not None and opened.line != mark.line:
            # An unclosed [ or { is noticed lines later; name where it was opened, which is the fix.
            problem += f" (check the {exc.context or 'structure'} that starts at line {opened.line + 1})"
        raise FlowError.at(Location(file, line, col), f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise FlowError.at(Location(file), f"YAML error: {exc}") from None
    doc = Document(file=file, data=None)
    if root is None:
        raise FlowError.at(
            Location(file), "the file is empty; a flow needs id, title, version, start and steps"
        )
    builder = _Builder(doc)
    doc.data = builder.build(root, (), 0)
    return doc


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.nodes = 0
        self.scalar = _Loader("")  # only its scalar constructors are used

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.nodes += 1
        where = Location(self.doc.file, node.start_mark.line + 1, node.start_mark.column + 1)
        if self.nodes > MAX_NODES:
            raise FlowError.at(where, "the document expands to too many values (an alias bomb?)")
        if depth > MAX_DEPTH:
            raise FlowError.at(where, f"the document is nested deeper than {MAX_DEPTH} levels")
        if node.tag not in _PLAIN_TAGS:
            raise FlowError.at(
                where, f"the tag {node.tag!r} is not allowed; flows hold only plain text, numbers and lists"
            )
        self.doc.positions.setdefault(path, (where.line, where.column))
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key_where = Location(
                    self.doc.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1
                )
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    raise FlowError.at(key_where, "keys must be plain words (no << merges or complex keys)")
                key = str(self.scalar.construct_object(key_node))
                if key in out:
                    raise FlowError.at(
                        key_where, f"{key!r} appears twice here; each key (and step id) must be unique"
                    )
                self.doc.key_positions[(*path, key)] = (key_where.line, key_where.column)
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self.scalar.construct_object(node)
