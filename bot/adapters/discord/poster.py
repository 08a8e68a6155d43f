"""Deliver digests to Discord channels: the scheduler's Poster, in discord.py terms."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import discord

from bot import limits
from bot.adapters.discord.embeds import render_pages
from bot.adapters.discord.respond import NO_MENTIONS
from bot.digest.scheduler import DeliveryForbidden, DeliveryGone
from bot.reply import Reply

log = logging.getLogger(__name__)

# Discord allows a bot 50 requests/s in all. discord.py does not pace itself against that
# global limit: it sends until Discord answers 429, then sleeps. A fan-out to thousands of
# channels then draws a 429 for almost every other request (Discord bans an IP for an hour after
# 10,000 invalid requests in 10 minutes), and a send that meets five 429s in a row fails.
# Pacing digests a little under the limit leaves room for the bot's other requests and for
# jitter in when requests reach Discord, and costs nothing in throughput.
DIGEST_REQUESTS_PER_SECOND = 46.0  # the default of BRIEFBOT_SEND_RATE
# How often a send woken late gives up its turn for a new one before it goes anyway.
LATE_RETRIES = 3


class Pacer:
    """Spaces callers evenly at `per_second`: each `wait()` returns one interval after the last."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`clock` and `sleep` default to the event loop's; tests pass fakes."""
        if per_second <= 0:
            raise ValueError(f"per_second must be positive, got {per_second}")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0  # clock time of the next free slot

    async def wait(self) -> None:
        """Return at this caller's turn (at once when the pacer has been idle)."""
        now = self._clock() if self._clock is not None else asyncio.get_running_loop().time()
        # Reserve the slot before sleeping, so concurrent callers queue up behind each other.
        turn = max(now, self._next)
        self._next = turn + self.interval
        if turn > now:
            await self._sleep(turn - now)


class SharedPacer:
    """Paces through a send budget every process shares (the store's `reserve_send`)."""

    def __init__(
        self,
        per_second: float,
        reserve: Callable[[float], Awaitable[float]],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError(f"per_second must be positive, got {per_second}")
        self.per_second = per_second
        self._reserve = reserve
        self._sleep = sleep

    async def wait(self) -> None:
        """Return at this caller's turn among every process's sends."""
        loop = asyncio.get_running_loop()
        interval = 1.0 / self.per_second
        for _ in range(LATE_RETRIES):
            delay = await self._reserve(self.per_second)
            turn = loop.time() + delay
            if delay > 0:
                await self._sleep(delay)
            # Woken well after its turn (a busy loop): sending now would crowd the turns of
            # the sends after it, so take a new turn and leave this one empty.
            if loop.time() - turn <= interval:
                return
        # Late again and again: this process is too busy to keep time; send (paced by the
        # turns it gave up) rather than never.


class DiscordPoster:
    """Posts digests with a nonce Discord deduplicates; names failures the scheduler acts on."""

    def __init__(
        self,
        client: discord.Client,
        *,
        per_second: float | None = None,
        budget: Callable[[float], Awaitable[float]] | None = None,
    ) -> None:
        """`per_second` defaults to DIGEST_REQUESTS_PER_SECOND; 0 sends unpaced. `budget`
        (the store's `reserve_send`) shares the pace with every other process."""
        self.client = client
        rate = DIGEST_REQUESTS_PER_SECOND if per_second is None else per_second
        self.pacer: Pacer | SharedPacer | None = None
        if rate > 0:
            self.pacer = SharedPacer(rate, budget) if budget is not None else Pacer(rate)

    async def post(self, channel_id: int, reply: Reply, nonce: str) -> int:
        """Send the digest; return the id of its (first) message."""
        # No fetch first: a partial messageable costs no request, and a missing channel
        # shows up as the send's own 404.
        channel = self.client.get_partial_messageable(channel_id)
        pages = render_pages(reply)
        first: int | None = None
        for number, page in enumerate(pages, start=1):
            # Each page is its own idempotent send: page 1 uses the slot's nonce, later pages a
            # suffix of it, so a retried digest never duplicates any page.
            page_nonce = nonce if number == 1 else f"{nonce}/{number}"[-limits.NONCE :]
            if self.pacer is not None:
                await self.pacer.wait()
            try:
                message = await channel.send(
                    embed=page, nonce=page_nonce, allowed_mentions=NO_MENTIONS
                )
            except discord.NotFound as exc:
                raise DeliveryGone(f"{exc.text} ({exc.status})") from exc
            except discord.Forbidden as exc:
                raise DeliveryForbidden(f"{exc.text} ({exc.status})") from exc
            first = first if first is not None else message.id
        assert first is not None
        return first
