"""The non-public address list: every listed range refused, mapped forms never exempted by IPv4 allows."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from bot.probes.addresses import NON_PUBLIC, non_public_reason, parse_address, refusal

V4_NETS = [n for n, _ in NON_PUBLIC if n.version == 4]
MUST_REFUSE = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "0.0.0.0",
    "192.0.0.8",
    "192.0.2.1",
    "198.51.100.7",
    "203.0.113.9",
    "198.18.0.1",
    "224.0.0.251",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:8.8.8.8",
    "64:ff9b::a00:1",
    "64:ff9b:1::1",
    "2001:db8::1",
    "2002:a00:1::1",
    "2001::1",
]


def test_the_documented_ranges_are_refused() -> None:
    for text in MUST_REFUSE:
        address = parse_address(text)
        assert address is not None
        assert non_public_reason(address) is not None, text


def test_public_addresses_are_allowed() -> None:
    for text in ("8.8.8.8", "1.2.3.4", "2a00:1450:4001:81c::200e", "2606:4700::1111"):
        assert non_public_reason(ipaddress.ip_address(text)) is None


@given(st.ip_addresses())
def test_never_laxer_than_the_standard_library(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    # Whatever `is_global` rejects, we reject too (we add ranges it misses, e.g. multicast).
    if non_public_reason(address) is None:
        assert address.is_global


@given(st.sampled_from(V4_NETS), st.integers(min_value=0, max_value=2**32 - 1))
def test_every_address_of_a_listed_ipv4_range(network: ipaddress.IPv4Network, offset: int) -> None:
    address = network.network_address + offset % network.num_addresses
    assert non_public_reason(address) is not None


@given(st.ip_addresses(v=4))
def test_mapped_and_nat64_forms_are_always_refused(v4: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{v4}")
    nat64 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) + int(v4))
    assert non_public_reason(mapped) is not None
    assert non_public_reason(nat64) is not None
    # An IPv4 allow-list covering the address never exempts its IPv6 forms.
    allow = [ipaddress.ip_network(f"{v4}/32")]
    assert refusal(v4, allow) is None
    assert refusal(mapped, allow) is not None
    assert refusal(nat64, allow) is not None


@given(st.ip_addresses(v=4, network="127.0.0.0/8"))
def test_allow_list_exempts_only_what_it_covers(address: ipaddress.IPv4Address) -> None:
    allow = [ipaddress.ip_network("127.0.0.1/32")]
    assert (refusal(address, allow) is None) == (str(address) == "127.0.0.1")


def test_scoped_ipv6_is_refused() -> None:
    assert non_public_reason(ipaddress.IPv6Address("2606:4700::1111%eth0")) is not None
