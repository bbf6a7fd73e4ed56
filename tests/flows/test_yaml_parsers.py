"""libyaml and the pure-Python parser read a flow file the same: values, positions and error messages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.errors import FlowError
from bot.flows import yamlsafe

REPO = Path(__file__).resolve().parents[2]
TRICKY = {
    "tabs-and-unicode": "id: café\ntitle: 'Ünïcødé – “quotes”'\nsteps:\n  a:\n    say: \"tab\\there\"\n",  # noqa: RUF001
    "crlf": "id: x\r\nsteps:\r\n  a:\r\n    say: >\r\n      folded\r\n      text\r\n",
    "bom": "\ufeffid: x\nversion: 1\n",
    "nel-and-separators": "id: x\u0085title: a\u2028b\nsay: c\u2029d\n",
    "block-scalars": "a: |\n  one\n  two\nb: >-\n  three\n\n  four\nc: |+\n  keep\n\n",
    "flow-collections": "a: {b: [1, 2.5, 'c'], d: {e: null}}\nf: [ , ]\n",
    "anchors": "a: &x {b: 1}\nc: *x\nd: [*x, *x]\n",
    "booleans-as-words": "a: no\nb: on\nc: yes\nd: true\ne: 0x1F\nf: 1e3\ng: 010\nh: ~\n",
    "comments": "# top\na: 1 # trailing\n# between\nb:\n  - 2 # item\n",
    "empty": "",
    "only-a-comment": "# nothing\n",
    "scalar-root": "just text\n",
    "bad-indentation": "a:\n  b: 1\n c: 2\n",
    "unclosed-flow": "a: [1, 2\nb: 3\n",
    "two-documents": "a: 1\n---\nb: 2\n",
    "tab-indent": "a:\n\tb: 1\n",
    "control-character": "a: \x07\n",
    "lone-surrogate": "a: \udc80\n",
    "duplicate-key": "a: 1\na: 2\n",
    "merge-key": "a: &x {b: 1}\nc:\n  <<: *x\n",
    "tag": "a: !!python/object:os.system ls\n",
    "undefined-alias": "a: *nope\n",
    "colon-in-plain": "a: b: c\n",
    "deep": "a: " + "[" * 50 + "]" * 50 + "\n",
}


def corpus() -> Iterator[tuple[str, str]]:
    for path in sorted(REPO.glob("flows/**/*.yaml")) + sorted(REPO.glob("tests/**/*.yaml")):
        yield str(path.relative_to(REPO)), path.read_text(encoding="utf-8")
    yield from TRICKY.items()


def read(text: str, file: str) -> object:
    try:
        doc = yamlsafe.read_document(text, file)
    except FlowError as exc:
        return exc.problems
    return doc.data, doc.positions, doc.key_positions


@pytest.mark.parametrize(("file", "text"), list(corpus()), ids=[name for name, _ in corpus()])
def test_libyaml_reads_as_pure_python_does(file: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = read(text, file)
    monkeypatch.setattr(yamlsafe, "_FastLoader", None)
    assert fast == read(text, file)


def test_libyaml_is_used() -> None:
    """The equivalence above would hold trivially if the fast loader were missing."""
    assert yamlsafe._FastLoader is not None
