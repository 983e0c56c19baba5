"""Who is on the other end: client addresses and hosts behind trusted proxies.

``X-Forwarded-For`` and ``X-Forwarded-Host`` are believed only when the direct peer
is a trusted proxy; anything else could be forged by the client.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping

from rustok_core.errors import Validation

HOST_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
MAX_HOST_LENGTH = 253

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, networks: Iterable[str] = ()) -> None:
        self.networks: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n, strict=False) for n in networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str | None) -> bool:
        if not address or not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client_ip(self, peer: str | None, headers: Mapping[str, str]) -> str | None:
        """The client's address: the peer, or the right-most untrusted ``X-Forwarded-For`` hop."""
        if not self.trusts(peer):
            return peer
        forwarded = headers.get("x-forwarded-for")
        if not forwarded:
            return peer
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop if _is_ip(hop) else peer
        return hops[0] if hops and _is_ip(hops[0]) else peer

    def host(self, peer: str | None, headers: Mapping[str, str]) -> str | None:
        """The requested host: ``X-Forwarded-Host`` from a trusted peer, else ``Host``."""
        if self.trusts(peer):
            forwarded = headers.get("x-forwarded-host")
            if forwarded:
                return forwarded.split(",")[0].strip()
        return headers.get("host")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def normalize_host(raw: str | None) -> str | None:
    """Lower-cased host name without port or trailing dot; ``VALIDATION`` if malformed.

    IP literals are returned as they are (they never name a tenant domain).
    """
    if raw is None:
        return None
    host = raw.strip().lower()
    if not host:
        return None
    if host.startswith("["):  # [IPv6]:port
        end = host.find("]")
        if end == -1:
            raise Validation(f"malformed host {raw!r}", field="host")
        return host[1:end]
    if host.count(":") == 1:
        host, _, port = host.partition(":")
        if not port.isdigit():
            raise Validation(f"malformed host {raw!r}", field="host")
    host = host.rstrip(".")
    if _is_ip(host):
        return host
    if len(host) > MAX_HOST_LENGTH or not host or not all(HOST_LABEL_RE.match(label) for label in host.split(".")):
        raise Validation(f"malformed host {raw!r}", field="host")
    return host
