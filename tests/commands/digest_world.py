"""A running bot for /digest end-to-end tests: its database file, fake clock and fake Discord."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.reply import render_timestamps
from bot.settings import Settings
from bot.store import open_store
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord, run_client
from tests.fakediscord.payloads import MANAGE_CHANNELS, MEMBER_PERMISSIONS

EPHEMERAL = 1 << 6
MANAGER = MEMBER_PERMISSIONS | MANAGE_CHANNELS
# Thursday 5 March 2026, 07:00 in London (GMT, UTC+0).
START = dt.datetime(2026, 3, 5, 7, 0, tzinfo=dt.UTC)


class Harness:
    """A running bot with its database file, clock and fake Discord."""

    def __init__(self, bot: BriefBot, fake: FakeDiscord, clock: FakeClock, db: Path | str) -> None:
        self.bot, self.fake, self.clock, self.db = bot, fake, clock, db

    @property
    def store(self) -> Store:
        """The bot's store."""
        assert self.bot.store is not None
        return self.bot.store

    async def scheduler_idle(self) -> None:
        """Wait until the scheduler has finished its pass and sleeps on the clock."""
        for _ in range(500):
            if self.clock.sleepers:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the scheduler never went to sleep")

    async def subscribe(self, channel: int | None = None, **options: Any) -> dict[str, Any]:
        body = await self.fake.invoke(
            "digest subscribe", options, permissions=MANAGER, channel_id=channel
        )
        await self.scheduler_idle()
        return body

    def digests(self, channel: int | None = None) -> list[dict[str, Any]]:
        return self.fake.messages(channel or self.fake.channel_id)


def run_bot(
    briefs_dir: Path, fake: FakeDiscord, db: Path | str, clock: FakeClock
) -> contextlib.AbstractAsyncContextManager[Harness]:
    """A bot on `db` (a SQLite path or a PostgreSQL URL), started against `fake`; an async
    context manager yielding a Harness."""

    @contextlib.asynccontextmanager
    async def runner() -> AsyncIterator[Harness]:
        settings = Settings(
            briefs_dir=briefs_dir, dev_guild_id=fake.guild_id, reload_seconds=0, database=db
        )
        async with await open_store(db, clock=clock) as store:
            bot = BriefBot(
                settings=settings, library=LiveLibrary(briefs_dir), store=store, clock=clock
            )
            async with run_client(bot, fake):
                h = Harness(bot, fake, clock, db)
                await h.scheduler_idle()
                yield h

    return runner()


def description(body: dict[str, Any]) -> str:
    """An embed's description with its timestamps as London reads them (as a reader there)."""
    text = str(body["data"]["embeds"][0].get("description", ""))
    return render_timestamps(text, ZoneInfo("Europe/London"), START)
