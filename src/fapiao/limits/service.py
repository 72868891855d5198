"""Fixed-window request counters in the database, so every process sees the same count.

A check is one statement: INSERT … ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING
hits (SQLite ≥ 3.35 and PostgreSQL), in its own short transaction. A window allows at most
twice the limit across its boundary; for guessing passwords and scraping that is enough,
and it keeps the check to a single row."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from fapiao.kit.rates import Rate
from fapiao.limits.models import RateCounter

# Login attempts per account are counted in this many buckets, chosen by a keyed hash of
# the username: guessing at unknown usernames cannot create more rows than this per
# window, and without the key nobody can aim collisions at a real user's bucket.
ACCOUNT_BUCKETS = 1 << 16


@dataclass(frozen=True)
class Decision:
    allowed: bool
    hits: int
    # Seconds until the window frees (0 when allowed).
    retry_after: int


def hit(session: Session, bucket: str, rate: Rate, now: datetime) -> Decision:
    """Count one request against `bucket` and say whether it is within `rate`."""
    seconds = int(now.timestamp())
    start = seconds - seconds % rate.period
    end = start + rate.period
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        module.insert(RateCounter)
        .values(bucket=bucket[:100], window_start=start, hits=1, expires=end)
        .on_conflict_do_update(
            index_elements=["bucket", "window_start"],
            set_={"hits": RateCounter.hits + 1},
        )
        .returning(RateCounter.hits)
    )
    hits = int(session.execute(statement).scalar_one())
    if hits <= rate.limit:
        return Decision(True, hits, 0)
    return Decision(False, hits, max(1, end - seconds))


def account_bucket(username: str, key: str) -> str:
    """The bounded, keyed subject for login attempts at `username`."""
    digest = hmac.new(key.encode(), username.casefold().encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:4], 'big') % ACCOUNT_BUCKETS:04x}"


def prune(session: Session, now: datetime) -> int:
    """Delete the counters of windows that have ended; returns how many."""
    result = session.execute(delete(RateCounter).where(RateCounter.expires <= int(now.timestamp())))
    return int(getattr(result, "rowcount", 0) or 0)
