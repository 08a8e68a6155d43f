"""Schedulers of several processes on one database, and a database that breaks while running."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from bot.briefs.library import load_library
from bot.clock import Zone
from bot.digest.scheduler import Action, DigestScheduler, digest_nonce
from bot.digest.service import DigestService, Where
from bot.reply import Status
from bot.store import open_store
from bot.store.records import ClaimOwner
from bot.store.sqlite import Store
from tests.commands.digest_world import run_bot
from tests.digest.clock import FakeClock
from tests.digest.helpers import FakePoster, newest_first
from tests.fakediscord import FakeDiscord

START = dt.datetime(2026, 3, 5, 8, 0, tzinfo=dt.UTC)
DAY = START.date()
AT = dt.time(7, 59)  # every channel's slot time
LEASE = dt.timedelta(seconds=30)
CHANNELS = range(1, 41)
# Another process on another host: only its lease tells whether it is alive.
ELSEWHERE = ClaimOwner("other-host", 4242, "123.abcd")


async def subscribed(path: str | Path, clock: FakeClock, owner: ClaimOwner | None = None) -> Store:
    store = await open_store(path, clock=clock, owner=owner, lease=LEASE)
    for channel in CHANNELS:
        await store.upsert_subscription(
            guild_id=9,
            channel_id=channel,
            local_time=AT,
            timezone=Zone.named("UTC"),
            created_by=1,
        )
    return store


def scheduler(store: Store, clock: FakeClock, poster: FakePoster) -> DigestScheduler:
    briefs = newest_first(3)
    return DigestScheduler(store, clock, lambda: briefs, poster)


async def test_two_processes_due_at_once_post_each_digest_exactly_once(database: str) -> None:
    clock = FakeClock(START - dt.timedelta(hours=1))
    path = database
    poster = FakePoster(clock)  # one Discord for both
    a = await subscribed(path, clock, ELSEWHERE)
    b = await subscribed(path, clock)
    await clock.set(START)
    first, second = await asyncio.gather(
        scheduler(a, clock, poster).run_due(), scheduler(b, clock, poster).run_due()
    )
    sent = Counter(o.channel_id for o in [*first, *second] if o.action is Action.SENT)
    assert sent == Counter(dict.fromkeys(CHANNELS, 1))
    # Each send happened once: no resend, deduplicated or not.
    assert Counter(attempt.channel_id for attempt in poster.attempts) == sent
    assert all(a.nonce == digest_nonce(a.channel_id, DAY, AT) for a in poster.attempts)
    await a.close()
    await b.close()


async def test_a_slot_held_elsewhere_is_resumed_when_its_lease_runs_out(database: str) -> None:
    clock = FakeClock(START - dt.timedelta(hours=1))
    path = database
    poster = FakePoster(clock)
    other = await subscribed(path, clock, ELSEWHERE)
    mine = await subscribed(path, clock)
    await clock.set(START)
    # The other process claimed channel 1 and then hung (or lost its network) mid-send.
    held = await other.claim_slot(1, DAY, digest_nonce(1, DAY, AT), (), slot_time=AT)
    assert held is not None
    bot = scheduler(mine, clock, poster)
    mark = clock.entered
    bot.start()
    await clock.settle(mark)
    assert {a.channel_id for a in poster.attempts} == set(CHANNELS) - {1}
    # Its wake-up is the lease's end, not tomorrow: then it resumes the slot, same nonce.
    await clock.advance(LEASE)
    assert [(a.channel_id, a.nonce) for a in poster.attempts if a.channel_id == 1] == [
        (1, digest_nonce(1, DAY, AT))
    ]
    assert poster.attempts[-1].at == START + LEASE
    slot = await mine.get_slot(1, DAY, AT)
    assert slot is not None and slot.attempts == 2
    await bot.stop()
    await other.close()
    await mine.close()


async def test_a_database_damaged_while_running_is_one_line_per_pass_and_shown_in_status(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(START)
    path = tmp_path / "briefbot.sqlite3"
    store = await subscribed(path, clock)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE subscriptions SET created_at = 'yesterday-ish' WHERE channel_id = 7")
    db.close()
    poster = FakePoster(clock)
    bot = scheduler(store, clock, poster)
    caplog.set_level(logging.INFO)
    mark = clock.entered
    bot.start()
    await clock.settle(mark)
    await clock.advance(dt.timedelta(minutes=1))  # the retry: a second pass
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2, [r.getMessage() for r in errors]
    for record in errors:
        assert not record.exc_info  # no traceback storm
        message = record.getMessage()
        assert f"digest database {path} needs attention" in message
        assert "subscriptions (channel 7)" in message and "briefbot db check" in message
    assert bot.database_problem is not None and "channel 7" in bot.database_problem
    assert poster.attempts == []

    empty_folder = path.parent / "no-briefs"
    empty_folder.mkdir()
    empty = load_library(empty_folder)
    service = DigestService(store, bot, lambda: empty)
    reply = await service.status(Where(9, 7))  # the damaged row itself
    assert reply.status is Status.ERROR and "needs attention" in reply.title
    assert "briefbot db check" in (reply.description or "")
    reply = await service.status(Where(9, 8))  # a readable row: its status, with the warning
    assert reply.description is not None
    assert reply.description.startswith("The digest database needs attention:")
    await bot.stop()
    await store.close()


async def test_closing_the_bot_releases_the_claims_it_has_not_begun_to_send(
    tmp_path: Path,
    briefs_dir: Path,
    fake_discord: FakeDiscord,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(START - dt.timedelta(hours=1))
    db = tmp_path / "briefbot.sqlite3"
    caplog.set_level(logging.INFO, logger="bot.app")
    async with run_bot(briefs_dir, fake_discord, db, clock) as world:
        store = world.store
        for channel in (1, 2):
            await store.upsert_subscription(
                guild_id=9,
                channel_id=channel,
                local_time=AT,
                timezone=Zone.named("UTC"),
                created_by=1,
            )
        # Claimed by this process just before the stop: one not begun, one being sent.
        assert await store.claim_slot(1, DAY, digest_nonce(1, DAY, AT), ("b1",), slot_time=AT)
        assert await store.claim_slot(2, DAY, digest_nonce(2, DAY, AT), ("b1",), slot_time=AT)
        assert await store.begin_send(2, DAY, slot_time=AT)
    # The bot is closed (no drain: an error or Ctrl-C); its store is closed too.
    assert any("released 1 digest claims" in r.getMessage() for r in caplog.records)
    other = await Store.open(db, clock=clock, owner=ELSEWHERE, lease=LEASE)
    # Another process resumes the released claim at once, with its nonce and planned briefs ...
    resumed = await other.claim_slot(1, DAY, "other", ("x",), slot_time=AT)
    assert resumed is not None and resumed.resumed and resumed.owner == ELSEWHERE
    assert (resumed.nonce, resumed.brief_ids) == (digest_nonce(1, DAY, AT), ("b1",))
    # ... but not the one whose send had begun: it waits for its lease (it may have reached
    # Discord, and is resumed with the same nonce after the lease).
    assert await other.claim_slot(2, DAY, "other", ("x",), slot_time=AT) is None
    await other.close()
