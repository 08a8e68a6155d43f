"""The wording of /digest subscribe, unsubscribe, status and list, from real store records.

Times are fixed instants on a fake clock; the expected local times are worked out by hand from
each zone's rules (America/New_York springs forward on 2026-03-08, Europe/London on
2026-03-29), not from the code under test. /digest end to end is in
tests/commands/test_digest_e2e.py; this file covers the facts each reply states.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import Zone
from bot.digest.replies import server_list, status, subscribed, unsubscribed
from bot.digest.scheduler import DigestScheduler
from bot.reply import Reply, Status, render_timestamps
from bot.store.records import Slot, SlotState, Subscription
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.digest.helpers import FakePoster

UTC = dt.UTC
GUILD = 42
CHANNEL = 501
OTHER = 502
USER = 7
LABELS = {"budget": "Budget", "transit": "Transport & transit"}
NOW_FOR_RELATIVE = dt.datetime(2026, 3, 5, 6, 0, tzinfo=UTC)


def utc(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    # Thursday 5 March 2026, 06:00 UTC.
    return FakeClock(utc(3, 5, 6))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "briefbot.sqlite3"


@pytest.fixture
async def store(db_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    async with await Store.open(db_path, clock=clock) as opened:
        yield opened


async def subscribe(
    store: Store,
    channel: int = CHANNEL,
    at: str = "08:30",
    tz: str = "Europe/London",
    topics: tuple[str, ...] = (),
) -> Subscription:
    return await store.upsert_subscription(
        guild_id=GUILD,
        channel_id=channel,
        local_time=dt.time.fromisoformat(at),
        timezone=Zone.named(tz),
        topics=topics,
        created_by=USER,
    )


async def current(store: Store, channel: int = CHANNEL) -> Subscription:
    sub = await store.get(channel)
    assert sub is not None
    return sub


async def post(store: Store, clock: FakeClock, day: dt.date, at: dt.datetime, briefs: int) -> Slot:
    """Record `day`'s digest as posted at `at` with `briefs` briefs; the slot as /status sees it."""
    await clock.set(at)
    ids = [f"b{n}" for n in range(briefs)]
    assert await store.claim_slot(CHANNEL, day, f"nonce-{day}", ids) is not None
    assert await store.complete_slot(CHANNEL, day, 9000 + day.day, ids)
    slot = await store.last_sent(CHANNEL)
    assert slot is not None
    return slot


def lines(reply: Reply) -> list[str]:
    """The description as the console prints it: timestamps in the channel's zone."""
    zone = Zone.stored(reply.zone).rules if reply.zone else None
    text = render_timestamps(reply.description or "", zone or dt.UTC, NOW_FOR_RELATIVE)
    return text.splitlines()


def line(reply: Reply, prefix: str) -> str:
    (found,) = [x for x in lines(reply) if x.startswith(prefix)]
    return found


# ---------------------------------------------------------------------------- unsubscribe


async def test_unsubscribing_a_channel_that_is_not_subscribed_says_so(store: Store) -> None:
    reply = unsubscribed(await store.remove(CHANNEL))
    assert reply.title == "Not subscribed"
    assert reply.status is Status.NOT_FOUND and not reply.ok
    assert reply.private
    assert "/digest subscribe" in (reply.description or "")


async def test_unsubscribing_twice_confirms_once_then_says_not_subscribed(store: Store) -> None:
    await subscribe(store)
    first = unsubscribed(await store.remove(CHANNEL))
    second = unsubscribed(await store.remove(CHANNEL))
    assert first.ok and first.title != second.title
    assert second.title == "Not subscribed" and second.status is Status.NOT_FOUND


# ---------------------------------------------------------------------------- next post time


@pytest.mark.parametrize(
    ("tz", "at", "now", "expected"),
    [
        # The Saturday before New York springs forward: still EST (UTC-5).
        ("America/New_York", "08:30", utc(3, 7, 0), "Sat 07 Mar 2026, 08:30 EST"),
        # Asked on Saturday after the post: Sunday's slot is after the change, EDT (UTC-4),
        # and still at 08:30 local (12:30 UTC, not 13:30).
        ("America/New_York", "08:30", utc(3, 7, 14), "Sun 08 Mar 2026, 08:30 EDT"),
        # 21:00 EDT on Sunday is 01:00 UTC on Monday: the date shown is the channel's.
        ("America/New_York", "21:00", utc(3, 8, 20), "Sun 08 Mar 2026, 21:00 EDT"),
        # London springs forward on Sunday 29 March: 08:30 BST is 07:30 UTC.
        ("Europe/London", "08:30", utc(3, 28, 9), "Sun 29 Mar 2026, 08:30 BST"),
        ("Asia/Karachi", "18:05", utc(3, 5, 6), "Thu 05 Mar 2026, 18:05 PKT"),
    ],
)
async def test_next_digest_is_shown_in_the_channels_own_time_zone(
    store: Store, clock: FakeClock, tz: str, at: str, now: dt.datetime, expected: str
) -> None:
    await subscribe(store, tz=tz, at=at)
    await clock.set(now)
    scheduler = DigestScheduler(store, clock, list, FakePoster(clock))
    next_run = await scheduler.next_run(CHANNEL)
    assert next_run is not None
    sub = await current(store)

    shown = line(status(sub, [next_run], None, LABELS), "Next digest:")
    assert shown.startswith(f"Next digest: {expected} (in ")
    assert shown in lines(subscribed(sub, [next_run], LABELS))


async def test_an_enabled_subscription_without_a_next_time_shows_a_dash(store: Store) -> None:
    sub = await subscribe(store)
    assert line(status(sub, [], None, LABELS), "Next digest:") == "Next digest: —"


# ---------------------------------------------------------------------------- last digest


async def test_last_digest_is_shown_in_local_time_with_its_brief_count(
    store: Store, clock: FakeClock
) -> None:
    await subscribe(store, tz="Europe/London")
    # Posted a minute after 08:30 BST on the day London changed to summer time.
    slot = await post(store, clock, dt.date(2026, 3, 29), utc(3, 29, 7, 31), briefs=3)
    reply = status(await current(store), [], slot, LABELS)
    assert line(reply, "Last digest:") == "Last digest: Sun 29 Mar 2026, 08:31 BST (3 briefs)"


async def test_a_last_digest_of_one_brief_says_brief_not_briefs(
    store: Store, clock: FakeClock
) -> None:
    await subscribe(store, tz="America/New_York")
    slot = await post(store, clock, dt.date(2026, 3, 7), utc(3, 7, 13, 31), briefs=1)
    reply = status(await current(store), [], slot, LABELS)
    assert line(reply, "Last digest:") == "Last digest: Sat 07 Mar 2026, 08:31 EST (1 brief)"


async def test_skipped_last_digest_shows_the_channels_date_and_the_reason(
    store: Store, clock: FakeClock
) -> None:
    await subscribe(store, tz="America/New_York", at="21:00")
    # Sunday 8 March's 21:00 EDT slot, recorded at 01:05 UTC on Monday 9 March.
    await clock.set(utc(3, 9, 1, 5))
    assert await store.skip_slot(CHANNEL, dt.date(2026, 3, 8), "nothing new")
    slot = await store.get_slot(CHANNEL, dt.date(2026, 3, 8))
    assert slot is not None and slot.state is SlotState.SKIPPED

    reply = status(await current(store), [], slot, LABELS)
    assert line(reply, "Last digest:") == "Last digest: skipped 2026-03-08 00:00: nothing new"


async def test_skipped_last_digest_without_a_reason_says_so(store: Store, clock: FakeClock) -> None:
    await subscribe(store)
    assert await store.skip_slot(CHANNEL, dt.date(2026, 3, 5), "nothing new")
    slot = await store.get_slot(CHANNEL, dt.date(2026, 3, 5))
    assert slot is not None
    unexplained = dataclasses.replace(slot, reason=None)
    reply = status(await current(store), [], unexplained, LABELS)
    assert line(reply, "Last digest:") == "Last digest: skipped 2026-03-05 00:00: no reason"


async def test_no_last_digest_yet(store: Store) -> None:
    reply = status(await subscribe(store), [], None, LABELS)
    assert line(reply, "Last digest:") == "Last digest: none yet"


async def test_a_digest_still_being_sent_is_not_reported_as_the_last_one(
    store: Store, clock: FakeClock
) -> None:
    await subscribe(store)
    await clock.set(utc(3, 5, 8, 30))
    assert await store.claim_slot(CHANNEL, dt.date(2026, 3, 5), "n1", ["b0"]) is not None
    claimed = await store.get_slot(CHANNEL, dt.date(2026, 3, 5))
    assert claimed is not None and claimed.state is SlotState.CLAIMED

    reply = status(await current(store), [], claimed, LABELS)
    assert line(reply, "Last digest:") == "Last digest: none yet"


async def test_status_survives_a_time_zone_this_host_does_not_know(
    store: Store, clock: FakeClock, db_path: Path
) -> None:
    # A subscription stored while its key existed, read on a host whose tzdata lacks it (the
    # scheduler logs it and does not schedule it): /digest status must still answer.
    await subscribe(store, tz="Europe/London")
    slot = await post(store, clock, dt.date(2026, 3, 5), utc(3, 5, 8, 31), briefs=2)
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE subscriptions SET timezone = 'Atlantis/Poseidonis'")
    sub = await current(store)
    assert sub.timezone.key == "Atlantis/Poseidonis" and sub.timezone.rules is None

    reply = status(sub, [], slot, LABELS)
    assert "Daily at 08:30 (Atlantis/Poseidonis)" in lines(reply)[0]
    assert line(reply, "Next digest:") == "Next digest: —"
    # The instant is still right, shown in UTC and saying so.
    assert line(reply, "Last digest:") == "Last digest: Thu 05 Mar 2026, 08:31 UTC (2 briefs)"
    # And it says why nothing is scheduled, and what to do.
    assert "Atlantis/Poseidonis is not known" in line(reply, "The time zone")
    assert "/digest subscribe" in line(reply, "The time zone")


# ---------------------------------------------------------------------------- paused


async def test_paused_status_gives_the_reason_and_the_remedy_and_no_next_time(
    store: Store, clock: FakeClock
) -> None:
    await subscribe(store, tz="UTC")
    await clock.set(utc(3, 5, 8, 30))
    assert await store.claim_slot(CHANNEL, dt.date(2026, 3, 5), "n1") is not None
    assert await store.disable(CHANNEL, "no permission: Missing Access (403)")
    sub = await current(store)
    # The claim the failed post left open is closed as skipped, with the same reason.
    slot = await store.get_slot(CHANNEL, dt.date(2026, 3, 5))

    # A paused subscription the bot paused promises no next digest (the scheduler gives none).
    reply = status(sub, [], slot, LABELS)
    assert reply.status is Status.INVALID
    assert lines(reply) == [
        "Daily at 08:30 (UTC) · all topics",
        "Paused: no permission: Missing Access (403)",
        "Fix the bot's access to this channel, then run /digest resume: it checks the bot's "
        "permissions first and names any that are missing.",
        "Last digest: skipped 2026-03-05 00:00: no permission: Missing Access (403)",
    ]


async def test_list_keeps_a_paused_subscription_with_its_reason(store: Store) -> None:
    await subscribe(store, CHANNEL, at="08:30", tz="Europe/London", topics=("budget",))
    await subscribe(store, OTHER, at="18:00", tz="America/New_York")
    assert await store.disable(OTHER, "channel gone: Unknown Channel (404)")

    subs = await store.list_guild(GUILD)
    reply = server_list(subs, LABELS)
    assert reply.ok and reply.private
    assert reply.title == "Digest subscriptions (2)"  # the paused one still counts
    (section,) = reply.sections
    served, paused = section.items
    assert served.label == f"<#{CHANNEL}>" and served.detail is None
    assert served.text == "Daily at 08:30 (Europe/London) · Budget"
    # Kept, not deleted: its schedule is still listed, marked paused, with why.
    assert paused.label == f"<#{OTHER}> (paused)"
    assert paused.text == "Daily at 18:00 (America/New_York) · all topics"
    assert paused.detail == (
        "Paused: channel gone: Unknown Channel (404). "
        f"Remove it with /digest unsubscribe channel:{OTHER}"
    )


async def test_list_of_a_server_without_subscriptions(store: Store) -> None:
    await subscribe(store)  # in GUILD, not in the server asked about
    reply = server_list(await store.list_guild(GUILD + 1), LABELS)
    assert reply.status is Status.NOT_FOUND and reply.sections == ()
    assert reply.title == "No digest subscriptions"


# ---------------------------------------------------------------------------- topics


async def test_topics_are_shown_by_label_in_the_order_chosen(store: Store) -> None:
    # "retired" is no longer in the vocabulary: shown by its id rather than dropped.
    sub = await subscribe(
        store, at="18:05", tz="Asia/Karachi", topics=("transit", "retired", "budget")
    )
    expected = "Daily at 18:05 (Asia/Karachi) · Transport & transit, retired, Budget"
    assert lines(subscribed(sub, [], LABELS))[0] == expected
    assert lines(status(sub, [], None, LABELS))[0] == expected
    assert server_list([sub], LABELS).sections[0].items[0].text == expected


async def test_no_topics_means_all_topics(store: Store) -> None:
    sub = await subscribe(store, at="07:00", tz="UTC")
    assert lines(status(sub, [], None, LABELS))[0] == "Daily at 07:00 (UTC) · all topics"


async def test_a_day_skipped_after_the_last_digest_is_shown_with_its_reason(
    store: Store, clock: FakeClock
) -> None:
    await subscribe(store, tz="Europe/London")
    await clock.set(utc(3, 5, 7))
    assert await store.skip_slot(CHANNEL, dt.date(2026, 3, 4), "nothing new")
    await post(store, clock, dt.date(2026, 3, 5), utc(3, 5, 8, 31), briefs=2)
    await clock.set(utc(3, 6, 18))
    reason = "missed: due 9 h 30 min ago, beyond the 3 h grace window"
    assert await store.skip_slot(CHANNEL, dt.date(2026, 3, 6), reason)

    last, skipped = await store.last_sent(CHANNEL), await store.last_skipped(CHANNEL)
    reply = status(await current(store), [], last, LABELS, skipped)
    assert line(reply, "Last digest:") == "Last digest: Thu 05 Mar 2026, 08:31 GMT (2 briefs)"
    assert line(reply, "Skipped") == f"Skipped 2026-03-06 00:00: {reason}"


async def test_a_skip_older_than_the_last_digest_is_not_repeated(
    store: Store, clock: FakeClock
) -> None:
    await subscribe(store, tz="Europe/London")
    await clock.set(utc(3, 5, 7))
    assert await store.skip_slot(CHANNEL, dt.date(2026, 3, 4), "nothing new")
    await post(store, clock, dt.date(2026, 3, 5), utc(3, 5, 8, 31), briefs=2)
    last, skipped = await store.last_sent(CHANNEL), await store.last_skipped(CHANNEL)
    assert skipped is not None and skipped.local_date == dt.date(2026, 3, 4)
    reply = status(await current(store), [], last, LABELS, skipped)
    assert "Skipped" not in (reply.description or "")
