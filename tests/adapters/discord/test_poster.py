"""The digest pacer keeps a fan-out under Discord's global limit of 50 requests a second."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.discord.poster import DIGEST_REQUESTS_PER_SECOND, Pacer
from tests.shared import discord_fact_number


class FakeTime:
    """A clock that moves only when someone sleeps; records when each caller got its turn."""

    def __init__(self) -> None:
        self.now = 100.0
        self.turns: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


async def paced(pacer: Pacer, time: FakeTime) -> None:
    await pacer.wait()
    time.turns.append(time.now)


async def test_senders_are_spaced_one_interval_apart() -> None:
    time = FakeTime()
    pacer = Pacer(50, clock=time.clock, sleep=time.sleep)
    for _ in range(5):
        await paced(pacer, time)
    gaps = [round(b - a, 9) for a, b in zip(time.turns, time.turns[1:], strict=False)]
    assert time.turns[0] == 100.0  # an idle pacer lets the first caller through at once
    assert gaps == [0.02] * 4


async def test_an_idle_pacer_does_not_make_up_for_lost_time() -> None:
    time = FakeTime()
    pacer = Pacer(10, clock=time.clock, sleep=time.sleep)
    await paced(pacer, time)
    time.now += 60  # a quiet minute: no burst of saved-up slots afterwards
    await paced(pacer, time)
    await paced(pacer, time)
    assert time.turns[1:] == [160.0, pytest.approx(160.1)]


async def test_callers_arriving_together_queue_up() -> None:
    # Ten sends at the same instant: each reserves the next slot before sleeping, so they wait
    # one, two, three … intervals instead of all waking together.
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 9))

    pacer = Pacer(50, clock=lambda: 100.0, sleep=sleep)
    await asyncio.gather(*(pacer.wait() for _ in range(10)))
    assert slept == [round(0.02 * n, 9) for n in range(1, 10)]


def test_digest_pace_stays_under_discords_global_limit() -> None:
    limit = discord_fact_number("global HTTP rate limit")
    assert 0.9 * limit <= DIGEST_REQUESTS_PER_SECOND < limit


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(0)
