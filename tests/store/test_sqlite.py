"""What only the SQLite store has: its file, WAL mode, PRAGMA user_version migrations from
every earlier version, ISO text timestamps and CHECK constraints on raw SQL."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.store import schema as store_module
from bot.store.records import History, SchemaTooNewError, StoreError
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.store.helpers import CUTOFF, DAY, GUILD, subscribe


def raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


async def test_fresh_database_is_created_migrated_and_in_wal_mode(
    db_path: Path, clock: FakeClock
) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        assert await store.schema_version() == SCHEMA_VERSION
    # The file exists under the directories Store.open created, migrated and in WAL mode.
    assert raw(db_path, "PRAGMA journal_mode") == [("wal",)]
    assert raw(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


async def test_database_from_a_newer_briefbot_is_refused(db_path: Path, clock: FakeClock) -> None:
    async with await Store.open(db_path, clock=clock):
        pass
    raw(db_path, f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(SchemaTooNewError) as caught:
        await Store.open(db_path, clock=clock)
    message = str(caught.value)
    assert f"version {SCHEMA_VERSION + 5}" in message and "upgrade briefbot" in message
    assert str(db_path) in message


async def test_a_failing_migration_leaves_the_database_as_it_was(
    db_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        await subscribe(store, 1)
    broken = (
        *store_module.MIGRATIONS,
        (SCHEMA_VERSION + 1, ("CREATE TABLE extra (x INTEGER)", "THIS IS NOT SQL")),
    )
    monkeypatch.setattr(store_module, "MIGRATIONS", broken)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1} failed"):
        await Store.open(db_path, clock=clock)
    assert raw(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert raw(db_path, "SELECT name FROM sqlite_master WHERE name = 'extra'") == []
    assert raw(db_path, "SELECT channel_id FROM subscriptions") == [(1,)]


async def test_timestamps_are_utc_iso_strings_and_naive_times_are_refused(
    db_path: Path,
) -> None:
    class NaiveClock:
        def now(self) -> dt.datetime:
            return dt.datetime(2026, 3, 5, 12)

        async def sleep_until(self, when: dt.datetime) -> None:
            raise NotImplementedError

    karachi = dt.datetime(2026, 3, 5, 17, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    async with await Store.open(db_path, clock=FakeClock(karachi)) as store:
        await subscribe(store, 1)
    assert raw(db_path, "SELECT created_at FROM subscriptions") == [
        ("2026-03-05T12:00:00.000000+00:00",)
    ]
    async with await Store.open(db_path, clock=NaiveClock()) as store:
        with pytest.raises(ValueError, match="timezone-aware"):
            await subscribe(store, 2)


async def test_cutoff_columns_are_checked(db_path: Path, clock: FakeClock) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        await subscribe(store, 1)
    with pytest.raises(sqlite3.IntegrityError):
        raw(db_path, "UPDATE subscriptions SET archive_id = 'a'")  # an id without a date
    with pytest.raises(sqlite3.IntegrityError):
        raw(db_path, "UPDATE subscriptions SET archive_date = '5 March', archive_id = 'a'")


def make_version_1_database(path: Path) -> None:
    """A database as briefbot left it before the archive cutoff: schema 1 with data in it."""
    [(number, statements)] = MIGRATIONS[:1]
    assert number == 1
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
        now = "2026-03-04T09:00:00.000000+00:00"
        db.execute(
            "INSERT INTO subscriptions (channel_id, guild_id, local_time, timezone, topics, "
            "created_by, updated_by, created_at, updated_at) "
            "VALUES (1, ?, '08:30', 'UTC', '[\"budget\"]', 7, 7, ?, ?)",
            (GUILD, now, now),
        )
        db.execute(
            "INSERT INTO digest_slots (channel_id, local_date, state, nonce, brief_ids, "
            "message_id, attempts, claimed_at, finished_at) "
            "VALUES (1, '2026-03-04', 'sent', 'd1-20260304', '[\"b2\"]', 500, 1, ?, ?)",
            (now, now),
        )
        db.execute(
            "INSERT INTO digest_slots (channel_id, local_date, state, nonce, brief_ids, "
            "attempts, claimed_at) "
            "VALUES (1, '2026-03-05', 'claimed', 'd1-20260305', '[\"b3\"]', 1, ?)",
            (now,),
        )
        # Version 1's first digest: a row for the brief shown and for every older one.
        db.executemany(
            "INSERT INTO sent_briefs (channel_id, brief_id, sent_at) VALUES (1, ?, ?)",
            [(f"b{n}", now) for n in range(3)],
        )


async def test_version_1_database_with_data_migrates_and_keeps_working(
    db_path: Path, clock: FakeClock
) -> None:
    make_version_1_database(db_path)
    async with await Store.open(db_path, clock=clock) as store:
        assert await store.schema_version() == SCHEMA_VERSION
        sub = await store.get(1)
        assert sub is not None and sub.topics == ("budget",) and sub.enabled
        # Its history as it was: every row kept, no cutoff (its backlog rows do that job).
        assert await store.history(1) == History(None, frozenset({"b0", "b1", "b2"}))
        last = await store.last_sent(1)
        assert last is not None and (last.message_id, last.brief_ids) == (500, ("b2",))
        # The interrupted claim is resumed with its nonce and completed.
        [claim] = await store.open_claims()
        # Version 1's slots are keyed by their channel's time now.
        assert claim.slot_time == dt.time(8, 30)
        resumed = await store.claim_slot(
            1, claim.local_date, "other-nonce", slot_time=dt.time(8, 30)
        )
        assert resumed is not None and resumed.nonce == "d1-20260305" and resumed.resumed
        assert await store.complete_slot(
            1, claim.local_date, 501, ("b3",), slot_time=dt.time(8, 30)
        )
        assert await store.history(1) == History(None, frozenset({"b0", "b1", "b2", "b3"}))
        # A channel subscribing after the upgrade gets a cutoff from its first digest.
        await subscribe(store, 2)
        await store.claim_slot(2, DAY, "n", ("b3",))
        assert await store.complete_slot(2, DAY, 502, ("b3",), CUTOFF)
        assert await store.history(2) == History(CUTOFF, frozenset({"b3"}))
    assert raw(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
