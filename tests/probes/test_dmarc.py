"""The `dmarc` check on loopback DNS: sp= for subdomains, pct, tag syntax, report URIs and their authorisation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.probes.dmarc_record import organisational_domain, parse
from tests.support.probes import World

RECORDS = {
    "parent.example": "v=DMARC1; p=reject; sp=none",
    "strict.example": "v=DMARC1; p=none; sp=reject",
    "zero.example": "v=DMARC1; p=quarantine; pct=0",
    "half.example": "v=DMARC1; p=quarantine; pct=50",
    "space.example": " v=DMARC1; p=reject",
    "bom.example": "\ufeffv=DMARC1; p=reject",
    "ctrl.example": "v=DMARC1; p=reject;\x00",
    "dup.example": "v=DMARC1; p=reject; p=none",
    "nop.example": "v=DMARC1; rua=mailto:d@nop.example",
    "badp.example": "v=DMARC1; p=rejected",
    "badpct.example": "v=DMARC1; p=reject; pct=150",
    "nomailto.example": "v=DMARC1; p=reject; rua=dmarc@nomailto.example",
    "badruf.example": "v=DMARC1; p=reject; ruf=https://reports.example/x",
    "notag.example": "v=DMARC1; p=reject; hello",
    "outside.example": "v=DMARC1; p=reject; rua=mailto:d@reports.example",
    "allowed.example": "v=DMARC1; p=reject; rua=mailto:d@reports.example,mailto:me@allowed.example!10m",
    "example.co.uk": "v=DMARC1; p=reject; sp=quarantine",
}

# domain -> (status, words the summary must hold)
EXPECTED = {
    "parent.example": ("pass", "reject"),
    "shop.parent.example": ("warn", "sp=none"),
    "shop.strict.example": ("pass", "reject"),
    "zero.example": ("warn", "pct=0"),
    "half.example": ("pass", "50%"),
    "space.example": ("fail", "starts with a space"),
    "bom.example": ("fail", "U+FEFF"),
    "ctrl.example": ("fail", "U+0000"),
    "dup.example": ("fail", "p= appears twice"),
    "nop.example": ("fail", "no policy"),
    "badp.example": ("fail", "p=rejected"),
    "badpct.example": ("fail", "pct=150"),
    "nomailto.example": ("fail", "mailto:dmarc@nomailto.example"),
    "badruf.example": ("fail", "ruf"),
    "notag.example": ("fail", "hello"),
    "outside.example": ("warn", "outside.example._report._dmarc.reports.example"),
    "allowed.example": ("pass", "reject"),
    "mail.shop.example.co.uk": ("pass", "quarantine"),
}


@pytest.fixture
def dmarc_world(make_world: Callable[..., World]) -> World:
    zones = {f"_dmarc.{name}": {"TXT": [text]} for name, text in RECORDS.items()}
    zones["allowed.example._report._dmarc.reports.example"] = {"TXT": ["v=DMARC1"]}
    return make_world(zones=zones)


@pytest.mark.parametrize("domain", sorted(EXPECTED))
async def test_dmarc_cases(dmarc_world: World, domain: str) -> None:
    status, says = EXPECTED[domain]
    result = await dmarc_world.probes().run("dmarc", {"domain": domain})
    assert (result.status, says in result.summary) == (status, True), result


def test_organisational_domain_from_the_public_suffix_list() -> None:
    assert organisational_domain("a.b.example.co.uk") == "example.co.uk"
    assert organisational_domain("mail.shop.example.com.au") == "example.com.au"
    assert organisational_domain("someone.github.io") == "someone.github.io"  # a private-section suffix
    assert organisational_domain("shop.org.example") == "org.example"


def test_parse_keeps_first_value_and_names_every_mistake() -> None:
    record = parse("v=DMARC1; p=reject; pct=x; adkim=q; rua=mailto:a@b.example!5m")
    assert record.tags["p"] == "reject" and record.rua == [("a@b.example", "b.example")]
    assert [m.tag for m in record.mistakes] == ["pct", "adkim"]
