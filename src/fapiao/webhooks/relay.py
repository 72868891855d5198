"""The relay loop: fan out, claim, send, record — until stopped; then the same for the
buyers' e-mail notices."""

from __future__ import annotations

import logging
import threading

from fapiao.mail.relay import MailSender
from fapiao.platform import Platform
from fapiao.webhooks import service

log = logging.getLogger("fapiao.relay")


class Relay:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.mail = MailSender(platform)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> dict[str, int]:
        """One pass: every pending event fanned out, one batch of due deliveries sent."""
        platform, settings = self.platform, self.platform.settings
        database = platform.database
        with database.transaction() as session:
            events = service.fan_out(session, platform.clock.now())
        # Claim no more than can be sent, one after another, well within the lease.
        limit = max(
            1, min(20, int(settings.relay_lease_seconds / settings.webhook_timeout_seconds) - 1)
        )
        with database.transaction() as session:
            claimed = service.claim(
                session, platform.clock.now(), settings.relay_lease_seconds, limit=limit
            )
        done = {"events": events, "sent": 0, "delivered": 0, "retrying": 0, "dead": 0}
        for item in claimed:
            outcome = service.send(
                item,
                platform.clock.now(),
                settings.webhook_timeout_seconds,
                settings.webhook_allow_private,
            )
            with database.transaction() as session:
                status = service.record(
                    session,
                    item,
                    outcome,
                    platform.clock.now(),
                    max_attempts=settings.webhook_max_attempts,
                    base=settings.webhook_backoff_base_seconds,
                    cap=settings.webhook_backoff_cap_seconds,
                )
            done["sent"] += 1
            bucket = "retrying" if status == "pending" else status
            done[bucket] = done.get(bucket, 0) + 1
            if status == "dead":
                log.warning(
                    "webhook delivery %d dead after %d attempts", item.delivery_id, item.attempt
                )
        return done

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.run_once()
            except Exception:  # the next pass tries again
                log.exception("relay pass failed")
                done = {}
            try:
                mailed = self.mail.run_once()
            except Exception:
                log.exception("mail pass failed")
                mailed = {}
            busy = done.get("events") or done.get("sent") or mailed.get("queued")
            if not busy and not mailed.get("sent"):
                self._stop.wait(self.platform.settings.relay_poll_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="fapiao-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
