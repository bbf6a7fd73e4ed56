"""The `spf` check on loopback DNS: mistakes named term by term, valid forms accepted, the sender's own IP judged."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bot.probes.spf_syntax import SpfSyntaxError, parse_record
from tests.support.probes import World

CHAIN = {
    f"s{i}.chain.example": {"TXT": [f"v=spf1 include:s{i + 1}.chain.example -all"]} for i in range(1, 11)
}
CHAIN["s11.chain.example"] = {"TXT": ["v=spf1 ip4:192.0.2.0/24 -all"]}
ZONES = {
    **CHAIN,
    "spf.provider.example": {"TXT": ["v=spf1 ip4:127.0.0.0/8 -all"]},
    "shared.example": {"TXT": ["v=spf1 ip4:198.51.100.0/24 -all"]},
    "left.example": {"TXT": ["v=spf1 include:shared.example -all"]},
    "right.example": {"TXT": ["v=spf1 include:shared.example -all"]},
    "early.example": {"TXT": ["v=spf1 ip4:81.2.69.0/24 include:s1.chain.example -all"]},
    "open-target.example": {"TXT": ["v=spf1 +all"]},
    "many-mx.example": {"MX": [f"{i} mx{i}.many-mx.example." for i in range(11)]},
    "sender.example": {"TXT": ["v=spf1 ip4:81.2.69.0/24 a:mail.sender.example ~all"]},
    "mail.sender.example": {"A": ["81.2.70.25"]},
}

# (record, the term the summary must name, a word of the fix or problem)
MISTAKES = {
    "a-empty": ("v=spf1 a: -all", "a:", "no domain"),
    "a-port": ("v=spf1 a:mail.example.com:25 -all", "a:mail.example.com:25", "port"),
    "a-numeric": ("v=spf1 a:192.0.2.1 -all", "a:192.0.2.1", "number"),
    "mx-toplabel": ("v=spf1 mx:mail.example.c_m -all", "mx:mail.example.c_m", "top-level"),
    "ptr-no-dot": ("v=spf1 ptr:localhost -all", "ptr:localhost", "full domain"),
    "a-33": ("v=spf1 a/33 -all", "a/33", "prefix length"),
    "mx-129": ("v=spf1 mx//129 -all", "mx//129", "prefix length"),
    "ip4-032": ("v=spf1 ip4:192.0.2.0/032 -all", "ip4:192.0.2.0/032", "leading zeros"),
    "ip4-bad": ("v=spf1 ip4:192.0.2.300 -all", "ip4:192.0.2.300", "not a valid ip4"),
    "macro": ("v=spf1 exists:%{x}.example.com -all", "exists:%{x}.example.com", "macro"),
    "macro-percent": ("v=spf1 include:50%.example.com -all", "include:50%.example.com", "%%"),
    "exp-empty": ("v=spf1 -all exp=", "exp=", "no domain"),
    "redirect-bad": ("v=spf1 redirect=example", "redirect=example", "full domain"),
    "redirect-twice": ("v=spf1 redirect=a.example redirect=b.example", "redirect=b.example", "twice"),
    "redirect-colon": ("v=spf1 redirect:spf.example.com", "redirect:spf.example.com", "redirect="),
    "typo": ("v=spf1 ipv4:192.0.2.1 -all", "ipv4:192.0.2.1", "ip4"),
    "all-value": ("v=spf1 -all:foo", "-all:foo", "no value"),
    "tab": ("v=spf1 a\t-all", "a\\t-all", "control character"),
    "nbsp": ("v=spf1 a\u00a0-all", "a\u00a0-all", "special space"),
    "zero-width": ("v=spf1 a \u200b-all", "\u200b-all", "invisible"),
    "bom": ("\ufeffv=spf1 a -all", "\ufeffv=spf1", "U+FEFF"),
    "leading-space": (" v=spf1 a -all", " v=spf1", "delete everything before"),
    "version-tab": ("v=spf1\tmx -all", "v=spf1\\t", "a tab after v=spf1"),
    "eleven-mx": ("v=spf1 mx:many-mx.example -all", "mx:many-mx.example", "11 mail servers"),
    "chain": ("v=spf1 include:s1.chain.example -all", "include:s11.chain.example", "more than 10"),
    "void": (
        "v=spf1 a:n1.void.example a:n2.void.example a:n3.void.example -all",
        "a:n3.void.example",
        "exist",
    ),
    "include-none": ("v=spf1 include:nothing.example -all", "include:nothing.example", "no SPF record"),
    "two-records": (("v=spf1 -all", "v=spf1 mx -all"), "v=spf1", "2 SPF records"),
}


@pytest.fixture
def spf_world(make_world: Callable[..., World]) -> World:
    zones = dict(ZONES)
    for name, (record, _, _) in MISTAKES.items():
        zones[f"{name}.example"] = {"TXT": [record] if isinstance(record, str) else list(record)}
    valid = {
        "exp": "v=spf1 ip4:192.0.2.0/24 -all exp=explain.%{d}",
        "two-includes": "v=spf1 include:left.example include:right.example -all",
        "macros": "v=spf1 exists:%{i}._spf.%{d} include:spf.provider.example -all",
        "spaces": "v=spf1  a   -all  ",
        "unknown-modifier": "v=spf1 ip4:192.0.2.1 moo.cow=%{d} -all",
        "fine": "v=spf1 mx include:spf.provider.example ~all",
        "inline-open": "v=spf1 mx +all",
        "hidden-open": "v=spf1 mx redirect=open-target.example",
        "range-open": "v=spf1 ip4:0.0.0.0/0 -all",
        "neutral": "v=spf1 mx ?all",
    }
    for name, record in valid.items():
        zones[f"{name}.example"] = {"TXT": [record], "MX": ["10 mx.acme.example."], "A": ["192.0.2.10"]}
    return make_world(zones=zones)


@pytest.mark.parametrize("case", sorted(MISTAKES))
async def test_each_mistake_is_a_fail_naming_the_term(spf_world: World, case: str) -> None:
    _, term, says = MISTAKES[case]
    result = await spf_world.probes().run("spf", {"domain": f"{case}.example"})
    assert result.status == "fail", result
    assert term in result.summary and says in result.summary, result.summary
    assert result.details["error"]["term"] == term


async def test_valid_forms_are_not_failures(spf_world: World) -> None:
    probes = spf_world.probes()
    for name in ("exp", "two-includes", "macros", "spaces", "unknown-modifier", "fine"):
        result = await probes.run("spf", {"domain": f"{name}.example"})
        assert result.status == "pass", (name, result)
    macros = await probes.run("spf", {"domain": "macros.example"})
    assert macros.details["needs_sender"] == ["exists:%{i}._spf.%{d}"]


async def test_shared_include_gets_the_same_verdict_every_run(spf_world: World) -> None:
    # Fresh probes each time (no cache), all at once, so lookups interleave differently.
    results = await asyncio.gather(
        *(spf_world.probes().run("spf", {"domain": "two-includes.example"}) for _ in range(12))
    )
    assert {(r.status, r.summary) for r in results} == {(results[0].status, results[0].summary)}
    assert results[0].status == "pass"


async def test_open_policies_read_the_same_inline_or_behind_redirect(spf_world: World) -> None:
    probes = spf_world.probes()
    for name, says in (("inline-open", "+all"), ("hidden-open", "+all"), ("range-open", "ip4:0.0.0.0/0")):
        result = await probes.run("spf", {"domain": f"{name}.example"})
        assert result.status == "warn" and "any server" in result.summary and says in result.summary, result
    neutral = await probes.run("spf", {"domain": "neutral.example"})
    assert neutral.status == "warn" and "other senders" in neutral.summary


async def test_the_customers_sending_ip(spf_world: World) -> None:
    probes = spf_world.probes()
    listed = await probes.run("spf", {"domain": "sender.example", "ip": "81.2.69.9"})
    assert listed.status == "pass" and "ip4:81.2.69.0/24" in listed.summary
    by_name = await probes.run("spf", {"domain": "sender.example", "ip": "81.2.70.25"})
    assert by_name.status == "pass" and by_name.details["ip_decided_by"] == "a:mail.sender.example"
    stranger = await probes.run("spf", {"domain": "sender.example", "ip": "8.8.4.4"})
    assert stranger.status == "warn" and stranger.details["ip_result"] == "softfail"
    assert "add ip4:8.8.4.4" in stranger.summary
    v6 = await probes.run("spf", {"domain": "sender.example", "ip": "2606:4700::1"})
    assert "add ip6:2606:4700::1" in v6.summary
    # Mail from this address is decided before the over-long chain is reached; the mistake is still named.
    partial = await probes.run("spf", {"domain": "early.example", "ip": "81.2.69.7"})
    assert partial.status == "warn" and partial.details["ip_result"] == "pass"
    assert "include:s11.chain.example" in partial.summary


async def test_sending_host_and_chain_details(spf_world: World) -> None:
    probes = spf_world.probes()
    assert (await probes.run("spf", {"domain": "chain.example"})).details["lookups"] == 11
    permitted = await probes.run("spf", {"domain": "fine.example", "sending_host": "spf.provider.example"})
    assert permitted.status == "pass"
    missing = await probes.run("spf", {"domain": "fine.example", "sending_host": "spf.stackmail.com"})
    assert missing.status == "warn" and "include:spf.stackmail.com" in missing.summary


def test_syntax_error_names_term_and_fix() -> None:
    with pytest.raises(SpfSyntaxError) as caught:
        parse_record("v=spf1 ip4:10.0.0.1/33 -all")
    assert caught.value.term == "ip4:10.0.0.1/33" and "/0 to /32" in caught.value.fix
    record = parse_record("v=spf1 a:foo:bar/baz.example.com/24//64 -all exp=why.%{d}")
    assert record.mechanisms[0].domain == "foo:bar/baz.example.com"
    assert (record.mechanisms[0].cidr4, record.mechanisms[0].cidr6) == (24, 64)
    assert record.explanation == "why.%{d}"
