"""The domain validator's shortcut for plain names answers exactly as IDNA does, valid or not."""

from __future__ import annotations

import idna
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.engine.validators import domain

# Letters, digits, hyphens and dots, with labels up to and past 63 characters and names past 253:
# the shapes the shortcut takes and the edges where it must hand over to IDNA.
LABEL = st.text(alphabet="abcxn019-", min_size=0, max_size=70)
NAME = st.lists(LABEL, min_size=1, max_size=6).map(".".join) | st.lists(
    st.text(alphabet="ab-", min_size=60, max_size=63), min_size=4, max_size=5
).map(".".join)


def through_idna(value: str) -> str:
    """What the validator answered before it had a shortcut: IDNA there and back."""
    try:
        ascii_form = idna.encode(value, uts46=True).decode("ascii")
    except idna.IDNAError:
        return "invalid"
    if "." not in ascii_form:
        return "no dot"
    return idna.decode(ascii_form)


def answer(value: str) -> str:
    try:
        return domain(value)
    except ValueError as exc:
        return (
            "no dot" if "needs a dot" in str(exc) else "invalid" if "valid domain" in str(exc) else str(exc)
        )


@settings(max_examples=1000, derandomize=True)
@given(NAME)
@example("example.com")
@example("xn--bcher-kva.example")
@example("ab--c.example")
@example("-a.example")
@example("a-.example")
@example("a..example")
@example(("a" * 63 + ".") * 3 + "a" * 61)  # 253 characters
@example(("a" * 63 + ".") * 3 + "a" * 62)  # 254 characters
@example("a" * 64 + ".example")
def test_a_plain_name_is_validated_as_idna_validates_it(value: str) -> None:
    cleaned = value.rstrip(".")
    if not cleaned or cleaned.startswith("www."):
        return  # the validator trims these before IDNA sees them
    assert answer(value) == through_idna(cleaned)
