"""PostgreSQL goes silent while the bot runs (the whole server frozen with SIGSTOP: nothing is
refused or closed, nothing answers). Commands still answer "temporarily unavailable" inside
Discord's 3 s, and a digest due meanwhile is posted exactly once after the server resumes,
also when the server froze right after Discord took the digest.

Real discord.py against the fake Discord (which enforces the 3 s callback deadline), the real
PostgreSQL store with its default call timeout, on its own throwaway server.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.digest.scheduler import RETRY_FIRST, digest_nonce
from bot.settings import Settings
from bot.store import DEFAULT_TIMEOUT, open_store
from bot.store.records import SlotState
from tests.commands.digest_world import EPHEMERAL, MANAGER, START, Harness
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord, run_client
from tests.fakediscord.base import RecordedRequest
from tests.pgcluster import PgCluster

pytestmark = pytest.mark.timeout(120)

DUE = dt.datetime(2026, 3, 5, 8, 0, tzinfo=dt.UTC)
DEADLINE = 3.0  # Discord's, for a command's first answer (the fake enforces it)


class Frozen:
    """Freezes every process of a cluster (postmaster first, so it spawns nothing) and always
    resumes them."""

    def __init__(self, cluster: PgCluster) -> None:
        self.cluster = cluster
        self.pids: list[int] = []

    def _processes(self) -> list[int]:
        postmaster = int((self.cluster.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                # The fields after the command name: state, then the parent pid.
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:
                    children.append(int(stat.parent.name))
        return [postmaster, *children]

    def freeze(self) -> None:
        self.pids = self._processes()
        for pid in self.pids:
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.pids = []

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        try:
            self.freeze()
            yield
        finally:
            self.thaw()


@pytest.fixture
async def server() -> AsyncIterator[PgCluster]:
    cluster = PgCluster(durable=True)  # its own server: this one is frozen
    try:
        await asyncio.to_thread(cluster.start)
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop)


@contextlib.asynccontextmanager
async def running_bot(
    briefs_dir: Path, fake: FakeDiscord, url: str, clock: FakeClock
) -> AsyncIterator[Harness]:
    settings = Settings(
        briefs_dir=briefs_dir, dev_guild_id=fake.guild_id, reload_seconds=0, database=url
    )
    # The default call timeout, as `briefbot run` uses unless BRIEFBOT_DB_TIMEOUT says otherwise.
    async with await open_store(url, clock=clock, call_timeout=settings.db_timeout) as store:
        bot = BriefBot(settings=settings, library=LiveLibrary(briefs_dir), store=store, clock=clock)
        async with run_client(bot, fake):
            h = Harness(bot, fake, clock, url)
            await h.scheduler_idle()
            yield h


async def answered(fake: FakeDiscord, command: str, options: dict[str, Any]) -> tuple[float, str]:
    """How long the bot took to answer a command, and what it said (checked private)."""
    started = time.monotonic()
    body = await fake.invoke(command, options, permissions=MANAGER)
    took = time.monotonic() - started
    assert body["data"]["flags"] & EPHEMERAL
    return took, str(body["data"])


async def test_a_frozen_server_is_answered_promptly_and_the_digest_catches_up_once(
    briefs_dir: Path, fake_discord: FakeDiscord, server: PgCluster
) -> None:
    fake = fake_discord
    url = await server.create_database()
    clock = FakeClock(START)  # 07:00 UTC
    frozen = Frozen(server)
    async with running_bot(briefs_dir, fake, url, clock) as h:
        await h.subscribe(time="08:00", timezone="UTC")
        with frozen.held():
            # A read (its own "unavailable" reply) and a write (through the error handler):
            # both answered privately within Discord's deadline, never "did not respond".
            took_read, said = await answered(fake, "digest status", {})
            assert "temporarily unavailable" in said and "try again" in said
            assert DEFAULT_TIMEOUT <= took_read < DEADLINE
            await asyncio.sleep(1.1)  # past the pause after a timeout: this one waits again
            took_write, said = await answered(fake, "digest pause", {})
            assert "temporarily unavailable" in said
            assert took_write < DEADLINE

            # Due at 08:00 while the server is frozen: the pass gives up, nothing is sent.
            await clock.set(DUE)
            await asyncio.sleep(DEFAULT_TIMEOUT + 0.5)
            await h.scheduler_idle()
            assert h.digests() == []
        # Resumed, well within the grace window: the retry posts it, and later passes do not.
        await clock.advance(RETRY_FIRST)
        await h.scheduler_idle()
        await clock.advance(RETRY_FIRST * 2)
        await h.scheduler_idle()
        [digest] = h.digests()
        assert digest["nonce"] == digest_nonce(fake.channel_id, START.date(), dt.time(8, 0))
        slot = await h.store.get_slot(fake.channel_id, START.date())
        assert slot is not None and slot.state is SlotState.SENT
        _, said = await answered(fake, "digest status", {})
        assert "temporarily unavailable" not in said
        # The pause asked for while frozen did not happen.
        sub = await h.store.get(fake.channel_id)
        assert sub is not None and sub.pause_kind is None
    print(
        f"\nfrozen server: /digest status answered in {took_read:.2f} s, /digest pause in "
        f"{took_write:.2f} s (call timeout {DEFAULT_TIMEOUT:g} s, Discord's deadline 3 s)"
    )


async def test_a_server_frozen_right_after_discord_took_the_digest_does_not_post_it_twice(
    briefs_dir: Path, fake_discord: FakeDiscord, server: PgCluster
) -> None:
    fake = fake_discord
    url = await server.create_database()
    clock = FakeClock(START)
    frozen = Frozen(server)
    messages = re.compile(rf"/channels/{fake.channel_id}/messages$")
    handle = fake._handle
    froze_after: list[RecordedRequest] = []

    async def freeze_after_the_post(
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        record: RecordedRequest,
    ) -> web.StreamResponse:
        response = await handle(request, handler, record)
        if record.method == "POST" and messages.search(record.path) and not froze_after:
            # Discord has the digest; the bot has not yet recorded it as sent.
            froze_after.append(record)
            frozen.freeze()
        return response

    try:
        async with running_bot(briefs_dir, fake, url, clock) as h:
            await h.subscribe(time="08:00", timezone="UTC")
            fake._handle = freeze_after_the_post  # type: ignore[method-assign]
            await clock.set(DUE)
            for _ in range(100):
                if froze_after:
                    break
                await asyncio.sleep(0.05)
            assert froze_after, "the digest was never posted"
            await asyncio.sleep(DEFAULT_TIMEOUT + 0.5)  # recording it times out meanwhile
            await h.scheduler_idle()
            frozen.thaw()
            assert len(h.digests()) == 1

            # The pass is retried: the slot's claim is resumed and resent with its nonce, and
            # Discord answers with the message it already has.
            for _ in range(3):
                await clock.advance(RETRY_FIRST)
                await h.scheduler_idle()
            [digest] = h.digests()
            assert digest["nonce"] == digest_nonce(fake.channel_id, START.date(), dt.time(8, 0))
            slot = await h.store.get_slot(fake.channel_id, START.date())
            assert slot is not None and slot.state is SlotState.SENT
            posts = fake.requests("POST", f"/channels/{fake.channel_id}/messages")
            assert len(posts) >= 1
            assert len(posts) - len(fake.deduplicated()) == 1
            print(
                f"\nfrozen after the post: {len(posts)} POSTs, {len(fake.deduplicated())} "
                "answered by nonce"
            )
    finally:
        frozen.thaw()
