"""The polling loop the bot starts: poll what is due, sleep until the next feed is due."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from bot.clock import Clock
from bot.feeds.poller import FeedPoller

log = logging.getLogger(__name__)

# Even with nothing due, look again this often (a feed added by another process).
IDLE = dt.timedelta(minutes=1)


class FeedLoop:
    """Runs the poller until stopped; `wake()` makes it look at once (a feed was added)."""

    def __init__(self, poller: FeedPoller, clock: Clock) -> None:
        """The loop polls through `poller` and waits on `clock`."""
        self.poller = poller
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.passes = 0
        self._armed = False

    def start(self) -> None:
        """Start polling in the background (once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="feed-loop")

    def wake(self) -> None:
        """Look for due feeds now (starting the loop if it waited for a first feed)."""
        self._wake.set()
        if self._task is None and self._armed:
            self.start()

    async def start_when_needed(self) -> None:
        """Start now if any feed exists, else on the first `wake()`: a bot without feeds
        runs no loop (and never sleeps on the shared clock)."""
        self._armed = True
        if await self.poller.store.all_feeds():
            self.start()

    async def stop(self) -> None:
        """Stop cleanly: a poll in progress is cancelled; claims it held are released."""
        self._armed = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.poller.poll_due()
            except Exception:  # the store hiccuped: log, wait, try again
                log.exception("feed polling pass failed")
            self.passes += 1
            nearest = await self._next_due()
            sleeper = asyncio.create_task(self.clock.sleep_until(nearest))
            waker = asyncio.create_task(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sleeper, waker):
                    task.cancel()
                await asyncio.gather(sleeper, waker, return_exceptions=True)

    async def _next_due(self) -> dt.datetime:
        now = self.clock.now()
        try:
            due = await self.poller.store.next_feed_poll()
        except Exception:
            log.exception("could not read when the next feed is due")
            due = None
        return min(due, now + IDLE) if due is not None else now + IDLE
