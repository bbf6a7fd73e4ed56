"""Facts read out of pasted errors and customers' sentences: addresses, domains, blocklists, codes."""

from __future__ import annotations

import pytest

from bot.nlu import entities
from bot.nlu.entities import _DNSBL_NAMES, MAX_CHARS, customer_domain, extract


def test_a_postfix_rbl_rejection_gives_the_listed_ip_the_list_and_the_codes() -> None:
    found = extract("550 5.7.1 Service unavailable; Client host [81.2.69.142] blocked using zen.spamhaus.org")
    assert found.listed_ip == "81.2.69.142"
    assert found.dnsbls == ("Spamhaus",)
    assert found.codes == ("550", "5.7.1")
    assert customer_domain(found) is None  # a bounce names other people's servers, never ours


def test_the_listed_ip_is_the_one_near_the_rejection_not_the_receiving_server() -> None:
    found = extract(
        "host mx.recipient.example[198.51.100.4] said: 554 5.7.1 Service unavailable; "
        "Client host [203.0.113.9] blocked using bl.spamcop.net (in reply to RCPT TO command)"
    )
    assert found.ips == ("198.51.100.4", "203.0.113.9")
    assert found.listed_ip == "203.0.113.9"
    assert found.dnsbls == ("SpamCop",)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("554 Service unavailable; Client host [192.0.2.15] blocked using Barracuda Reputation", "Barracuda"),
        ("part of their network is on our block list (S3150)", "Microsoft's blocklist"),
        ("listed at dnsbl.sorbs.net", "SORBS"),
        ("your IP is listed by UCEPROTECT level 2", "UCEPROTECT"),
    ],
)
def test_blocklists_are_named_as_customers_know_them(text: str, name: str) -> None:
    assert name in extract(text).dnsbls


def test_private_addresses_are_never_the_listed_ip() -> None:
    found = extract("blocked: client 192.168.1.20 via 10.0.0.1 is listed")
    assert found.ips == () and found.listed_ip is None


def test_ipv6_addresses_are_read() -> None:
    assert extract("Client host [2001:db8::25] blocked using zen.spamhaus.org").ips == ("2001:db8::25",)


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("535 5.7.8 Error: authentication failed", ("535", "5.7.8")),
        ("550-5.7.1 relay not permitted", ("550", "5.7.1")),
        ("the server said: 554 go away", ("554",)),
        ("Outlook error 0x800ccc0e", ("0x800CCC0E",)),
        ("error 800CCC92 when sending", ("0x800CCC92",)),
        ("530", ("530",)),
        ("I sent 550 emails today", ()),  # a number of emails, not a reply code
        ("port 465 and 587 and 25", ()),  # ports, not codes
        ("Remote server 10.5.7.1 refused", ()),  # an IP's digits are not an enhanced code
    ],
)
def test_codes_are_read_where_they_read_as_codes(text: str, codes: tuple[str, ...]) -> None:
    assert extract(text).codes == codes


def test_the_customers_domain_comes_from_their_address_or_their_server_name() -> None:
    assert (
        customer_domain(extract("I can't send from jo@shop.example.co.uk since Monday"))
        == "shop.example.co.uk"
    )
    mail_error = extract("Task 'mail.example.com - Sending' reported error (0x800CCC0E)")
    assert customer_domain(mail_error) == "example.com"
    assert customer_domain(extract("I can't send to anyone at gmail.com")) is None
    assert customer_domain(extract("it times out")) is None


@pytest.mark.timeout(60)
def test_hostile_input_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs that make backtracking patterns go quadratic or worse. With the cap lifted to 200 KB a
    # quadratic pattern takes many minutes here, a linear one well under a second each (bench/nlu.py
    # prints the times); the timeout is a hang guard, not a speed target.
    monkeypatch.setattr(entities, "MAX_CHARS", 200_000)
    attacks = ["1." * 100_000, "a@" * 100_000, "[" * 200_000, "0" * 200_000, "a-" * 100_000, "a." * 100_000]
    attacks += [
        ":" * 200_000,
        "error " * 30_000,
        "".join(f"blocked 10.{i % 250}.{i // 250}.9 " for i in range(9_000)),
    ]
    for attack in attacks:
        assert extract(attack).client_codes == ()


def test_only_the_start_of_a_huge_paste_is_read() -> None:
    found = extract("x " * MAX_CHARS + "535 5.7.8 authentication failed")
    assert found.codes == ()


def test_a_links_host_is_never_taken_for_the_customers_domain() -> None:
    found = extract("my mail program times out <https://evil.example|click> see http://phish.example/x")
    assert found.domains == () and customer_domain(found) is None


@pytest.mark.parametrize(
    "text",
    [
        "550 5.7.1 blocked using ZEN.SPAMHAUS.ORG",
        "listed at bl.spamcop.net",
        "b.barracudacentral.org lists us",
        "SORBS says so",
        "UCEPROTECT level 1",
        "psbl.surriel.com",
        "cbl.abuseat.org",
        "Mailspike",
        "SpamEatingMonkey",
        "550 5.7.1 Unfortunately, messages from [203.0.113.7] weren't sent. S3150",
        "RP-001 and more",
        "rejected by Proofpoint",
        "Cloudmark",
        "listed by Spamhaus and SpamCop",
        "it says my password is wrong",
        "notspamhaus.org.example and barracudas",
    ],
)
def test_blocklists_are_named_as_each_blocklist_pattern_finds_them(text: str) -> None:
    # One scan first says whether any blocklist is named; it must never hide one that its own
    # pattern finds, in any letter case.
    for sample in (text, text.upper(), text.lower()):
        expected = tuple(dict.fromkeys(name for pattern, name in _DNSBL_NAMES if pattern.search(sample)))
        assert extract(sample).dnsbls == expected
