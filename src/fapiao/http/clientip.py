"""Who is calling: the socket peer, or the client a trusted reverse proxy names."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from fapiao.kit.rates import IPNetwork

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def is_trusted(peer: str | None, trusted: tuple[IPNetwork, ...]) -> bool:
    """True when `peer` is an address inside one of the trusted proxy networks."""
    if not trusted or peer is None:
        return False
    address = _address(peer)
    return address is not None and any(address in network for network in trusted)


def client_ip(
    peer: str | None, forwarded_for: Iterable[str], trusted: tuple[IPNetwork, ...]
) -> str:
    """The caller's address.

    Without trusted proxies, or when the peer is not one of them, the socket peer (a client
    cannot choose it). When the peer is a trusted proxy, X-Forwarded-For is read from the
    right, skipping hops that are themselves trusted proxies: the first untrusted hop is
    the client. Hops further left were written by that client and could say anything, so
    they are never used. `forwarded_for` is every X-Forwarded-For header, in order."""
    current = peer or "unknown"
    if not is_trusted(peer, trusted):
        return current
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        if not hop:
            continue
        address = _address(hop)
        if address is None:
            # Garbage written by someone the trusted proxy did not vouch for: stop at the
            # last hop a trusted proxy did vouch for.
            return current
        current = str(address)
        if not any(address in network for network in trusted):
            return current
    return current


def bucket_of(ip: str) -> str:
    """The rate-limit subject for an address: IPv6 callers are counted per /64, the
    block one subscriber usually holds, so rotating addresses inside it does not help."""
    address = _address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return ip[:64]
