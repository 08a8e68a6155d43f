"""PostgreSQL lost while the bot runs: /digest answers "temporarily unavailable", the digest
due meanwhile waits, and once the server is back it is posted within the grace window, once.

Real discord.py against the fake Discord, the real PostgreSQL store on its own throwaway
server (stopped with `pg_ctl -m immediate`, as a crash or an outage would, and started again).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.digest.scheduler import RETRY_FIRST, digest_nonce
from bot.settings import Settings
from bot.store import open_store
from bot.store.records import SlotState
from tests.commands.test_digest_e2e import MANAGER, START, Harness
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord, run_client
from tests.pgcluster import PgCluster


@pytest.fixture
async def server() -> AsyncIterator[PgCluster]:
    cluster = PgCluster(durable=True)  # its own server: this one is stopped and started again
    try:
        await asyncio.to_thread(cluster.start)
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop)


async def test_postgresql_outage_is_temporary_and_the_digest_catches_up_once(
    briefs_dir: Path, fake_discord: FakeDiscord, server: PgCluster
) -> None:
    fake = fake_discord
    url = await server.create_database()
    clock = FakeClock(START)  # 07:00 UTC
    settings = Settings(
        briefs_dir=briefs_dir, dev_guild_id=fake.guild_id, reload_seconds=0, database=url
    )
    async with await open_store(url, clock=clock) as store:
        bot = BriefBot(settings=settings, library=LiveLibrary(briefs_dir), store=store, clock=clock)
        async with run_client(bot, fake):
            h = Harness(bot, fake, clock, Path())
            await h.scheduler_idle()
            await h.subscribe(time="08:00", timezone="UTC")

            await asyncio.to_thread(server.halt)
            # A command that needs the database says so, privately, and asks to retry.
            body = await fake.invoke("digest status", {}, permissions=MANAGER)
            assert body["data"]["flags"] & (1 << 6)
            [embed] = body["data"]["embeds"]
            assert "temporarily unavailable" in embed["title"]
            assert "try again" in embed["description"]

            # Due at 08:00 while the database is down: nothing is sent, the pass retries.
            await clock.set(dt.datetime(2026, 3, 5, 8, 0, tzinfo=dt.UTC))
            await h.scheduler_idle()
            assert h.digests() == []

            await asyncio.to_thread(server.resume)
            # Well within the 3 h grace window: the retry posts it.
            await clock.advance(RETRY_FIRST)
            await h.scheduler_idle()
            await clock.advance(RETRY_FIRST * 2)  # more passes post nothing more
            await h.scheduler_idle()
            [digest] = h.digests()
            assert digest["nonce"] == digest_nonce(fake.channel_id, START.date(), dt.time(8, 0))
            slot = await store.get_slot(fake.channel_id, START.date())
            assert slot is not None and slot.state is SlotState.SENT
            body = await fake.invoke("digest status", {}, permissions=MANAGER)
            assert "temporarily unavailable" not in str(body)
