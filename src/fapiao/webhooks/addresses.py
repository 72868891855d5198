"""What a subscription may name: an http(s) URL on the public internet, and known events.

An address inside the platform's own network is refused, at subscription and again at
every send (a name can resolve differently later): a webhook must never become a way to
reach internal services."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from fapiao.kit.errors import N_, invalid
from fapiao.webhooks.models import EVENT_TYPES


def check_url(url: str) -> str:
    """An http(s) URL with a host name that encodes and a port that exists."""
    wrong = invalid("url", "WEBHOOK_URL_INVALID", N_("Give an http:// or https:// address."))
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises ValueError for a port out of range or not a number
        if parts.hostname:
            parts.hostname.encode("idna")
    except (ValueError, UnicodeError):
        raise wrong from None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise wrong
    return url.strip()


def refused_address(host: str, port: int) -> str | None:
    """Why the platform will not call this host (an address inside its own network: a
    webhook must not become a way to reach internal services), or None."""
    try:
        addresses = {
            info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        }
    except (OSError, UnicodeError) as exc:
        return f"cannot resolve {host}: {exc}"
    for address in addresses:
        if not ipaddress.ip_address(str(address).split("%")[0]).is_global:
            return f"{host} resolves to a non-public address ({address})"
    return None


def check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if not events or unknown:
        raise invalid(
            "events",
            "WEBHOOK_EVENTS_INVALID",
            N_("Choose one or more of: {choices}."),
            choices=", ".join(EVENT_TYPES),
        )
    return sorted(set(events))
