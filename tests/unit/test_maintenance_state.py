"""The per-process cache of the maintenance window: one read a second, exact end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fapiao.kit.clock import FixedClock
from fapiao.maintenance.service import MaintenanceState, Window

START = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
WINDOW = Window(starts_at=START, until=START + timedelta(seconds=90), set_by="officer")


def test_reads_at_most_once_a_second_and_ends_on_time() -> None:
    clock = FixedClock(START)
    reads: list[datetime] = []

    def load(now: datetime) -> Window | None:
        reads.append(now)
        return WINDOW if WINDOW.active(now) else None

    state = MaintenanceState(load, clock)
    for _ in range(100):
        assert state.current() == WINDOW
    assert len(reads) == 1
    clock.advance(timedelta(milliseconds=999))
    assert state.current() == WINDOW and len(reads) == 1
    clock.advance(timedelta(milliseconds=1))
    assert state.current() == WINDOW and len(reads) == 2
    clock.set(START + timedelta(seconds=90))  # the cached window is over at once
    _, window = state.cached(clock.now())
    assert window is None
    assert WINDOW.retry_after(START + timedelta(seconds=89, milliseconds=1)) == 1


def test_a_failed_read_keeps_the_last_window() -> None:
    clock = FixedClock(START)
    answers: list[Window | Exception | None] = [WINDOW, RuntimeError("database down"), None]

    def load(now: datetime) -> Window | None:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    state = MaintenanceState(load, clock)
    assert state.current() == WINDOW
    clock.advance(timedelta(seconds=1))
    assert state.current() == WINDOW  # the read failed: what was known stands
    clock.advance(timedelta(seconds=1))
    assert state.current() is None


def test_only_one_caller_refreshes_a_stale_window() -> None:
    clock = FixedClock(START)
    state = MaintenanceState(lambda now: WINDOW, clock)
    state.current()
    clock.advance(timedelta(seconds=2))
    first = state.cached(clock.now())
    second = state.cached(clock.now())
    assert first == (False, WINDOW)  # this one reads the database...
    assert second == (True, WINDOW)  # ...the others use what is known meanwhile
    state.refresh(clock.now())
    assert state.cached(clock.now()) == (True, WINDOW)


def test_a_window_about_to_start_closes_writes_at_its_start_not_at_the_next_read() -> None:
    clock = FixedClock(START - timedelta(milliseconds=400))
    reads: list[datetime] = []

    def load(now: datetime) -> Window | None:
        reads.append(now)
        return WINDOW  # the loader names it ahead of its start

    state = MaintenanceState(load, clock)
    assert state.current() is None  # not in force yet
    clock.set(START)
    assert state.current() == WINDOW and len(reads) == 1
