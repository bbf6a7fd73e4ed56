"""Templated text and conditions through Jinja2's sandbox: flows are data, never code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, nodes

from bot.flows.reads import TemplateProblem
from bot.flows.sandbox import ENV as _ENV

__all__ = ["Predicate", "Renderer", "TemplateProblem", "compile_condition", "compile_text"]

Renderer = Callable[[Mapping[str, Any]], str]
Predicate = Callable[[Mapping[str, Any]], bool]


def compile_text(source: str) -> Renderer:
    """Compile `source` once; plain text (the common case) costs nothing to render."""
    if "{" not in source:
        return lambda _context: source
    try:
        template = _ENV.from_string(source)
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"template error: {exc.message}") from None
    fast = _simple_parts(tree)
    if fast is None:
        return lambda context: template.render(context)
    return _fast_renderer(fast, lambda context: template.render(context))


# Most flow text is plain words with `{{ slot }}` or `{{ result.field }}`. Jinja costs ~6 us per
# render even then, a large share of a turn, so those templates are joined directly; anything
# else (filters, `or`, tests, loops) goes through the sandbox.
_Part = str | tuple[str, ...]


def _simple_parts(tree: nodes.Template) -> list[_Part] | None:
    parts: list[_Part] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(child.data)
                continue
            chain: list[str] = []
            while isinstance(child, nodes.Getattr):
                chain.append(child.attr)
                child = child.node
            if not isinstance(child, nodes.Name) or any(a.startswith("_") for a in chain):
                return None
            parts.append((child.name, *reversed(chain)))
    return parts


def _fast_renderer(parts: list[_Part], slow: Renderer) -> Renderer:
    def render(context: Mapping[str, Any]) -> str:
        out: list[str] = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value: Any = context.get(part[0])
            for attr in part[1:]:
                if value is None:
                    break
                if not isinstance(value, dict):
                    return slow(context)  # an object, not plain data: let the sandbox decide
                value = value.get(attr)
            out.append("" if value is None and part[0] not in context else _text(value))
        return "".join(out)

    return render


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def compile_condition(source: str) -> Predicate:
    """Compile a condition such as `port25.status == 'fail' and size_mb > 50`."""
    try:
        expression = _ENV.compile_expression(source, undefined_to_none=True)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"condition error: {exc.message}") from None

    def predicate(context: Mapping[str, Any]) -> bool:
        try:
            return bool(expression(**context))
        except Exception:  # a comparison with a missing slot (None > 50) is simply false
            return False

    return predicate
