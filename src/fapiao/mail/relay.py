"""One pass of the mail sender, run by the relay loop after the webhooks."""

from __future__ import annotations

import logging
import ssl
import time

from fapiao.kit.mail import parse_smtp_url
from fapiao.mail import service
from fapiao.platform import Platform

log = logging.getLogger("fapiao.mail")


class MailSender:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        settings = platform.settings
        self.server = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
        self.tls: ssl.SSLContext | None = None
        if settings.smtp_ca_file is not None:
            self.tls = ssl.create_default_context(cafile=str(settings.smtp_ca_file))

    def run_once(self) -> dict[str, int]:
        """Notice events become messages; with a server configured, one batch of due
        messages is sent. Without one they stay pending (the trace says why)."""
        platform, settings = self.platform, self.platform.settings
        database = platform.database
        with database.transaction() as session:
            queued = service.take_events(session, platform.clock.now())
        done = {"queued": queued, "sent": 0, "delivered": 0, "retrying": 0, "dead": 0}
        if self.server is None:
            return done
        limit = max(
            1, min(20, int(settings.relay_lease_seconds / settings.smtp_timeout_seconds) - 1)
        )
        with database.transaction() as session:
            claimed = service.claim(
                session, platform.clock.now(), settings.relay_lease_seconds, limit=limit
            )
        # An SMTP exchange is several steps, each allowed the timeout. A message is only
        # begun while it can still be recorded within the lease; the rest of the claim is
        # left to run out and is claimed again (never sent twice).
        last_start = (
            time.monotonic() + settings.relay_lease_seconds - 5 * settings.smtp_timeout_seconds
        )
        for index, item in enumerate(claimed):
            if index and time.monotonic() > last_start:
                break
            outcome = service.send(
                item,
                self.server,
                settings.mail_from,
                platform.clock.now(),
                settings.smtp_timeout_seconds,
                self.tls,
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
            log.info(
                "mail %d attempt %d: %s",
                item.message_id,
                item.attempt,
                outcome.reply_code if outcome.error is None else outcome.error,
            )
            done["sent"] += 1
            bucket = {"sent": "delivered", "pending": "retrying"}.get(status, status)
            done[bucket] = done.get(bucket, 0) + 1
            if status == "dead":
                log.warning("mail %d dead after %d attempts", item.message_id, item.attempt)
        return done
