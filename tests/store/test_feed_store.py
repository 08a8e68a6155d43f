"""Feed state in the store: the migration from every earlier version, claims, failures."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.store import open_store
from bot.store.feeds import EntryKeys
from bot.store.records import StoreDamagedError
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock

START = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)
FEEDS_VERSION = 4


def build_at(path: Path, version: int) -> None:
    """A database at an earlier schema version, with a subscription in it."""
    with sqlite3.connect(path) as db:
        for number, statements in MIGRATIONS[:version]:
            for statement in statements:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        db.execute(
            "INSERT INTO subscriptions (channel_id, guild_id, local_time, timezone, created_by, "
            "updated_by, created_at, updated_at) VALUES (5, 1, '08:30', 'UTC', 1, 1, ?, ?)",
            (START.isoformat(), START.isoformat()),
        )


@pytest.mark.parametrize("version", range(1, FEEDS_VERSION))
async def test_feed_tables_arrive_from_every_earlier_version(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.sqlite3"
    build_at(path, version)
    async with await Store.open(path, clock=FakeClock(START)) as store:
        assert await store.schema_version() == SCHEMA_VERSION
        assert (await store.get(5)) is not None  # the old data is still there
        feed, created = await store.add_feed(
            guild_id=1,
            url="https://example.org/feed",
            topics=("budget",),
            interval=dt.timedelta(minutes=15),
            created_by=9,
        )
        assert created and feed.topics == ("budget",) and feed.next_poll == START
        assert [f.id for f in await store.due_feeds(START)] == [feed.id]


async def test_concurrent_claims_of_one_story_make_one_claim(database: str) -> None:
    async with await open_store(database, clock=FakeClock(START)) as store:
        feeds = [
            (
                await store.add_feed(
                    guild_id=1,
                    url=f"https://example.org/{n}",
                    topics=(),
                    interval=dt.timedelta(minutes=15),
                    created_by=1,
                )
            )[0]
            for n in range(5)
        ]
        keys = [EntryKeys(f"guid-{n}", "example.org/story", f"hash-{n}") for n in range(5)]
        results = await asyncio.gather(
            *(
                store.claim_entry(f.id, 1, k, title="Story")
                for f, k in zip(feeds, keys, strict=True)
            )
        )
        assert sum(isinstance(r, int) for r in results) == 1
        assert sorted(r for r in results if isinstance(r, str)) == ["link"] * 4
        # Another guild's feeds are their own world: the same story is new there.
        other = await store.claim_entry(None, 2, keys[0], title="Story")
        assert isinstance(other, int)


async def test_released_claim_lets_the_story_be_claimed_again(database: str) -> None:
    async with await open_store(database, clock=FakeClock(START)) as store:
        feed, _ = await store.add_feed(
            guild_id=1,
            url="https://example.org/f",
            topics=(),
            interval=dt.timedelta(minutes=5),
            created_by=1,
        )
        keys = EntryKeys("g", None, "h")
        claim = await store.claim_entry(feed.id, 1, keys, title="t")
        assert isinstance(claim, int)
        assert await store.claim_entry(feed.id, 1, keys, title="t") == "GUID"
        await store.release_entry(claim)
        again = await store.claim_entry(feed.id, 1, keys, title="t")
        assert isinstance(again, int)
        await store.finish_entry(again, outcome="drafted", draft_id="d1")
        assert await store.feed_entries(feed.id) == [("t", "d1", "drafted")]
        assert await store.feed_entry_count(feed.id) == (1, 1)


async def test_a_damaged_feed_row_is_a_store_error_not_an_assert(tmp_path: Path) -> None:
    db_path = tmp_path / "briefbot.sqlite3"
    async with await Store.open(db_path) as store:
        feed, _ = await store.add_feed(
            guild_id=1,
            url="https://example.org/feed",
            topics=(),
            interval=dt.timedelta(minutes=15),
            created_by=1,
        )
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE feeds SET created_at = 'last week' WHERE id = ?", (feed.id,))
    async with await Store.open(db_path) as store:
        with pytest.raises(StoreDamagedError, match=r"damaged row in feeds \(feed 1\)"):
            await store.get_feed(feed.id)
