"""Client addresses and hosts behind proxies: only trusted peers may say otherwise."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustok_core.errors import Validation
from rustok_core.net import TrustedProxies, normalize_host

ips = st.ip_addresses().map(str)


def test_forwarded_headers_of_untrusted_peers_are_ignored() -> None:
    proxies = TrustedProxies(["10.0.0.0/8"])
    headers = {"x-forwarded-for": "1.2.3.4", "x-forwarded-host": "victim.example.com", "host": "real.example.com"}
    assert proxies.client_ip("203.0.113.9", headers) == "203.0.113.9"
    assert proxies.host("203.0.113.9", headers) == "real.example.com"


def test_trusted_proxies_pass_on_the_client_and_host() -> None:
    proxies = TrustedProxies(["10.0.0.0/8", "127.0.0.1"])
    headers = {"x-forwarded-for": "198.51.100.7, 10.1.2.3", "x-forwarded-host": "shop.example.com, internal"}
    assert proxies.client_ip("127.0.0.1", headers) == "198.51.100.7"
    assert proxies.host("10.9.9.9", headers) == "shop.example.com"


def test_the_rightmost_untrusted_hop_wins_over_a_forged_left_part() -> None:
    proxies = TrustedProxies(["10.0.0.0/8"])
    # The client forged "1.1.1.1"; the proxy appended the address it saw.
    headers = {"x-forwarded-for": "1.1.1.1, 198.51.100.7"}
    assert proxies.client_ip("10.0.0.1", headers) == "198.51.100.7"


@given(peer=ips, forged=ips)
def test_without_trusted_proxies_the_peer_is_always_the_client(peer: str, forged: str) -> None:
    assert TrustedProxies().client_ip(peer, {"x-forwarded-for": forged}) == peer


@given(peer=ips, chain=st.lists(st.one_of(ips, st.text(max_size=20)), max_size=5))
def test_the_client_ip_is_always_an_address_or_the_peer(peer: str, chain: list[str]) -> None:
    result = TrustedProxies(["0.0.0.0/0", "::/0"]).client_ip(peer, {"x-forwarded-for": ", ".join(chain)})
    assert result == peer or ipaddress.ip_address(result)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Shop.Example.com", "shop.example.com"),
        ("shop.example.com:8443", "shop.example.com"),
        ("shop.example.com.", "shop.example.com"),
        ("[::1]:443", "::1"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("  ", None),
        (None, None),
    ],
)
def test_hosts_are_normalized(raw: str | None, expected: str | None) -> None:
    assert normalize_host(raw) == expected


@pytest.mark.parametrize("raw", ["bad host", "a..b", "x:y", "-a.com", "[::1", "a" * 64 + ".com"])
def test_malformed_hosts_are_refused(raw: str) -> None:
    with pytest.raises(Validation):
        normalize_host(raw)


@given(st.text(max_size=300))
def test_any_host_header_normalizes_or_fails_with_validation(raw: str) -> None:
    try:
        host = normalize_host(raw)
    except Validation:
        return
    assert host is None or host == host.strip().lower()
