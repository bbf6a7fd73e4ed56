"""Validators for typed answers: the clean value, or a friendly message saying what would be right."""

from __future__ import annotations

import pytest

from bot.engine.validators import VALIDATORS, domain, email, ip, number, text, yes_no


@pytest.mark.parametrize(
    ("typed", "clean"),
    [
        ("example.com", "example.com"),
        ("  Example.COM. ", "example.com"),
        ("me@example.com", "example.com"),  # an address: keep the domain
        ("<Jo.Bloggs@Shop.Example.co.uk>", "shop.example.co.uk"),
        ("https://www.example.com/contact?x=1", "example.com"),
        ("www.example.org", "example.org"),
        ("münchen.de", "münchen.de"),  # IDN kept in Unicode form
        ("MÜNCHEN.de", "münchen.de"),
        ("xn--bcher-kva.example", "bücher.example"),  # punycode decoded
        ("jo@bücher.example", "bücher.example"),
        ("例え.テスト", "例え.テスト"),
    ],
)
def test_domain_accepts(typed: str, clean: str) -> None:
    assert domain(typed) == clean


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("localhost", "needs a dot"),
        ("not sure", "doesn't look like a domain"),
        ("example.com:25", "doesn't look like a domain"),
        ("", "doesn't look like a domain"),
        ("192.0.2.1", "That's an IP address"),
        ("jo@[192.0.2.1]", "doesn't look like a valid domain"),
        ("-bad-.com", "doesn't look like a valid domain"),
        ("a..b", "doesn't look like a valid domain"),
        ("exa_mple.com", "doesn't look like a valid domain"),
    ],
)
def test_domain_refuses_with_a_hint(typed: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        domain(typed)
    assert "example.com" in str(info.value)  # says what a right answer looks like


@pytest.mark.parametrize(
    ("typed", "clean"),
    [
        ("jo@example.com", "jo@example.com"),
        (" <Jo.Bloggs@EXAMPLE.com> ", "Jo.Bloggs@example.com"),  # the local part keeps its case
        ("jo@münchen.de", "jo@münchen.de"),
        ("a@b@example.com", "a@b@example.com"),
    ],
)
def test_email_accepts(typed: str, clean: str) -> None:
    assert email(typed) == clean


@pytest.mark.parametrize("typed", ["example.com", "@example.com", "jo bloggs@example.com", "jo@localhost"])
def test_email_refuses(typed: str) -> None:
    with pytest.raises(ValueError, match=r"example\.com"):
        email(typed)


@pytest.mark.parametrize(
    ("typed", "clean"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 198.51.100.20 ", "198.51.100.20"),
        ("2001:DB8::1", "2001:db8::1"),
        ("[2001:db8:0:0::7]", "2001:db8::7"),
    ],
)
def test_ip_accepts(typed: str, clean: str) -> None:
    assert ip(typed) == clean


@pytest.mark.parametrize("typed", ["999.1.1.1", "203.0.113", "my router", "example.com", ""])
def test_ip_refuses_and_says_how_to_find_it(typed: str) -> None:
    with pytest.raises(ValueError, match="what is my IP"):
        ip(typed)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("40", 40),
        ("about 60 MB", 60),
        ("2.5", 2.5),
        ("2,5 MB", 2.5),
        ("1 000", 1000),
        ("-3", -3),
        ("40mb", 40),
    ],
)
def test_number(typed: str, value: float) -> None:
    got = number(typed)
    assert got == value
    assert type(got) is type(value)  # whole numbers come back as int


@pytest.mark.parametrize("typed", ["lots", "", "forty"])
def test_number_refuses(typed: str) -> None:
    with pytest.raises(ValueError, match="Please answer with a number"):
        number(typed)


@pytest.mark.parametrize("typed", ["9" * 400, "-" + "9" * 400, "1" + "0" * 15, "9" * 20 + ".5"])
def test_number_refuses_what_is_out_of_range(typed: str) -> None:
    # 400 nines used to be a float of infinity, and the bot told the customer "about inf MB".
    with pytest.raises(ValueError, match="too large to be right; please answer with a number such as 25"):
        number(typed)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("yes", True),
        ("Yep, sure", True),
        ("it works", True),
        ("no", False),
        ("nope", False),
        ("not working", False),
        ("It doesn't", False),
    ],
)
def test_yes_no(typed: str, value: bool) -> None:
    assert yes_no(typed) is value


@pytest.mark.parametrize("typed", ["maybe", "", "banana"])
def test_yes_no_refuses(typed: str) -> None:
    with pytest.raises(ValueError, match="Please answer yes or no"):
        yes_no(typed)


def test_text_trims_caps_and_refuses_empty() -> None:
    assert text("  hello  ") == "hello"
    assert len(text("x" * 2000)) == 500
    with pytest.raises(ValueError, match="Please type an answer"):
        text("   ")


def test_every_validator_the_flow_format_names_exists() -> None:
    from bot.flows.shapes import VALIDATORS as NAMES

    assert set(NAMES) == set(VALIDATORS)
