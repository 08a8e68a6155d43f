"""The SQLite store on a real file: migrations, subscriptions, slot claims, what was sent."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.clock import Zone
from bot.store import schema as store_module
from bot.store.records import (
    ArchiveCutoff,
    History,
    SchemaTooNewError,
    SlotState,
    StoreError,
)
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock

UTC = dt.UTC
START = dt.datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
DAY = dt.date(2026, 3, 6)
T0830 = dt.time(8, 30)
GUILD = 111
CUTOFF = ArchiveCutoff(dt.date(2026, 3, 1), "b-oldest-shown")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "nested" / "briefbot.sqlite3"


async def subscribe(
    store: Store,
    channel: int,
    at: str = "08:30",
    tz: str = "Europe/London",
    topics: tuple[str, ...] = (),
    user: int = 7,
    guild: int = GUILD,
) -> None:
    await store.upsert_subscription(
        guild_id=guild,
        channel_id=channel,
        local_time=dt.time.fromisoformat(at),
        timezone=Zone.named(tz),
        topics=topics,
        created_by=user,
    )


def raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


# ---------------------------------------------------------------------------- migrations


async def test_fresh_database_is_created_migrated_and_in_wal_mode(
    db_path: Path, clock: FakeClock
) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        assert await store.schema_version() == SCHEMA_VERSION
    # The file exists under the directories Store.open created, migrated and in WAL mode.
    assert raw(db_path, "PRAGMA journal_mode") == [("wal",)]
    assert raw(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


async def test_reopening_keeps_data_and_does_not_migrate_again(
    db_path: Path, clock: FakeClock
) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        await subscribe(store, 1)
    async with await Store.open(db_path, clock=clock) as store:
        assert await store.schema_version() == SCHEMA_VERSION
        sub = await store.get(1)
    assert sub is not None and sub.timezone == Zone.named("Europe/London")


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


# ---------------------------------------------------------------------------- subscriptions


async def test_resubscribing_updates_the_schedule_and_re_enables(
    db_path: Path, clock: FakeClock
) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        await subscribe(store, 1, "08:30", "Europe/London", ("budget",), user=7)
        assert await store.disable(1, "no permission: Missing Access")
        disabled = await store.get(1)
        assert disabled is not None and not disabled.enabled
        assert disabled.disabled_reason == "no permission: Missing Access"
        assert await store.list_enabled() == []

        await clock.advance(dt.timedelta(hours=2))
        await subscribe(store, 1, "18:05", "Asia/Karachi", ("housing", "transport"), user=8)
        sub = await store.get(1)
    assert sub is not None
    assert (sub.local_time, sub.timezone, sub.topics) == (
        dt.time(18, 5),
        Zone.named("Asia/Karachi"),
        ("housing", "transport"),
    )
    assert sub.enabled and sub.disabled_reason is None and sub.disabled_at is None
    assert (sub.created_by, sub.updated_by) == (7, 8)
    assert sub.created_at == START and sub.updated_at == START + dt.timedelta(hours=2)


async def test_unsubscribing_removes_the_subscription_and_its_history(
    db_path: Path, clock: FakeClock
) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        await subscribe(store, 1)
        claim = await store.claim_slot(1, DAY, "n", ("a",))
        assert claim is not None
        assert await store.complete_slot(1, DAY, 99, ("a",), CUTOFF)
        assert await store.history(1) == History(CUTOFF, frozenset({"a"}))
        assert await store.remove(1)
        assert not await store.remove(1)
        assert await store.get(1) is None
        assert await store.history(1) == History(None, frozenset())
        assert await store.get_slot(1, DAY) is None
        # Subscribing again starts afresh: no cutoff, nothing sent, so a first digest again.
        await subscribe(store, 1)
        assert await store.history(1) == History(None, frozenset())


async def test_guild_listing_shows_only_that_guild(db_path: Path, clock: FakeClock) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        await subscribe(store, 2, guild=1)
        await subscribe(store, 1, guild=1)
        await subscribe(store, 3, guild=2)
        assert [s.channel_id for s in await store.list_guild(1)] == [1, 2]
        assert [s.channel_id for s in await store.list_guild(3)] == []


async def test_bad_timezone_is_refused(db_path: Path, clock: FakeClock) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        with pytest.raises(ValueError, match="unknown timezone"):
            await subscribe(store, 1, tz="Mars/Olympus")


async def test_two_hundred_channels_subscribing_at_once_are_all_stored(
    db_path: Path, clock: FakeClock
) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        await asyncio.gather(*(subscribe(store, channel) for channel in range(1, 201)))
        assert len(await store.list_enabled()) == 200
    async with await Store.open(db_path, clock=clock) as store:
        subs = await store.list_guild(GUILD)
    assert [s.channel_id for s in subs] == list(range(1, 201))


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


# ---------------------------------------------------------------------------- slots


async def test_claim_is_taken_once_resumed_with_its_nonce_and_closed_by_completion(
    db_path: Path, clock: FakeClock
) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        await subscribe(store, 1)
        first = await store.claim_slot(1, DAY, "nonce-1", ("a", "b"))
        assert first is not None and not first.resumed
        # A leftover claim is handed back as it was: same nonce and planned briefs.
        again = await store.claim_slot(1, DAY, "nonce-2", ("c",))
        assert again is not None and again.resumed
        assert (again.nonce, again.brief_ids, again.attempts) == ("nonce-1", ("a", "b"), 2)
        assert [c.channel_id for c in await store.open_claims()] == [1]

        assert await store.complete_slot(1, DAY, 555, ("a", "b", "old"))
        assert await store.claim_slot(1, DAY, "nonce-1") is None
        assert not await store.complete_slot(1, DAY, 556, ("x",))
        assert not await store.skip_slot(1, DAY, "late")  # a sent slot stays sent
        slot = await store.get_slot(1, DAY)
        assert slot is not None and slot.state is SlotState.SENT and slot.message_id == 555
        assert slot.brief_ids == ("a", "b")
        assert (await store.history(1)).sent_ids == {"a", "b", "old"}
        assert await store.open_claims() == []
        last = await store.last_sent(1)
        assert last is not None and last.local_date == DAY


async def test_skipped_slot_is_not_claimed_and_keeps_its_reason(
    db_path: Path, clock: FakeClock
) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        await subscribe(store, 1)
        assert await store.skip_slot(1, DAY, "nothing new")
        assert await store.claim_slot(1, DAY, "n") is None
        slot = await store.get_slot(1, DAY)
        assert slot is not None and slot.state is SlotState.SKIPPED
        assert slot.reason == "nothing new"
        assert await store.last_sent(1) is None


async def test_no_claim_for_a_channel_that_is_not_subscribed_or_disabled(
    db_path: Path, clock: FakeClock
) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        assert await store.claim_slot(1, DAY, "n") is None
        await subscribe(store, 2)
        assert await store.claim_slot(2, DAY, "n") is not None
        await store.disable(2, "channel gone: Unknown Channel")
        # Disabling closes the open claim, so nothing retries it.
        slot = await store.get_slot(2, DAY)
        assert slot is not None and slot.state is SlotState.SKIPPED
        assert slot.reason == "channel gone: Unknown Channel"
        assert await store.claim_slot(2, DAY + dt.timedelta(days=1), "n") is None


async def test_mark_sent_accumulates_per_channel(db_path: Path, clock: FakeClock) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        await subscribe(store, 1)
        await subscribe(store, 2)
        await store.mark_sent(1, ["a", "b"])
        await store.mark_sent(1, ["b", "c"])
        await store.mark_sent(3, ["z"])  # not subscribed: nothing recorded
        assert (await store.history(1)).sent_ids == {"a", "b", "c"}
        assert (await store.history(2)).sent_ids == frozenset()
        assert (await store.history(3)).sent_ids == frozenset()


async def test_subscriptions_claims_and_history_survive_a_restart(
    db_path: Path, clock: FakeClock
) -> None:
    store = await Store.open(db_path, clock=clock)
    await subscribe(store, 1, "07:15", "America/New_York", ("budget",))
    await store.claim_slot(1, DAY, "d1-20260306", ("a",))
    await store.mark_sent(1, ["old"])
    await store.close()
    await store.close()  # closing twice is harmless

    async with await Store.open(db_path, clock=clock) as store:
        sub = await store.get(1)
        assert sub is not None
        assert (sub.local_time, sub.timezone, sub.topics) == (
            dt.time(7, 15),
            Zone.named("America/New_York"),
            ("budget",),
        )
        assert sub.created_at.tzinfo is UTC
        claims = await store.open_claims()
        assert [(c.nonce, c.brief_ids) for c in claims] == [("d1-20260306", ("a",))]
        assert (await store.history(1)).sent_ids == {"old"}


# ---------------------------------------------------------------------------- archive cutoff


async def test_first_digest_records_the_cutoff_once_and_no_row_per_archive_brief(
    db_path: Path, clock: FakeClock
) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        await subscribe(store, 1)
        assert await store.history(1) == History(None, frozenset())
        await store.claim_slot(1, DAY, "n1", ("a", "b"))
        assert await store.complete_slot(1, DAY, 10, ("a", "b"), CUTOFF)
        # The next digest cannot move it: only the first one sets it.
        next_day = DAY + dt.timedelta(days=1)
        await store.claim_slot(1, next_day, "n2", ("c",))
        later = ArchiveCutoff(dt.date(2026, 3, 5), "c")
        assert await store.complete_slot(1, next_day, 11, ("c",), later)
        assert await store.history(1) == History(CUTOFF, frozenset({"a", "b", "c"}))
        # A completion that finds no open claim records no cutoff either.
        await subscribe(store, 2)
        assert not await store.complete_slot(2, DAY, 12, ("a",), CUTOFF)
        assert await store.history(2) == History(None, frozenset())
    # One row per brief sent, none for the archive; the cutoff is kept in the channel's row.
    assert raw(db_path, "SELECT count(*) FROM sent_briefs") == [(3,)]
    assert raw(db_path, "SELECT archive_date, archive_id FROM subscriptions ORDER BY 1") == [
        (None, None),
        ("2026-03-01", "b-oldest-shown"),
    ]


async def test_an_undated_cutoff_round_trips(db_path: Path, clock: FakeClock) -> None:
    undated = ArchiveCutoff(dt.date.min, "undated-brief")
    async with await Store.open(db_path, clock=clock) as store:
        await subscribe(store, 1)
        await store.claim_slot(1, DAY, "n", ("undated-brief",))
        assert await store.complete_slot(1, DAY, 10, ("undated-brief",), undated)
    async with await Store.open(db_path, clock=clock) as store:
        assert (await store.history(1)).cutoff == undated


async def test_pausing_and_subscribing_again_keeps_the_cutoff(
    db_path: Path, clock: FakeClock
) -> None:
    async with await Store.open(db_path, clock=clock) as store:
        await subscribe(store, 1)
        await store.claim_slot(1, DAY, "n", ("a",))
        assert await store.complete_slot(1, DAY, 10, ("a",), CUTOFF)
        await store.disable(1, "no permission: Missing Access")
        await subscribe(store, 1, "18:00", topics=("housing",))
        assert await store.history(1) == History(CUTOFF, frozenset({"a"}))


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
        resumed = await store.claim_slot(1, claim.local_date, "other-nonce", slot_time=T0830)
        assert resumed is not None and resumed.nonce == "d1-20260305" and resumed.resumed
        assert await store.complete_slot(1, claim.local_date, 501, ("b3",), slot_time=T0830)
        assert await store.history(1) == History(None, frozenset({"b0", "b1", "b2", "b3"}))
        # A channel subscribing after the upgrade gets a cutoff from its first digest.
        await subscribe(store, 2)
        await store.claim_slot(2, DAY, "n", ("b3",))
        assert await store.complete_slot(2, DAY, 502, ("b3",), CUTOFF)
        assert await store.history(2) == History(CUTOFF, frozenset({"b3"}))
    assert raw(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
