"""Invoice numbers (domain.md §2): YY + region + channel + 15-digit sequence.

Channel digits are ours to define (docs/numbering.md): 1 platform online issuance
(API and web), 2 offline issuance with pre-assigned blocks, 9 training sandbox."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

NUMBER_RE = re.compile(r"^\d{20}$")
SEQUENCE_DIGITS = 15
CHANNELS = {"1": "online", "2": "offline", "9": "sandbox"}


@dataclass(frozen=True)
class InvoiceNumber:
    year: int
    region: str
    channel: str
    sequence: int

    def __str__(self) -> str:
        return f"{self.year % 100:02d}{self.region}{self.channel}{self.sequence:015d}"


def prefix_for(issue_date: date, region: str, channel: str) -> str:
    return f"{issue_date.year % 100:02d}{region}{channel}"


def format_number(prefix: str, sequence: int) -> str:
    if not 1 <= sequence < 10**SEQUENCE_DIGITS:
        raise ValueError("sequence out of range")
    return f"{prefix}{sequence:015d}"


def parse_number(text: str) -> InvoiceNumber | None:
    """The parts of a well-formed number, or None."""
    if not NUMBER_RE.match(text):
        return None
    return InvoiceNumber(
        year=2000 + int(text[:2]), region=text[2:4], channel=text[4], sequence=int(text[5:])
    )
