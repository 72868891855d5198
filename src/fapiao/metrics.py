"""/metrics in the Prometheus text format, and the issue-latency histogram.

Counts come from the database at scrape time (so every server process reports the same
platform-wide figures); the latency histogram is per process (each process serves its
own requests). No label names a taxpayer."""

from __future__ import annotations

import bisect
import threading
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fapiao.db import Database
from fapiao.ledger.models import LedgerEntry
from fapiao.mail.models import MailMessage
from fapiao.outbox.models import OutboxEvent
from fapiao.webhooks.models import Delivery

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Histogram:
    def __init__(self, buckets: tuple[float, ...] = BUCKETS) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        with self._lock:
            self.counts[bisect.bisect_left(self.buckets, seconds)] += 1
            self.total += seconds

    def render(self, name: str) -> list[str]:
        with self._lock:
            counts, total = list(self.counts), self.total
        lines = [f"# TYPE {name} histogram"]
        running = 0
        for bound, count in zip(self.buckets, counts, strict=False):
            running += count
            lines.append(f'{name}_bucket{{le="{bound}"}} {running}')
        running += counts[-1]
        lines += [f'{name}_bucket{{le="+Inf"}} {running}', f"{name}_sum {total:.6f}"]
        lines.append(f"{name}_count {running}")
        return lines


ISSUE_LATENCY = Histogram()


def render(session: Session, now: datetime) -> str:
    lines = ["# TYPE fapiao_documents_total counter"]
    for kind, count in session.execute(
        select(LedgerEntry.kind, func.count()).group_by(LedgerEntry.kind).order_by(LedgerEntry.kind)
    ):
        lines.append(f'fapiao_documents_total{{kind="{kind}"}} {count}')

    waiting, oldest = session.execute(
        select(func.count(), func.min(OutboxEvent.created_at)).where(
            OutboxEvent.status == "pending"
        )
    ).one()
    lines += [
        "# TYPE fapiao_outbox_pending gauge",
        f"fapiao_outbox_pending {waiting}",
        "# TYPE fapiao_outbox_oldest_pending_seconds gauge",
        f"fapiao_outbox_oldest_pending_seconds {_age(oldest, now):.3f}",
        "# TYPE fapiao_webhook_deliveries gauge",
    ]
    for status, count in session.execute(
        select(Delivery.status, func.count()).group_by(Delivery.status).order_by(Delivery.status)
    ):
        lines.append(f'fapiao_webhook_deliveries{{status="{status}"}} {count}')
    lines.append("# TYPE fapiao_webhook_pending gauge")
    lines.append("# TYPE fapiao_webhook_oldest_pending_seconds gauge")
    for webhook_id, count, first in session.execute(
        select(Delivery.webhook_id, func.count(), func.min(Delivery.created_at))
        .where(Delivery.status == "pending")
        .group_by(Delivery.webhook_id)
        .order_by(Delivery.webhook_id)
    ):
        label = f'{{consumer="{webhook_id}"}}'
        lines.append(f"fapiao_webhook_pending{label} {count}")
        lines.append(f"fapiao_webhook_oldest_pending_seconds{label} {_age(first, now):.3f}")
    dead = session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.status == "dead")
    )
    lines += ["# TYPE fapiao_webhook_dead_letters gauge", f"fapiao_webhook_dead_letters {dead}"]
    mail = dict(
        session.execute(select(MailMessage.status, func.count()).group_by(MailMessage.status)).all()
    )
    first_mail = session.scalar(
        select(func.min(MailMessage.created_at)).where(MailMessage.status == "pending")
    )
    lines += [
        "# TYPE fapiao_mail_pending gauge",
        f"fapiao_mail_pending {mail.get('pending', 0)}",
        "# TYPE fapiao_mail_oldest_pending_seconds gauge",
        f"fapiao_mail_oldest_pending_seconds {_age(first_mail, now):.3f}",
        "# TYPE fapiao_mail_sent gauge",
        f"fapiao_mail_sent {mail.get('sent', 0)}",
        "# TYPE fapiao_mail_dead_letters gauge",
        f"fapiao_mail_dead_letters {mail.get('dead', 0)}",
    ]
    lines += ISSUE_LATENCY.render("fapiao_issue_latency_seconds")
    return "\n".join(lines) + "\n"


def render_replicas(database: Database) -> str:
    """Each replica's state and lag now (measured at scrape time), and this process's
    counts of where reads were served and why a replica was passed over."""
    if not database.replicas:
        return ""
    statuses = database.replicas.statuses(database.wal_position())
    lines = ["# TYPE fapiao_replica_up gauge"]
    lines += [f'fapiao_replica_up{{replica="{item.name}"}} {int(item.up)}' for item in statuses]
    lines.append("# TYPE fapiao_replica_lag_bytes gauge")
    lines += [
        f'fapiao_replica_lag_bytes{{replica="{item.name}"}} {item.lag_bytes}'
        for item in statuses
        if item.lag_bytes is not None
    ]
    lines.append("# TYPE fapiao_replica_lag_seconds gauge")
    lines += [
        f'fapiao_replica_lag_seconds{{replica="{item.name}"}} {item.lag_seconds:.3f}'
        for item in statuses
        if item.lag_seconds is not None
    ]
    lines.append("# TYPE fapiao_reads_total counter")
    for served_by, count in sorted(database.replicas.reads.items()):
        lines.append(f'fapiao_reads_total{{served_by="{served_by}"}} {count}')
    lines.append("# TYPE fapiao_replica_fallbacks_total counter")
    for (name, reason), count in sorted(database.replicas.fallbacks.items()):
        lines.append(
            f'fapiao_replica_fallbacks_total{{replica="{name}",reason="{reason}"}} {count}'
        )
    return "\n".join(lines) + "\n"


def _age(since: datetime | None, now: datetime) -> float:
    if since is None:
        return 0.0
    if since.tzinfo is None:  # SQLite's aggregate returns the stored text, zone-less
        since = since.replace(tzinfo=UTC)
    return max(0.0, (now - since).total_seconds())
