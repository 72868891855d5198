"""Number blocks: reserved ahead, never handed out twice. SQLite and PostgreSQL."""

from __future__ import annotations

from fapiao.platform import NumberAllocator, Platform

PREFIX = "26111"  # 2026, Beijing (11), channel 1


def test_the_next_block_is_reserved_before_the_current_one_runs_out(platform: Platform) -> None:
    numbers = NumberAllocator(platform.database, block_size=10)
    assert numbers.next_nowait(PREFIX) is None  # nothing reserved yet
    taken = [numbers.next(PREFIX) for _ in range(5)]
    assert not numbers.wants_block(PREFIX)  # half a block left: not yet
    taken.append(numbers.next(PREFIX))
    assert numbers.wants_block(PREFIX)  # four left: time to reserve
    assert not numbers.wants_block(PREFIX)  # asked once until the reservation ends
    numbers.reserve(PREFIX)
    taken += [numbers.next_nowait(PREFIX) or "" for _ in range(14)]
    assert numbers.next_nowait(PREFIX) is None  # both blocks used up
    assert [int(n[-15:]) for n in taken] == list(range(1, 21))


def test_two_allocators_never_share_a_number(platform: Platform) -> None:
    first = NumberAllocator(platform.database, block_size=4)
    second = NumberAllocator(platform.database, block_size=4)
    taken = []
    for _ in range(10):
        taken.append(first.next(PREFIX))
        taken.append(second.next(PREFIX))
        if first.wants_block(PREFIX):
            first.reserve(PREFIX)
    assert len(set(taken)) == 20
    assert all(n.startswith(PREFIX) and len(n) == 20 for n in taken)
