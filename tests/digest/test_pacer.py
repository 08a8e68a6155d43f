"""SharedPacer: a send woken late takes a fresh turn instead of crowding others' second."""

from __future__ import annotations

from typing import Any

import pytest

from bot.digest.scheduler import LATE_TURNS, SharedPacer


class Budget:
    """The store's reserve_send, one process's view: turns one interval apart from `next`."""

    def __init__(self) -> None:
        self.next = 0.0
        self.asked = 0

    async def reserve_send(self, interval: float, now: float) -> float:
        self.asked += 1
        turn = max(now, self.next)
        self.next = turn + interval
        return turn


def pacer(budget: Budget, clock: list[float], late: list[float]) -> SharedPacer:
    async def sleep(seconds: float) -> None:
        clock[0] += seconds + (late.pop(0) if late else 0.0)

    store: Any = budget
    return SharedPacer(store, 10, now=lambda: clock[0], sleep=sleep)


async def test_a_send_woken_on_time_goes_at_its_turn() -> None:
    budget, clock = Budget(), [100.0]
    paced = pacer(budget, clock, [0.05])  # 50 ms late: within the 100 ms interval
    await paced.wait()  # the budget was idle: at once
    await paced.wait()
    assert budget.asked == 2 and clock[0] == pytest.approx(100.15)


async def test_a_send_woken_past_its_interval_takes_a_new_turn() -> None:
    budget, clock = Budget(), [100.0]
    paced = pacer(budget, clock, [0.3])  # the loop stalled 300 ms past the turn at 100.1
    await paced.wait()
    await paced.wait()
    # It asked again, and went at the fresh turn, not at the stale one.
    assert budget.asked == 3 and clock[0] == pytest.approx(budget.next - 0.1)


class Crowded(Budget):
    """Other processes always hold the next second."""

    async def reserve_send(self, interval: float, now: float) -> float:
        self.asked += 1
        return now + 1.0


async def test_a_send_always_woken_late_still_goes() -> None:
    budget, clock = Crowded(), [100.0]
    paced = pacer(budget, clock, [1.0] * 10)
    await paced.wait()
    assert budget.asked == LATE_TURNS  # then it went, late, rather than wait for ever
