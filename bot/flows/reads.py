"""What a flow's template or condition reads, for the checks: plain forms without Jinja2, the rest with it."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import nodes

# Flows mostly write `{{ slot }}`, `{{ result.field }}` and conditions such as `a.status == 'pass' and
# b`. A small parser reads exactly those; anything else (filters, tests, calls, `{% %}`, a syntax error)
# goes to Jinja2's own parser, imported only then, so every syntax error keeps Jinja2's wording.


class TemplateProblem(ValueError):
    """A template or condition that does not parse; the message says where and why."""


@dataclass(frozen=True)
class Comparison:
    """One comparison: the names whose `.status` it compares, and the string literals it compares with."""

    status_of: frozenset[str]
    literals: tuple[str, ...]


@dataclass(frozen=True)
class Reads:
    undeclared: frozenset[str]  # names read from the context (slots and variables)
    names: frozenset[str]  # every name written
    attributes: tuple[tuple[str, str], ...]  # `name.attr`, once per occurrence
    comparisons: tuple[Comparison, ...]


NOTHING = Reads(frozenset(), frozenset(), (), ())


@functools.lru_cache(maxsize=4096)
def text_reads(source: str) -> Reads:
    """What a templated text reads; TemplateProblem for a syntax error."""
    if "{" not in source:
        return NOTHING
    fast = _plain_text(source)
    if fast is not None:
        return _summary(fast)
    from jinja2 import TemplateSyntaxError

    try:
        return _jinja_summary(_jinja_parse(source))
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"template error: {exc.message}") from None


@functools.lru_cache(maxsize=4096)
def condition_reads(source: str) -> Reads:
    """What a branch condition reads; TemplateProblem for a syntax error."""
    fast = _plain_condition(source)
    if fast is not None:
        return _summary([fast])
    from jinja2 import TemplateSyntaxError

    try:
        return _jinja_summary(_jinja_parse("{{ (" + source + ") }}"))
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"condition error: {exc.message}") from None


# --- the plain forms ------------------------------------------------------------------------------
# A tree of tuples: ("name", n), ("attr", node, a), ("const", value), ("seq", items),
# ("compare", operands), ("and" | "or", left, right), ("not", node).

Node = tuple[Any, ...]
_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>\d+(?:\.\d+)?(?![\w.]))"
    r"|(?P<string>'[^'\\{}]*'|\"[^\"\\{}]*\")|(?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|\.|\}\}))"
)
_CONSTANTS = {"true": True, "false": False, "True": True, "False": False, "none": None, "None": None}
# Words Jinja2's expression parser treats specially: left to it.
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "if", "else", "elif", "for", "recursive"})
_COMPARE = frozenset({"==", "!=", "<", ">", "<=", ">="})


class _NotPlain(Exception):
    pass


class _Parser:
    def __init__(self, source: str, pos: int) -> None:
        self.source = source
        self.tokens: list[tuple[str, str, int]] = []  # kind, text, end
        while True:
            match = _TOKEN.match(source, pos)
            if match is None or match.lastgroup is None:
                break
            kind = match.lastgroup
            self.tokens.append((kind, match.group(kind), match.end()))
            pos = match.end()
            if kind == "op" and match.group(kind) == "}}":
                break
        self.rest = pos  # where tokenizing stopped
        self.at = 0

    def peek(self, ahead: int = 0) -> tuple[str, str]:
        i = self.at + ahead
        return self.tokens[i][:2] if i < len(self.tokens) else ("end", "")

    def take(self, kind: str, text: str | None = None) -> str:
        got_kind, got = self.peek()
        if got_kind != kind or (text is not None and got != text):
            raise _NotPlain
        self.at += 1
        return got

    def accept(self, kind: str, text: str) -> bool:
        if self.peek() == (kind, text):
            self.at += 1
            return True
        return False

    def expression(self) -> Node:
        node = self.conjunction()
        while self.accept("name", "or"):
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.accept("name", "and"):
            node = ("and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.accept("name", "not"):
            return ("not", self.negation())
        return self.comparison()

    def comparison(self) -> Node:
        operands = [self.primary()]
        while True:
            kind, text = self.peek()
            if (kind == "op" and text in _COMPARE) or (kind, text) == ("name", "in"):
                self.at += 1
            elif (kind, text) == ("name", "not") and self.peek(1) == ("name", "in"):
                self.at += 2
            else:
                break
            operands.append(self.primary())
        return operands[0] if len(operands) == 1 else ("compare", tuple(operands))

    def primary(self) -> Node:
        kind, text = self.peek()
        if kind == "string":
            self.at += 1
            return ("const", text[1:-1])
        if kind == "number":
            self.at += 1
            return ("const", float(text) if "." in text else int(text))
        if kind == "name" and text in _CONSTANTS:
            self.at += 1
            return ("const", _CONSTANTS[text])
        if kind == "name" and text not in _KEYWORDS:
            self.at += 1
            node: Node = ("name", text)
            while self.accept("op", "."):
                attr = self.take("name")
                if attr in _KEYWORDS or attr in _CONSTANTS:
                    raise _NotPlain
                node = ("attr", node, attr)
            return node
        if self.accept("op", "("):
            items, comma = self.items(")")
            # `(a)` is `a`; `(a,)` and `()` are tuples, as in Python
            return items[0] if len(items) == 1 and not comma else ("seq", tuple(items))
        if self.accept("op", "["):
            return ("seq", tuple(self.items("]")[0]))
        raise _NotPlain

    def items(self, close: str) -> tuple[list[Node], bool]:
        """Comma-separated expressions up to `close`, and whether a comma came last."""
        items: list[Node] = []
        comma = False
        while not self.accept("op", close):
            if items and not comma:
                raise _NotPlain
            items.append(self.expression())
            comma = self.accept("op", ",")
        return items, comma


def _plain_text(source: str) -> list[Node] | None:
    if "{%" in source or "{#" in source:
        return None
    found: list[Node] = []
    start = source.find("{{")
    while start >= 0:
        if source.startswith(("-", "+"), start + 2):
            return None
        parser = _Parser(source, start + 2)
        try:
            found.append(parser.expression())
            parser.take("op", "}}")
        except _NotPlain:
            return None
        if parser.at != len(parser.tokens):
            return None
        start = source.find("{{", parser.rest)
    return found


def _plain_condition(source: str) -> Node | None:
    parser = _Parser(source, 0)
    try:
        node = parser.expression()
    except _NotPlain:
        return None
    if parser.at != len(parser.tokens) or source[parser.rest :].strip():
        return None
    return node


def _walk(node: Node) -> Iterator[Node]:
    yield node
    kind = node[0]
    if kind == "attr":
        yield from _walk(node[1])
    elif kind == "seq" or kind == "compare":
        for child in node[1]:
            yield from _walk(child)
    elif kind in ("and", "or"):
        yield from _walk(node[1])
        yield from _walk(node[2])
    elif kind == "not":
        yield from _walk(node[1])


def _summary(trees: list[Node]) -> Reads:
    every = [node for tree in trees for node in _walk(tree)]
    names = frozenset(node[1] for node in every if node[0] == "name")
    return Reads(
        undeclared=names,
        names=names,
        attributes=tuple((n[1][1], n[2]) for n in every if n[0] == "attr" and n[1][0] == "name"),
        comparisons=tuple(_comparison(n[1]) for n in every if n[0] == "compare"),
    )


def _comparison(operands: tuple[Node, ...]) -> Comparison:
    status_of = frozenset(
        o[1][1] for o in operands if o[0] == "attr" and o[2] == "status" and o[1][0] == "name"
    )
    literals: list[str] = []
    for operand in operands:
        items = operand[1] if operand[0] == "seq" else (operand,)
        literals += [i[1] for i in items if i[0] == "const" and isinstance(i[1], str)]
    return Comparison(status_of, tuple(literals))


# --- anything else, through Jinja2 ------------------------------------------------------------------


def _jinja_parse(source: str) -> nodes.Template:
    from bot.flows.sandbox import ENV

    return ENV.parse(source)


def _jinja_summary(tree: nodes.Template) -> Reads:
    from jinja2 import meta, nodes

    comparisons: list[Comparison] = []
    for compare in tree.find_all(nodes.Compare):
        operands = [compare.expr, *(op.expr for op in compare.ops)]
        status_of = frozenset(
            o.node.name
            for o in operands
            if isinstance(o, nodes.Getattr) and o.attr == "status" and isinstance(o.node, nodes.Name)
        )
        literals: list[str] = []
        for operand in operands:
            items = operand.items if isinstance(operand, nodes.List | nodes.Tuple) else [operand]
            literals += [i.value for i in items if isinstance(i, nodes.Const) and isinstance(i.value, str)]
        comparisons.append(Comparison(status_of, tuple(literals)))
    return Reads(
        undeclared=frozenset(meta.find_undeclared_variables(tree)),
        names=frozenset(n.name for n in tree.find_all(nodes.Name)),
        attributes=tuple(
            (g.node.name, g.attr) for g in tree.find_all(nodes.Getattr) if isinstance(g.node, nodes.Name)
        ),
        comparisons=tuple(comparisons),
    )
