"""Who the client is behind a reverse proxy, believed only from configured proxies.

``X-Forwarded-For`` is a header anyone can send. Trusting it from any peer (or from loopback by
default, as uvicorn does) lets a caller pick the address that per-IP sign-in limits count and
audit entries record. Here the TCP peer is the client unless the peer is one of
``HERALD_TRUSTED_PROXIES``; then the client is the right-most address of the header that is not
itself a trusted proxy (addresses to its left were written by the client and prove nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from starlette.types import ASGIApp, Receive, Scope, Send

Network = IPv4Network | IPv6Network
FORWARDED_FOR = b"x-forwarded-for"
FORWARDED_PROTO = b"x-forwarded-proto"


def is_trusted(host: str, proxies: Sequence[Network]) -> bool:
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in proxies)


def forwarded_client(peer: str, header: str, proxies: Sequence[Network]) -> str:
    """The client's address: ``peer`` itself unless it is a trusted proxy."""
    if not is_trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, proxies):
            return hop if _is_address(hop) else peer
    return hops[0] if hops else peer


def _is_address(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def _header(scope: Scope, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == name]
    return ",".join(values) if values else None


class TrustedProxyMiddleware:
    """Rewrites the request's client (and scheme) from forwarded headers of trusted peers."""

    def __init__(self, app: ASGIApp, proxies: Sequence[Network]) -> None:
        self.app = app
        self.proxies = tuple(proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] == "http" and client and self.proxies:
            peer, port = client
            if is_trusted(peer, self.proxies):
                scope = dict(scope)
                forwarded = _header(scope, FORWARDED_FOR)
                if forwarded:
                    scope["client"] = (forwarded_client(peer, forwarded, self.proxies), port)
                proto = (_header(scope, FORWARDED_PROTO) or "").split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto
        await self.app(scope, receive, send)
