"""Whether the platform is ready for traffic: the checks behind GET /readyz, shared with
the officers' dashboard so both say the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fapiao import migrate
from fapiao.platform import Platform


@dataclass(frozen=True)
class Readiness:
    database: bool  # the database answers
    schema_current: bool  # its schema is the code's
    maintenance_until: datetime | None  # a maintenance window in force, until then
    retry_after: int | None = None

    @property
    def ready(self) -> bool:
        return self.database and self.schema_current and self.maintenance_until is None


def readiness(platform: Platform) -> Readiness:
    try:
        current = migrate.is_current(platform.database)
    except Exception:
        return Readiness(database=False, schema_current=False, maintenance_until=None)
    if not current:
        return Readiness(database=True, schema_current=False, maintenance_until=None)
    window = platform.maintenance.current()
    if window is not None:
        return Readiness(True, True, window.until, window.retry_after(platform.clock.now()))
    return Readiness(database=True, schema_current=True, maintenance_until=None)
