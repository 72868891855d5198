"""The relay loop: fan out and claim, send on a small pool of threads, record — until
stopped; and, on a thread of its own, the buyers' e-mail notices.

One write transaction fans out new events and claims due deliveries; the claimed
deliveries are sent concurrently; the outcomes that are in are recorded together in one
more transaction. A slow receiver does not hold up the others: the loop records what has
finished, claims more while there is room, and leaves the slow send in flight. When
there is nothing to do, an idle relay looks for work every `FAPIAO_RELAY_POLL_SECONDS`
with a read-only query (on SQLite that takes no write lock)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from fapiao.mail.relay import MailSender
from fapiao.platform import Platform
from fapiao.webhooks import service

log = logging.getLogger("fapiao.relay")

# How long the loop lets sends that are still running finish before it records the rest
# and looks for more work.
GRACE_SECONDS = 0.05


class Relay:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.mail = MailSender(platform)
        self._mail_thread: threading.Thread | None = None
        settings = platform.settings
        self.threads = settings.relay_send_threads
        # No more in flight than the threads can send within the lease even if every
        # receiver takes the whole timeout: a lease never runs out under a live relay.
        tries_per_lease = int(settings.relay_lease_seconds / settings.webhook_timeout_seconds) - 1
        self.capacity = max(1, min(200, self.threads * tries_per_lease))
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: dict[Future[service.Outcome], service.Claimed] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> dict[str, int]:
        """One pass: every pending event fanned out, one batch of due deliveries sent and
        every outcome recorded."""
        done = self._claim_and_send()
        while self._in_flight:
            self._record(done, wait_all=True)
        return done

    def _claim_and_send(self) -> dict[str, int]:
        platform, settings = self.platform, self.platform.settings
        room = self.capacity - len(self._in_flight)
        with platform.database.transaction() as session:
            events = service.fan_out(session, platform.clock.now())
            claimed = (
                service.claim(
                    session, platform.clock.now(), settings.relay_lease_seconds, limit=room
                )
                if room > 0
                else []
            )
        if claimed and self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="fapiao-relay-send")
        for item in claimed:
            assert self._pool is not None
            future = self._pool.submit(
                service.send,
                item,
                platform.clock.now(),
                settings.webhook_timeout_seconds,
                settings.webhook_allow_private,
            )
            self._in_flight[future] = item
        return {
            "events": events,
            "claimed": len(claimed),
            "sent": 0,
            "delivered": 0,
            "retrying": 0,
            "dead": 0,
        }

    def _record(self, done: dict[str, int], *, wait_all: bool) -> None:
        """Wait a moment for the sends in flight (until they have all finished when
        `wait_all`), then record every finished one in one transaction."""
        if not self._in_flight:
            return
        wait(self._in_flight, timeout=None if wait_all else GRACE_SECONDS)
        finished = [future for future in self._in_flight if future.done()]
        outcomes = [(self._in_flight.pop(future), future.result()) for future in finished]
        if not outcomes:
            return
        platform, settings = self.platform, self.platform.settings
        with platform.database.transaction() as session:
            statuses = service.record_all(
                session,
                outcomes,
                platform.clock.now(),
                max_attempts=settings.webhook_max_attempts,
                base=settings.webhook_backoff_base_seconds,
                cap=settings.webhook_backoff_cap_seconds,
            )
        for (item, _), status in zip(outcomes, statuses, strict=True):
            done["sent"] = done.get("sent", 0) + 1
            bucket = "retrying" if status == "pending" else status
            done[bucket] = done.get(bucket, 0) + 1
            if status == "dead":
                log.warning(
                    "webhook delivery %d dead after %d attempts", item.delivery_id, item.attempt
                )

    def _has_work(self) -> bool:
        with self.platform.database.transaction(write=False) as session:
            return service.has_work(session, self.platform.clock.now())

    def run_forever(self) -> None:
        poll = self.platform.settings.relay_poll_seconds
        found = False
        while not self._stop.is_set():
            try:
                done: dict[str, int] = {}
                # After a pass that found work, more is likely: no need to look first.
                if len(self._in_flight) < self.capacity and (found or self._has_work()):
                    done = self._claim_and_send()
                found = bool(done.get("events") or done.get("claimed"))
                busy = bool(self._in_flight)
                self._record(done, wait_all=False)
            except Exception:  # the next pass tries again; an outcome that could not be
                log.exception("relay pass failed")  # recorded is sent again after its lease
                busy = found = False
            if not busy and not found:
                self._stop.wait(poll)

    def run_mail_forever(self) -> None:
        """The buyers' e-mail notices, on a thread of their own: a slow mail server holds
        up neither the webhooks nor the recording of their outcomes within their leases.
        A pass opens a write transaction: no more often than the poll interval unless it
        had something to do."""
        poll = self.platform.settings.relay_poll_seconds
        while not self._stop.is_set():
            try:
                mailed = self.mail.run_once()
            except Exception:
                log.exception("mail pass failed")
                mailed = {}
            if not (mailed.get("queued") or mailed.get("sent")):
                self._stop.wait(poll)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="fapiao-relay", daemon=True)
        self._thread.start()
        self._mail_thread = threading.Thread(
            target=self.run_mail_forever, name="fapiao-mail", daemon=True
        )
        self._mail_thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._mail_thread is not None:
            self._mail_thread.join(timeout=30)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
