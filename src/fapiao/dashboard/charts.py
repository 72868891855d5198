"""Charts as inline SVG, drawn on the server: no script, no external service, readable by
screen readers (role="img" with a title and a description that states the figures), and
scaling to any width (viewBox, no fixed size)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from fapiao.dashboard.service import Day

WIDTH = 600
HEIGHT = 180
BOTTOM = 22  # room for the date labels
TOP = 8


def _svg(title: str, description: str, body: str, height: int = HEIGHT) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'preserveAspectRatio="xMidYMid meet" aria-label={quoteattr(title)} '
        f'xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>{body}</svg>"
    )


def daily_bars(days: Sequence[Day], title: str, description: str) -> str:
    """One bar per day (invoice count), the first, middle and last dates labelled."""
    highest = max((day.count for day in days), default=0)
    most = highest or 1  # the scale of an empty chart
    slot = WIDTH / max(len(days), 1)
    plot = HEIGHT - BOTTOM - TOP
    parts = [
        f'<line x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" '
        'class="axis" stroke="#6b7280" stroke-width="1"/>'
    ]
    for index, day in enumerate(days):
        height = plot * day.count / most
        x = index * slot + slot * 0.15
        y = HEIGHT - BOTTOM - height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" '
            f'class="bar" fill="#1d4ed8"><title>{day.day.isoformat()}: {day.count}</title></rect>'
        )
    for index in sorted({0, len(days) // 2, len(days) - 1}):
        if 0 <= index < len(days):
            x = index * slot + slot / 2
            anchor = "start" if index == 0 else "end" if index == len(days) - 1 else "middle"
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 6}" font-size="12" fill="#374151" '
                f'text-anchor="{anchor}">{days[index].day.strftime("%m-%d")}</text>'
            )
    parts.append(f'<text x="4" y="{TOP + 10}" font-size="12" fill="#374151">{highest}</text>')
    return _svg(title, description, "".join(parts))


def meter(used: Decimal, limit: Decimal, title: str, description: str) -> str:
    """A horizontal bar of `used` against `limit`, red from 90 %."""
    share = 1.0 if limit <= 0 else min(1.0, float(used / limit))
    colour = "#b91c1c" if share >= 0.9 else "#15803d"
    height = 28
    body = (
        f'<rect x="0" y="4" width="{WIDTH}" height="20" rx="4" fill="#e5e7eb"/>'
        f'<rect x="0" y="4" width="{WIDTH * share:.1f}" height="20" rx="4" fill="{colour}" '
        f'class="meter-fill"/>'
    )
    return _svg(title, description, body, height)
