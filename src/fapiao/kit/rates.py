"""Rate settings such as "10/minute": parsed once, at start-up. Pure, no imports from
features."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Rate:
    """At most `limit` requests in each window of `period` seconds."""

    limit: int
    period: int

    def __str__(self) -> str:
        name = next(name for name, seconds in PERIODS.items() if seconds == self.period)
        return f"{self.limit}/{name}"


def parse_rate(text: str) -> Rate | None:
    """ "10/minute", "600/hour", "5/second", "1000/day" (plural units too); "0" or "off"
    turns the limit off (None). Raises ValueError on anything else."""
    value = text.strip().lower()
    if value in ("0", "off"):
        return None
    count, slash, unit = value.partition("/")
    unit = unit.strip()
    period = PERIODS.get(unit.removesuffix("s") if unit.endswith("s") else unit)
    count = count.strip()
    if not slash or period is None or not count.isdigit() or int(count) < 1:
        raise ValueError(
            "must be a count per second, minute, hour or day such as 10/minute, or 0 for off"
        )
    return Rate(limit=int(count), period=period)


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """A comma-separated list of addresses or CIDR networks ("10.0.0.0/8, ::1").
    Raises ValueError naming the first entry that is neither."""
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
    return tuple(networks)
