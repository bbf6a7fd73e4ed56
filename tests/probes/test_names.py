"""Domain input: IDNA 2008 / UTS 46 normalisation, and refusals that say what to type instead."""

from __future__ import annotations

import pytest

from bot.errors import ProbeError
from bot.probes.certs import match_name
from bot.probes.names import normalise_domain
from bot.probes.untrusted import clip


def test_idn_and_case_are_normalised() -> None:
    domain = normalise_domain(" Bücher.Example. ")
    assert (domain.unicode, domain.ascii) == ("bücher.example", "xn--bcher-kva.example")
    assert normalise_domain("xn--bcher-kva.example") == domain
    assert normalise_domain("faß.de").ascii == "xn--fa-hia.de"  # IDNA 2008, not transitional


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("localhost", "local"),
        ("mail.localhost", "local"),
        ("10.0.0.1", "IP address"),
        ("[::1]", "IP address"),
        ("example:25", "port"),
        ("example.com:25", "port"),
        ("example", "no dot"),
        ("jo@example.com", "after the @"),
        ("https://example.com/", "web address"),
        ("exa mple.com", "not a valid"),
        ("-bad.example", "not a valid"),
        ("a" * 64 + ".example", "not a valid"),
        ("example.123", "number"),
        ("", "no domain"),
    ],
)
def test_refused_inputs(text: str, says: str) -> None:
    with pytest.raises(ProbeError, match=says):
        normalise_domain(text)


def test_certificate_name_matching() -> None:
    assert match_name("mail.example.com", ["mail.example.com"])
    assert match_name("MAIL.example.com", ["*.example.com"])
    assert not match_name("a.b.example.com", ["*.example.com"])
    assert not match_name("example.com", ["*.example.com"])
    assert not match_name("mail.example.com", ["*.com"])
    assert not match_name("mail.example.com", ["m*.example.com"])
    assert not match_name("mail.example.com", ["mail.example.net", "example.com"])
    assert match_name("mail.bücher.example", ["mail.xn--bcher-kva.example"])


def test_untrusted_text_is_clipped_and_defanged() -> None:
    assert clip("a" * 500, 10) == "a" * 9 + "…"
    assert "\x1b" not in clip("220 \x1b[31mred\u202e")
    assert clip(b"\xff220 ok") == "\ufffd220 ok"
