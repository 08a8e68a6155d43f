"""The SQLite store on a real file: migrations, subscriptions, slot claims, what was sent."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.services import store as store_module
from bot.services.clock import FakeClock
from bot.services.store import SCHEMA_VERSION, SchemaTooNewError, SlotState, Store, StoreError

UTC = dt.UTC
START = dt.datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
DAY = dt.date(2026, 3, 6)
GUILD = 111


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
        timezone=tz,
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
    assert sub is not None and sub.timezone == "Europe/London"


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
        "Asia/Karachi",
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
        assert await store.complete_slot(1, DAY, 99, ("a",))
        assert await store.remove(1)
        assert not await store.remove(1)
        assert await store.get(1) is None
        assert await store.sent_brief_ids(1) == frozenset()
        assert await store.get_slot(1, DAY) is None


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
        assert await store.sent_brief_ids(1) == {"a", "b", "old"}
        assert await store.open_claims() == []
        last = await store.last_post(1)
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
        assert await store.last_post(1) is None


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
        assert await store.sent_brief_ids(1) == {"a", "b", "c"}
        assert await store.sent_brief_ids(2) == frozenset()
        assert await store.sent_brief_ids(3) == frozenset()


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
            "America/New_York",
            ("budget",),
        )
        assert sub.created_at.tzinfo is UTC
        claims = await store.open_claims()
        assert [(c.nonce, c.brief_ids) for c in claims] == [("d1-20260306", ("a",))]
        assert await store.sent_brief_ids(1) == {"old"}
