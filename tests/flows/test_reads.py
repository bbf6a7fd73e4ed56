"""What a template or condition reads is the same whether the plain-form parser or Jinja2 reads it."""

from __future__ import annotations

import pytest
from jinja2 import TemplateSyntaxError

from bot.flows.lint import _texts
from bot.flows.loader import parse_flow
from bot.flows.reads import (
    TemplateProblem,
    _jinja_parse,
    _jinja_summary,
    _plain_condition,
    _plain_text,
    _summary,
    condition_reads,
    text_reads,
)
from tests.support.flows import reference_text

TEXTS = [
    "no braces at all",
    "{ a single brace } and }} a closing pair",
    "{{ domain }}",
    "Port {{ port }} on {{ host.name }} said {{ result.details.banner }}.",
    "{{domain}}{{ other }}",
    "{{ quoted_ip or ip }}",
    '{{ quoted_list or "a blocklist" }}',
    "{{ a and not b }}",
    "{{ a == 'x' }} {{ b.status != \"pass\" }}",
    "{{ (a) }} {{ (a, b) }} {{ () }} {{ (a,) }} {{ [a, 'x', 1, 2.5] }} {{ [] }} {{ [a,] }}",
    "{{ none }} {{ true }} {{ False }} {{ None }}",
    "{{\n  multi\n  .line\n}}",
    "{{ a }}}",
]
CONDITIONS = [
    "domain",
    "port587.details.use_instead",
    "message_mb > max_message_mb",
    "submission.details.size_limit_mb and message_mb > submission.details.size_limit_mb",
    "domain and (quoted_ip or ip)",
    "port25.status == 'pass'",
    "port25.status in ['pass', 'warn']",
    "port25.status not in ('fail', 'unknown')",
    "'fail' == port25.status",
    "not port25.status == 'fial'",
    "a < b <= c",
    "a.status == b.status",
    "(a, b)",
    "x != none",
    "  spaced  .  out  ",
]
# Not plain forms: Jinja2 reads these (or refuses them, in its own words).
NOT_PLAIN_TEXTS = [
    "{{ a|upper }}",
    "{{ a is defined }}",
    "{% if a %}x{% endif %}",
    "{# note #}{{ a }}",
    "{{ a['b'] }}",
    "{{ f() }}",
    "{{ a if b else c }}",
    "{{ -a }}",
    "{{- a -}}",
    "{{ a ~ b }}",
    "{{ 'it\\'s' }}",
    "{{ a.0 }}",
    "{{ a, b }}",
    "{{ a. }}",
    "{{ }}",
    "{{ a",
    "{{ a b }}",
    "{{ é }}",
    "{{ 'a' 'b' }}",
    "{{ {'a': 1} }}",
]
NOT_PLAIN_CONDITIONS = ["a) or (b", "a | length > 2", "a is none", "a.status ==", "", "a }} {{ b", "x = 1"]


def jinja_text(source: str) -> object:
    return _jinja_summary(_jinja_parse(source))


def jinja_condition(source: str) -> object:
    return _jinja_summary(_jinja_parse("{{ (" + source + ") }}"))


def reference_sources() -> tuple[list[str], list[str]]:
    flow, _ = parse_flow(reference_text(), "cant-send-email.yaml")
    texts: list[str] = []
    conditions: list[str] = []
    for _, source, condition in _texts(flow):
        (conditions if condition else texts).append(source)
    return texts, conditions


@pytest.mark.parametrize("source", TEXTS)
def test_a_plain_text_reads_as_jinja2_reads_it(source: str) -> None:
    plain = _plain_text(source)
    assert plain is not None
    assert _summary(plain) == jinja_text(source)


@pytest.mark.parametrize("source", CONDITIONS)
def test_a_plain_condition_reads_as_jinja2_reads_it(source: str) -> None:
    plain = _plain_condition(source)
    assert plain is not None
    assert _summary([plain]) == jinja_condition(source)


def test_the_reference_flow_is_read_without_jinja2_and_alike() -> None:
    texts, conditions = reference_sources()
    assert texts and conditions
    for source in texts:
        plain_text = _plain_text(source)
        assert plain_text is not None, source
        assert _summary(plain_text) == jinja_text(source)
    for source in conditions:
        plain_condition = _plain_condition(source)
        assert plain_condition is not None, source
        assert _summary([plain_condition]) == jinja_condition(source)


def test_comparisons_name_the_status_and_its_literals() -> None:
    reads = condition_reads("port25.status in ['pass', 'wran'] and x.status == 'fail'")
    assert {(c.status_of, c.literals) for c in reads.comparisons} == {
        (frozenset({"port25"}), ("pass", "wran")),
        (frozenset({"x"}), ("fail",)),
    }
    assert reads.attributes == (("port25", "status"), ("x", "status"))
    assert reads.undeclared == reads.names == {"port25", "x"}


CASES = [(source, False) for source in NOT_PLAIN_TEXTS] + [(source, True) for source in NOT_PLAIN_CONDITIONS]


@pytest.mark.parametrize(("source", "condition"), CASES)
def test_anything_else_is_left_to_jinja2_and_its_wording(source: str, condition: bool) -> None:
    plain = _plain_condition(source) if condition else _plain_text(source)
    assert plain is None
    reads, jinja, kind = (
        (condition_reads, jinja_condition, "condition") if condition else (text_reads, jinja_text, "template")
    )
    try:
        expected = jinja(source)
    except TemplateSyntaxError as exc:
        with pytest.raises(TemplateProblem) as raised:
            reads(source)
        assert str(raised.value) == f"{kind} error: {exc.message}"
    else:
        assert reads(source) == expected
