"""Time as the services see it: a real clock, and a fake one tests move by hand."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Protocol

UTC = dt.UTC


class Clock(Protocol):
    """Where the scheduler gets the time and waits for it."""

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    async def sleep_until(self, when: dt.datetime) -> None:
        """Return once `now()` has reached `when` (at once if it already has)."""
        ...


def require_aware(when: dt.datetime, what: str = "datetime") -> dt.datetime:
    """`when` in UTC; a naive datetime is a bug, so it is refused rather than guessed."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {when.isoformat()}")
    return when.astimezone(UTC)


class SystemClock:
    """The wall clock."""

    # Sleep in bounded steps and re-read the wall clock after each: asyncio sleeps on the
    # monotonic clock, which does not follow NTP corrections or a suspended laptop.
    max_step: float = 300.0

    def now(self) -> dt.datetime:
        """The current instant in UTC."""
        return dt.datetime.now(UTC)

    async def sleep_until(self, when: dt.datetime) -> None:
        """Sleep until the wall clock reaches `when`."""
        when = require_aware(when, "sleep_until")
        while True:
            remaining = (when - self.now()).total_seconds()
            if remaining <= 0:
                return
            # The small floor stops a spin when the event loop wakes a hair early.
            await asyncio.sleep(min(max(remaining, 0.001), self.max_step))


class FakeClock:
    """A clock that only moves when a test moves it; nothing ever sleeps for real."""

    # `advance` and `set` step through every wake-up on the way, like a real day passing: each
    # sleeper due by then is woken at its own instant, and the step waits until each woken
    # sleeper has gone back to sleep (the scheduler finished its pass) before moving on.

    def __init__(self, start: dt.datetime, *, settle_timeout: float = 5.0) -> None:
        self._now = require_aware(start, "FakeClock start")
        self._sleepers: list[tuple[dt.datetime, asyncio.Future[None]]] = []
        self._entered = 0  # sleep_until calls so far, blocking or not
        self._entered_event = asyncio.Event()
        self.settle_timeout = settle_timeout

    def now(self) -> dt.datetime:
        """The fake current instant."""
        return self._now

    @property
    def sleepers(self) -> int:
        """How many callers are blocked in `sleep_until`."""
        return len(self._sleepers)

    @property
    def entered(self) -> int:
        """How many times `sleep_until` has been called; pass it to `settle`."""
        return self._entered

    def next_wake(self) -> dt.datetime | None:
        """The earliest instant a sleeper waits for."""
        return min((when for when, _ in self._sleepers), default=None)

    async def sleep_until(self, when: dt.datetime) -> None:
        """Block until a test moves the clock to `when` or past it."""
        when = require_aware(when, "sleep_until")
        self._entered += 1
        self._entered_event.set()
        if when <= self._now:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (when, future)
        self._sleepers.append(entry)
        try:
            await future
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    async def settle(self, entered: int) -> None:
        """Wait until `sleep_until` has been called more than `entered` times in total."""
        limit = self.settle_timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while self._entered <= entered:
            self._entered_event.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"nothing went back to sleep within {limit}s of real time "
                    f"(sleep_until called {self._entered} times, waited for more than {entered})"
                )
            try:
                await asyncio.wait_for(self._entered_event.wait(), remaining)
            except TimeoutError:
                continue

    async def set(self, when: dt.datetime) -> None:
        """Move to `when`, waking every sleeper on the way at its own instant."""
        target = require_aware(when, "FakeClock.set")
        if target < self._now:
            raise ValueError(f"the clock cannot go back from {self._now} to {target}")
        while True:
            due = [entry for entry in self._sleepers if entry[0] <= target]
            if not due:
                break
            step = min(when for when, _ in due)
            self._now = max(self._now, step)
            woken = [entry for entry in self._sleepers if entry[0] <= self._now]
            mark = self._entered
            for entry in woken:
                self._sleepers.remove(entry)
                if not entry[1].done():
                    entry[1].set_result(None)
            # Each woken sleeper is expected to sleep again once it has done its work.
            await self.settle(mark + len(woken) - 1)
        self._now = target
        await asyncio.sleep(0)

    async def advance(self, delta: dt.timedelta) -> None:
        """Move forward by `delta` (see `set`)."""
        if delta < dt.timedelta(0):
            raise ValueError("the clock cannot go back")
        await self.set(self._now + delta)
