"""The SSRF list, property-style, for the IPv6 ranges too: no address inside any non-public range is allowed."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.probes.addresses import NON_PUBLIC, refusal

V6_NETS = [n for n, _ in NON_PUBLIC if n.version == 6]
ALL_NETS = [n for n, _ in NON_PUBLIC]


@settings(max_examples=300, derandomize=True)
@given(st.sampled_from(V6_NETS), st.integers(min_value=0, max_value=2**128 - 1))
def test_every_address_of_a_listed_ipv6_range(network: ipaddress.IPv6Network, offset: int) -> None:
    address = network.network_address + offset % network.num_addresses
    assert refusal(address) is not None


@settings(max_examples=300, derandomize=True)
@given(st.sampled_from(ALL_NETS), st.integers(min_value=0, max_value=2**128 - 1), st.sampled_from(ALL_NETS))
def test_an_allow_list_exempts_nothing_outside_itself(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network,
    offset: int,
    allowed: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> None:
    address = network.network_address + offset % network.num_addresses
    if address.version == allowed.version and address in allowed:
        assert refusal(address, [allowed]) is None
    else:
        assert refusal(address, [allowed]) is not None
