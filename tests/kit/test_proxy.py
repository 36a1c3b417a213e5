"""Forwarded addresses are believed from trusted proxies only."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from herald.kit.proxy import forwarded_client

PROXIES = [ip_network("10.0.0.0/8"), ip_network("::1/128")]


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # an untrusted peer is the client
        ("127.0.0.1", "198.51.100.1", "127.0.0.1"),  # loopback is not trusted by default
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),
        ("10.1.2.3", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the left part is the caller's
        ("10.1.2.3", "198.51.100.1, 10.4.4.4", "198.51.100.1"),  # proxies chained
        ("::1", "2001:db8::7", "2001:db8::7"),
        ("10.1.2.3", "10.4.4.4, 10.5.5.5", "10.4.4.4"),  # only proxies: the first one
        ("10.1.2.3", "not-an-address", "10.1.2.3"),
        ("10.1.2.3", "", "10.1.2.3"),
    ],
)
def test_forwarded_client(peer: str, header: str, client: str) -> None:
    assert forwarded_client(peer, header, PROXIES) == client


def test_nothing_is_trusted_without_proxies() -> None:
    assert forwarded_client("10.1.2.3", "198.51.100.1", []) == "10.1.2.3"
