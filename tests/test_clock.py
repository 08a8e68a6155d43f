"""The clocks (the fake one moves only when told and never sleeps), time zones, HH:MM."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from bot.clock import SystemClock, Zone, format_time
from tests.digest.clock import FakeClock

UTC = dt.UTC
START = dt.datetime(2026, 3, 8, 0, 0, tzinfo=UTC)


async def test_a_day_long_sleep_ends_when_the_test_moves_time_not_in_real_time() -> None:
    clock = FakeClock(START)
    woke: list[dt.datetime] = []

    async def sleeper() -> None:
        for hours in (6, 12):
            await clock.sleep_until(START + dt.timedelta(hours=hours))
            woke.append(clock.now())
        await clock.sleep_until(START + dt.timedelta(days=30))

    task = asyncio.create_task(sleeper())
    await clock.settle(0)
    began = time.monotonic()
    await clock.advance(dt.timedelta(days=1))
    assert time.monotonic() - began < 1
    # Each wake-up happened at its own instant, not at the end of the jump.
    assert woke == [START + dt.timedelta(hours=6), START + dt.timedelta(hours=12)]
    assert clock.now() == START + dt.timedelta(days=1)
    assert clock.sleepers == 1
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert clock.sleepers == 0


async def test_sleeping_until_the_past_returns_at_once() -> None:
    clock = FakeClock(START)
    await asyncio.wait_for(clock.sleep_until(START - dt.timedelta(hours=1)), 1)


async def test_naive_datetimes_and_going_back_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(dt.datetime(2026, 3, 8))
    clock = FakeClock(START)
    with pytest.raises(ValueError, match="timezone-aware"):
        await clock.sleep_until(dt.datetime(2026, 3, 9))
    with pytest.raises(ValueError, match="go back"):
        await clock.set(START - dt.timedelta(seconds=1))


async def test_settle_reports_a_task_that_never_sleeps_again() -> None:
    clock = FakeClock(START, settle_timeout=0.05)
    with pytest.raises(TimeoutError, match="nothing went back to sleep"):
        await clock.settle(clock.entered)


async def test_system_clock_is_aware_utc_and_sleeps_to_the_wall_clock() -> None:
    clock = SystemClock()
    now = clock.now()
    assert now.tzinfo is UTC
    await clock.sleep_until(now + dt.timedelta(milliseconds=20))
    assert clock.now() >= now + dt.timedelta(milliseconds=20)
    with pytest.raises(ValueError, match="timezone-aware"):
        await clock.sleep_until(dt.datetime(2026, 3, 9))


def test_a_zone_is_validated_once_and_compared_by_its_key() -> None:
    london = Zone.named("Europe/London")
    assert london.rules is not None and london.rules.key == "Europe/London"
    assert london == Zone.stored("Europe/London")
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Olympus'"):
        Zone.named("Mars/Olympus")


def test_a_stored_zone_this_host_does_not_know_is_kept_without_rules() -> None:
    gone = Zone.stored("Atlantis/Poseidonis")
    assert gone.key == "Atlantis/Poseidonis" and gone.rules is None


def test_times_of_day_are_written_as_hh_mm() -> None:
    assert format_time(dt.time(8, 5)) == "08:05"
    assert format_time(dt.time(18, 30, 59)) == "18:30"
