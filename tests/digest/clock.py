"""A clock that only moves when a test moves it (the real one is bot.clock.SystemClock)."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.clock import require_aware


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
