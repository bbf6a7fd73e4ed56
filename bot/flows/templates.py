"""Templated text and conditions through Jinja2's sandbox: flows are data, never code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Immutable: a template may read slots but never change them (no list.append in a condition).
# ChainableUndefined: `port25.details.size` on a missing slot renders empty instead of raising.
_ENV = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)

Renderer = Callable[[Mapping[str, Any]], str]
Predicate = Callable[[Mapping[str, Any]], bool]


class TemplateProblem(ValueError):
    """A template or condition that does not parse; the message says where and why."""


def compile_text(source: str) -> Renderer:
    """Compile `source` once; plain text (the common case) costs nothing to render."""
    if "{" not in source:
        return lambda _context: source
    try:
        template = _ENV.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"template error: {exc.message}") from None
    return lambda context: template.render(context)


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


def names_in_text(source: str) -> set[str]:
    """Top-level names a template reads (slots or variables)."""
    if "{" not in source:
        return set()
    try:
        return set(meta.find_undeclared_variables(_ENV.parse(source)))
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"template error: {exc.message}") from None


def names_in_condition(source: str) -> set[str]:
    """Top-level names a condition reads."""
    try:
        tree = _ENV.parse("{{ (" + source + ") }}")
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"condition error: {exc.message}") from None
    return set(meta.find_undeclared_variables(tree))
