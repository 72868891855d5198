"""Scheduled jobs. `fapiao worker` runs them in their own process; `fapiao serve`
embeds the same loop in a background thread."""

from __future__ import annotations

import logging
import threading

from fapiao.audit import service as audit
from fapiao.invoices import rejections
from fapiao.limits import service as limits
from fapiao.platform import Platform
from fapiao.redletter.service import expire_lapsed
from fapiao.webhooks.relay import Relay

log = logging.getLogger("fapiao.worker")


class Worker:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.relay = Relay(platform)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def scheduled(self) -> dict[str, int]:
        """The scheduled jobs, once, each in one transaction: red-letter forms past their
        deadline lapse, refusals of issue requests older than 30 days are forgotten, and
        rate-limit counters of ended windows are deleted, and audit entries past
        FAPIAO_AUDIT_RETENTION_DAYS are purged (a batch per transaction).
        Paused during maintenance (nobody can answer a form then); the relay and the mail
        sender keep delivering what was committed before."""
        now = self.platform.clock.now()
        if self.platform.maintenance.current(now) is not None:
            return {
                "redletter_lapsed": 0,
                "rejections_pruned": 0,
                "rate_counters_pruned": 0,
                "audit_purged": 0,
                "paused": 1,
            }
        with self.platform.database.transaction() as session:
            lapsed = expire_lapsed(session, now)
        if lapsed:
            log.info("red-letter forms lapsed: %d", lapsed)
        with self.platform.database.transaction() as session:
            pruned = rejections.prune(session, now)
        with self.platform.database.transaction() as session:
            counters = limits.prune(session, now)
        purged = audit.purge(
            self.platform.database, now, self.platform.settings.audit_retention_days
        )
        if purged:
            log.info("audit entries purged: %d", purged)
        return {
            "redletter_lapsed": lapsed,
            "rejections_pruned": pruned,
            "rate_counters_pruned": counters,
            "audit_purged": purged,
            "paused": 0,
        }

    def run_once(self) -> dict[str, int]:
        """Run every due job once, and one pass of the webhook relay and of the mail
        sender; returns what each did."""
        jobs = self.scheduled()
        relayed = {f"webhook_{key}": value for key, value in self.relay.run_once().items()}
        mailed = {f"mail_{key}": value for key, value in self.relay.mail.run_once().items()}
        return {**jobs, **relayed, **mailed}

    def run_forever(self) -> None:
        interval = self.platform.settings.jobs_interval_seconds
        while not self._stop.is_set():
            try:
                self.scheduled()
            except Exception:  # a failing job must not stop the others next time
                log.exception("scheduled job failed")
            self._stop.wait(interval)

    def start(self) -> None:
        """Scheduled jobs on one thread, the webhook relay (which polls often) on another."""
        self._thread = threading.Thread(target=self.run_forever, name="fapiao-worker", daemon=True)
        self._thread.start()
        self.relay.start()

    def stop(self) -> None:
        self._stop.set()
        self.relay.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)


def create_worker(platform: Platform) -> Worker:
    return Worker(platform)
