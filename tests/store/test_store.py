"""The store's behaviour, the same on both backends: every test here runs on SQLite and on
PostgreSQL (the `database` fixture in tests/store/conftest.py)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.clock import Zone
from bot.store import open_store
from bot.store.records import ArchiveCutoff, History, SlotState
from tests.digest.clock import FakeClock
from tests.store.helpers import CUTOFF, DAY, GUILD, START, UTC, latest_version, subscribe

# ---------------------------------------------------------------------------- migrations


async def test_reopening_keeps_data_and_does_not_migrate_again(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
        await subscribe(store, 1)
    async with await open_store(database, clock=clock) as store:
        assert await store.schema_version() == latest_version(database)
        sub = await store.get(1)
    assert sub is not None and sub.timezone == Zone.named("Europe/London")


# ---------------------------------------------------------------------------- subscriptions


async def test_resubscribing_updates_the_schedule_and_re_enables(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
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
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
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


async def test_guild_listing_shows_only_that_guild(database: str, clock: FakeClock) -> None:
    async with await open_store(database, clock=clock) as store:
        await subscribe(store, 2, guild=1)
        await subscribe(store, 1, guild=1)
        await subscribe(store, 3, guild=2)
        assert [s.channel_id for s in await store.list_guild(1)] == [1, 2]
        assert [s.channel_id for s in await store.list_guild(3)] == []


async def test_bad_timezone_is_refused(database: str, clock: FakeClock) -> None:
    async with await open_store(database, clock=clock) as store:
        with pytest.raises(ValueError, match="unknown timezone"):
            await subscribe(store, 1, tz="Mars/Olympus")


async def test_two_hundred_channels_subscribing_at_once_are_all_stored(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
        await asyncio.gather(*(subscribe(store, channel) for channel in range(1, 201)))
        assert len(await store.list_enabled()) == 200
    async with await open_store(database, clock=clock) as store:
        subs = await store.list_guild(GUILD)
    assert [s.channel_id for s in subs] == list(range(1, 201))


# ---------------------------------------------------------------------------- slots


async def test_claim_is_taken_once_resumed_with_its_nonce_and_closed_by_completion(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
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
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
        await subscribe(store, 1)
        assert await store.skip_slot(1, DAY, "nothing new")
        assert await store.claim_slot(1, DAY, "n") is None
        slot = await store.get_slot(1, DAY)
        assert slot is not None and slot.state is SlotState.SKIPPED
        assert slot.reason == "nothing new"
        assert await store.last_sent(1) is None


async def test_no_claim_for_a_channel_that_is_not_subscribed_or_disabled(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
        assert await store.claim_slot(1, DAY, "n") is None
        await subscribe(store, 2)
        assert await store.claim_slot(2, DAY, "n") is not None
        await store.disable(2, "channel gone: Unknown Channel")
        # Disabling closes the open claim, so nothing retries it.
        slot = await store.get_slot(2, DAY)
        assert slot is not None and slot.state is SlotState.SKIPPED
        assert slot.reason == "channel gone: Unknown Channel"
        assert await store.claim_slot(2, DAY + dt.timedelta(days=1), "n") is None


async def test_mark_sent_accumulates_per_channel(database: str, clock: FakeClock) -> None:
    async with await open_store(database, clock=clock) as store:
        await subscribe(store, 1)
        await subscribe(store, 2)
        await store.mark_sent(1, ["a", "b"])
        await store.mark_sent(1, ["b", "c"])
        await store.mark_sent(3, ["z"])  # not subscribed: nothing recorded
        assert (await store.history(1)).sent_ids == {"a", "b", "c"}
        assert (await store.history(2)).sent_ids == frozenset()
        assert (await store.history(3)).sent_ids == frozenset()


async def test_subscriptions_claims_and_history_survive_a_restart(
    database: str, clock: FakeClock
) -> None:
    store = await open_store(database, clock=clock)
    await subscribe(store, 1, "07:15", "America/New_York", ("budget",))
    await store.claim_slot(1, DAY, "d1-20260306", ("a",))
    await store.mark_sent(1, ["old"])
    await store.close()
    await store.close()  # closing twice is harmless

    async with await open_store(database, clock=clock) as store:
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
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
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
        assert await store.count_rows("sent_briefs") == 3
        rows = await store.read_rows("subscriptions", ["channel_id", "archive_id"])
        assert sorted(rows) == [(1, "b-oldest-shown"), (2, None)]


async def test_an_undated_cutoff_round_trips(database: str, clock: FakeClock) -> None:
    undated = ArchiveCutoff(dt.date.min, "undated-brief")
    async with await open_store(database, clock=clock) as store:
        await subscribe(store, 1)
        await store.claim_slot(1, DAY, "n", ("undated-brief",))
        assert await store.complete_slot(1, DAY, 10, ("undated-brief",), undated)
    async with await open_store(database, clock=clock) as store:
        assert (await store.history(1)).cutoff == undated


async def test_pausing_and_subscribing_again_keeps_the_cutoff(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
        await subscribe(store, 1)
        await store.claim_slot(1, DAY, "n", ("a",))
        assert await store.complete_slot(1, DAY, 10, ("a",), CUTOFF)
        await store.disable(1, "no permission: Missing Access")
        await subscribe(store, 1, "18:00", topics=("housing",))
        assert await store.history(1) == History(CUTOFF, frozenset({"a"}))
