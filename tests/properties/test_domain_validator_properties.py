"""The domain validator's shortcuts (plain names, the IP check) answer exactly as IPv4 parsing and IDNA do."""

from __future__ import annotations

import ipaddress

import idna
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.engine.validators import domain

# Letters, digits, hyphens and dots, with labels up to and past 63 characters and names past 253:
# the shapes the shortcut takes and the edges where it must hand over to IDNA.
LABEL = st.text(alphabet="abcxn019-", min_size=0, max_size=70) | st.integers(0, 300).map(str)
NAME = st.lists(LABEL, min_size=1, max_size=6).map(".".join) | st.lists(
    st.text(alphabet="ab-", min_size=60, max_size=63), min_size=4, max_size=5
).map(".".join)


def through_idna(value: str) -> str:
    """What the validator answered before it had shortcuts: any IP address refused, then IDNA there and back."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        return "an IP address"
    try:
        ascii_form = idna.encode(value, uts46=True).decode("ascii")
    except idna.IDNAError:
        return "invalid"
    if "." not in ascii_form:
        return "no dot"
    return idna.decode(ascii_form)


# The validator's refusals, by the words that tell them apart.
ANSWERS = {"needs a dot": "no dot", "valid domain": "invalid", "IP address": "an IP address"}


def answer(value: str) -> str:
    try:
        return domain(value)
    except ValueError as exc:
        said = str(exc)
        return next((short for words, short in ANSWERS.items() if words in said), said)


@settings(max_examples=1000, derandomize=True)
@given(NAME)
@example("example.com")
@example("192.0.2.7")
@example("192.0.2.700")
@example("1.2.3")
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
