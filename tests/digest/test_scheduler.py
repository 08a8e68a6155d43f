"""The digest scheduler on a real database (each test on SQLite and on PostgreSQL) with a fake
clock and a fake Discord poster.

Every test asserts what a channel would see: which messages exist, when, with which nonce.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.briefs.models import Brief
from bot.clock import Zone
from bot.digest.content import order_key
from bot.digest.scheduler import (
    Action,
    DeliveryForbidden,
    DeliveryGone,
    DigestScheduler,
    digest_nonce,
)
from bot.store import open_store
from bot.store.records import ArchiveCutoff, History, SlotState
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.digest.helpers import (
    EverNew,
    FakePoster,
    SimulatedCrash,
    make_brief,
    newest_first,
)
from tests.store.test_sqlite import make_version_1_database

UTC = dt.UTC
GUILD = 10
START = dt.datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
DAY = dt.date(2026, 3, 5)
T0830 = dt.time(8, 30)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


class Env:
    """One database; `open()` is a (re)start of the bot: new Store, new scheduler."""

    def __init__(self, database: str | Path, clock: FakeClock) -> None:
        self.path = database
        self.clock = clock
        self.poster = FakePoster(clock)  # Discord outlives the bot's restarts
        self.library: list[Brief] = newest_first(3)
        self.provider: Callable[[], Sequence[Brief]] = lambda: self.library
        self._open: list[tuple[Store, DigestScheduler]] = []

    async def open(self, grace: dt.timedelta = dt.timedelta(hours=3)) -> DigestScheduler:
        store = await open_store(self.path, clock=self.clock)
        scheduler = DigestScheduler(store, self.clock, self.provider, self.poster, grace)
        self._open.append((store, scheduler))
        return scheduler

    @property
    def store(self) -> Store:
        return self._open[-1][0]

    async def crash(self) -> None:
        """The process died: its connection goes away without any tidying up by the scheduler."""
        store, scheduler = self._open.pop()
        await scheduler.stop()
        await store.close()

    async def close(self) -> None:
        while self._open:
            await self.crash()

    async def subscribe(
        self,
        channel: int,
        at: str = "08:30",
        tz: str = "UTC",
        topics: tuple[str, ...] = (),
    ) -> None:
        await self.store.upsert_subscription(
            guild_id=GUILD,
            channel_id=channel,
            local_time=dt.time.fromisoformat(at),
            timezone=Zone.named(tz),
            topics=topics,
            created_by=42,
        )

    async def start(self, scheduler: DigestScheduler) -> None:
        mark = self.clock.entered
        scheduler.start()
        await self.clock.settle(mark)

    async def poke(self, scheduler: DigestScheduler) -> None:
        mark = self.clock.entered
        scheduler.poke()
        await self.clock.settle(mark)

    def shown(self, channel: int) -> list[list[str | None]]:
        """Brief titles in each message that exists in the channel."""
        return [
            [item.label for item in reply.sections[0].items]
            for reply, _, _ in self.poster.posted_to(channel)
        ]


@pytest.fixture
async def env(database: str) -> AsyncIterator[Env]:
    environment = Env(database, FakeClock(START))
    yield environment
    await environment.close()


@pytest.fixture
async def sqlite_env(tmp_path: Path) -> AsyncIterator[Env]:
    environment = Env(tmp_path / "db" / "briefbot.sqlite3", FakeClock(START))
    yield environment
    await environment.close()


# ---------------------------------------------------------------------------- the daily loop


async def test_posts_at_the_local_time_once_a_day_and_only_what_is_new(env: Env) -> None:
    scheduler = await env.open()
    await env.subscribe(1, "08:30", "Europe/London")
    await env.start(scheduler)

    await env.clock.advance(dt.timedelta(days=1))
    [(reply, nonce, at)] = env.poster.posted_to(1)
    assert at == utc(2026, 3, 5, 8, 30)  # GMT in early March
    assert reply.title == "Digest — 2026-03-05"
    assert env.shown(1) == [["Title of b2", "Title of b1", "Title of b0"]]
    assert nonce == digest_nonce(1, DAY, T0830)

    # Nothing new on the 6th: no message, and the slot says why.
    await env.clock.advance(dt.timedelta(days=1))
    assert len(env.poster.posted_to(1)) == 1
    slot = await env.store.get_slot(1, dt.date(2026, 3, 6), T0830)
    assert slot is not None and slot.state is SlotState.SKIPPED and slot.reason == "nothing new"

    env.library = [make_brief("fresh", dt.date(2026, 3, 7), title="Fresh news"), *env.library]
    await env.clock.advance(dt.timedelta(days=1))
    assert env.shown(1)[1:] == [["Fresh news"]]
    assert scheduler.running


async def test_sleeps_until_the_next_digest_instead_of_polling(env: Env) -> None:
    scheduler = await env.open()
    await env.subscribe(1, "08:30")
    await env.start(scheduler)
    wakeups = env.clock.entered
    await env.clock.advance(dt.timedelta(hours=8, minutes=29))
    assert env.clock.entered == wakeups  # not one wake-up before it was due
    assert env.poster.attempts == []
    await env.clock.advance(dt.timedelta(minutes=1))
    assert len(env.poster.posted_to(1)) == 1


async def test_new_subscription_is_picked_up_when_poked(env: Env) -> None:
    scheduler = await env.open()
    await env.start(scheduler)  # nothing to do: sleeps for a day
    await env.subscribe(1, "00:30")
    await env.poke(scheduler)
    mark = env.clock.entered
    await asyncio.sleep(0.05)  # real time: a loop that kept waking would sleep again meanwhile
    assert env.clock.entered == mark
    await env.clock.advance(dt.timedelta(hours=1))
    assert [at for _, _, at in env.poster.posted_to(1)] == [utc(2026, 3, 5, 0, 30)]


async def test_unsubscribed_channel_gets_nothing(env: Env) -> None:
    scheduler = await env.open()
    await env.subscribe(1, "08:30")
    await env.subscribe(2, "08:30")
    await env.start(scheduler)
    await env.store.remove(1)
    await env.poke(scheduler)
    await env.clock.advance(dt.timedelta(days=1))
    assert env.poster.posted_to(1) == []
    assert len(env.poster.posted_to(2)) == 1


async def test_subscribing_after_todays_time_starts_tomorrow(env: Env) -> None:
    scheduler = await env.open()
    await env.clock.set(utc(2026, 3, 5, 10, 0))
    await env.subscribe(1, "08:00")
    assert await scheduler.run_due() == []
    assert await scheduler.next_run(1) == utc(2026, 3, 6, 8, 0)
    assert env.poster.attempts == []


async def test_stop_ends_the_loop(env: Env) -> None:
    scheduler = await env.open()
    await env.subscribe(1, "08:30")
    await env.start(scheduler)
    await scheduler.stop()
    assert not scheduler.running
    await env.clock.advance(dt.timedelta(days=1))
    assert env.poster.attempts == []


# ---------------------------------------------------------------------------- DST


@pytest.mark.parametrize(
    ("zone", "at", "day", "expected"),
    [
        # 02:30 does not exist on the spring-forward day: posted at 03:30 EDT.
        ("America/New_York", "02:30", dt.date(2026, 3, 8), utc(2026, 3, 8, 7, 30)),
        # 01:30 does not exist in London on 2026-03-29: posted at 02:30 BST.
        ("Europe/London", "01:30", dt.date(2026, 3, 29), utc(2026, 3, 29, 1, 30)),
        # 01:30 happens twice on the fall-back day: posted once, at the first (EDT).
        ("America/New_York", "01:30", dt.date(2026, 11, 1), utc(2026, 11, 1, 5, 30)),
    ],
)
async def test_dst_day_gets_exactly_one_digest(
    database: str, zone: str, at: str, day: dt.date, expected: dt.datetime
) -> None:
    tz = ZoneInfo(zone)
    eve = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    env = Env(database, FakeClock(eve))
    env.provider = EverNew()  # always something new: a second post would not be skipped
    try:
        scheduler = await env.open()
        await env.subscribe(1, at, zone)
        await env.start(scheduler)
        end = dt.datetime.combine(day + dt.timedelta(days=2), dt.time(0), tzinfo=tz)
        await env.clock.set(end.astimezone(UTC))
    finally:
        await env.close()
    posts = env.poster.posted_to(1)
    titles = [reply.title for reply, _, _ in posts]
    assert titles == [
        f"Digest — {day - dt.timedelta(days=1)}",
        f"Digest — {day}",
        f"Digest — {day + dt.timedelta(days=1)}",
    ]
    assert posts[1][2] == expected
    # The days either side post at the local time itself.
    for (_, _, when), local in zip(
        posts[::2], (day - dt.timedelta(days=1), day + dt.timedelta(days=1)), strict=True
    ):
        assert when is not None
        assert when.astimezone(tz).date() == local
        assert when.astimezone(tz).strftime("%H:%M") == at


# ---------------------------------------------------------------------------- exactly once


async def test_crash_between_claim_and_send_is_retried_with_the_same_nonce(env: Env) -> None:
    scheduler = await env.open()
    await env.subscribe(1, "08:30")
    env.poster.fail_before[1] = [SimulatedCrash()]
    with pytest.raises(SimulatedCrash):
        await scheduler.run_due(utc(2026, 3, 5, 8, 30))
    slot = await env.store.get_slot(1, DAY, T0830)
    assert slot is not None and slot.state is SlotState.CLAIMED
    await env.crash()

    scheduler = await env.open()  # restart on the same file
    outcomes = await scheduler.run_due(utc(2026, 3, 5, 8, 34))
    assert [o.action for o in outcomes] == [Action.SENT]
    nonces = [a.nonce for a in env.poster.attempts]
    assert nonces == [digest_nonce(1, DAY, T0830)] * 2
    assert len(env.poster.posted_to(1)) == 1
    slot = await env.store.get_slot(1, DAY, T0830)
    assert slot is not None and slot.state is SlotState.SENT and slot.attempts == 2


async def test_crash_after_send_before_completion_does_not_post_twice(env: Env) -> None:
    scheduler = await env.open()
    await env.subscribe(1, "08:30")
    env.poster.fail_after[1] = [SimulatedCrash()]
    with pytest.raises(SimulatedCrash):
        await scheduler.run_due(utc(2026, 3, 5, 8, 30))
    [(first, _, _)] = env.poster.posted_to(1)  # it did reach the channel
    await env.crash()
    # A brief arrives while the bot is down; the resent message must not claim to carry it.
    env.library = [make_brief("breaking", title="Breaking"), *env.library]

    scheduler = await env.open()
    await scheduler.run_due(utc(2026, 3, 5, 8, 33))
    assert [a.nonce for a in env.poster.attempts] == [digest_nonce(1, DAY, T0830)] * 2
    # The resend carries the briefs of the first attempt; Discord deduplicates it by nonce.
    resent = env.poster.attempts[1].reply
    assert [i.label for i in resent.sections[0].items] == [i.label for i in first.sections[0].items]
    assert len(env.poster.posted_to(1)) == 1
    message_id = env.poster.messages[(1, digest_nonce(1, DAY, T0830))]
    last = await env.store.last_sent(1)
    assert last is not None and last.message_id == message_id
    history = await env.store.history(1)
    assert "breaking" not in history.sent_ids
    # The cutoff is that of the briefs the first attempt showed (b0 the oldest), not the
    # resend's: "breaking", ordered after it, is still owed.
    assert history.cutoff == ArchiveCutoff(dt.date(2026, 1, 1), "b0")

    # The brief that arrived meanwhile comes the next day.
    await scheduler.run_due(utc(2026, 3, 6, 8, 30))
    assert env.shown(1)[-1] == ["Breaking"]


# ---------------------------------------------------------------------------- downtime


async def test_digest_missed_by_an_hour_is_posted_on_return(env: Env) -> None:
    scheduler = await env.open()
    await env.clock.set(utc(2026, 3, 5, 7, 0))
    await env.subscribe(1, "08:00")
    await env.clock.set(utc(2026, 3, 5, 9, 0))  # the bot was down from 07:00 to 09:00
    await env.start(scheduler)
    assert [at for _, _, at in env.poster.posted_to(1)] == [utc(2026, 3, 5, 9, 0)]


async def test_digest_missed_by_ten_hours_is_skipped_and_logged(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = await env.open()
    await env.clock.set(utc(2026, 3, 5, 7, 0))
    await env.subscribe(1, "08:00")
    await env.clock.set(utc(2026, 3, 5, 18, 0))
    with caplog.at_level(logging.WARNING, logger="bot.digest.scheduler"):
        await env.start(scheduler)
    assert env.poster.attempts == []
    slot = await env.store.get_slot(1, DAY, dt.time(8, 0))
    assert slot is not None and slot.state is SlotState.SKIPPED
    assert slot.reason is not None and "missed" in slot.reason and "grace" in slot.reason
    assert any(
        "channel 1" in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records
    )
    # Back on schedule the next morning.
    await env.clock.set(utc(2026, 3, 6, 8, 0))
    assert [at for _, _, at in env.poster.posted_to(1)] == [utc(2026, 3, 6, 8, 0)]


# ---------------------------------------------------------------------------- failures


async def test_gone_and_forbidden_channels_are_disabled_and_others_still_get_theirs(
    env: Env,
) -> None:
    scheduler = await env.open()
    for channel in (1, 2, 3):
        await env.subscribe(channel, "08:00")
    env.poster.always[1] = DeliveryForbidden("Missing Permissions")
    env.poster.always[2] = DeliveryGone("Unknown Channel")
    outcomes = await scheduler.run_due(utc(2026, 3, 5, 8, 0))
    assert {o.channel_id: o.action for o in outcomes} == {
        1: Action.DISABLED,
        2: Action.DISABLED,
        3: Action.SENT,
    }
    forbidden, gone = await env.store.get(1), await env.store.get(2)
    assert forbidden is not None and not forbidden.enabled
    assert forbidden.disabled_reason == "no permission: Missing Permissions"
    assert gone is not None and gone.disabled_reason == "channel gone: Unknown Channel"
    assert len(await env.store.list_guild(GUILD)) == 3  # kept, not deleted
    assert await scheduler.next_run(1) is None

    attempts = len(env.poster.attempts)
    env.library = [make_brief("fresh"), *env.library]
    await scheduler.run_due(utc(2026, 3, 6, 8, 0))
    assert len(env.poster.attempts) == attempts + 1  # only channel 3 is tried

    # Permissions fixed and subscribed again: served again.
    del env.poster.always[1]
    await env.clock.set(utc(2026, 3, 6, 9, 0))
    await env.subscribe(1, "08:00")
    await scheduler.run_due(utc(2026, 3, 7, 8, 0))
    assert len(env.poster.posted_to(1)) == 1


async def test_other_failure_is_logged_and_retried_next_cycle_with_the_same_nonce(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = await env.open()
    await env.subscribe(1, "08:00")
    await env.subscribe(2, "08:00")
    env.poster.fail_before[1] = [RuntimeError("503 Service Unavailable")]
    await env.start(scheduler)
    with caplog.at_level(logging.ERROR, logger="bot.digest.scheduler"):
        await env.clock.set(utc(2026, 3, 5, 8, 0))
    assert env.poster.posted_to(1) == [] and len(env.poster.posted_to(2)) == 1
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None and "channel 1" in record.getMessage()
    assert scheduler.running
    assert await scheduler.next_run(1) == utc(2026, 3, 5, 8, 1)

    await env.clock.advance(dt.timedelta(minutes=1))
    nonce = digest_nonce(1, DAY, dt.time(8, 0))
    assert [a.nonce for a in env.poster.attempts if a.channel_id == 1] == [nonce] * 2
    assert len(env.poster.posted_to(1)) == 1 and len(env.poster.posted_to(2)) == 1


async def test_failing_all_through_the_grace_window_backs_off_then_gives_up(env: Env) -> None:
    scheduler = await env.open()
    await env.subscribe(1, "08:00")
    env.poster.always[1] = RuntimeError("boom")
    await env.start(scheduler)
    await env.clock.set(utc(2026, 3, 5, 12, 0))
    tries = [a.at for a in env.poster.attempts]
    # Backoff doubles from one minute up to fifteen: about fifteen tries in three hours.
    assert tries[:4] == [utc(2026, 3, 5, 8, m) for m in (0, 1, 3, 7)]
    assert 10 <= len(tries) <= 20
    slot = await env.store.get_slot(1, DAY, dt.time(8, 0))
    assert slot is not None and slot.state is SlotState.SKIPPED
    assert slot.reason is not None and "RuntimeError: boom" in slot.reason
    # The log shows it failed and was retried before it was given up.
    assert slot.last_error == "RuntimeError: boom" and slot.attempts >= 10
    sub = await env.store.get(1)
    assert sub is not None and sub.enabled  # a transient failure does not unsubscribe


async def test_two_hundred_channels_due_at_once_all_get_their_digest(env: Env) -> None:
    scheduler = await env.open()
    for channel in range(1, 201):
        await env.subscribe(channel, "08:00")
    outcomes = await scheduler.run_due(utc(2026, 3, 5, 8, 0))
    assert len(outcomes) == 200 and {o.action for o in outcomes} == {Action.SENT}
    assert {ch for ch, _, _, _ in env.poster.created} == set(range(1, 201))


# ---------------------------------------------------------------------------- first digest, archive


def more_text(env: Env, channel: int) -> str:
    """The "More" line of the channel's latest message ("" when it has none)."""
    reply, _, _ = env.poster.posted_to(channel)[-1]
    return "".join(s.body or "" for s in reply.sections if s.heading == "More")


async def sent_rows(env: Env) -> int:
    return await env.store.count_rows("sent_briefs")


async def test_first_digest_shows_the_ten_latest_and_says_how_many_older_ones_exist(
    env: Env,
) -> None:
    env.library = newest_first(200)  # b199 (2026-07-19) … b0 (2026-01-01)
    scheduler = await env.open()
    await env.subscribe(1, "08:30")
    await scheduler.run_due(utc(2026, 3, 5, 8, 30))
    [(reply, _, _)] = env.poster.posted_to(1)
    assert env.shown(1) == [[f"Title of b{n}" for n in range(199, 189, -1)]]
    assert reply.sections[0].heading == "Latest briefs"
    assert "first daily digest" in (reply.description or "")
    assert "190 older briefs, not repeated in digests" in more_text(env, 1)
    # One row per brief shown, none for the 190 in the archive: the cutoff stands for them.
    assert await sent_rows(env) == 10
    history = await env.store.history(1)
    assert history.cutoff == ArchiveCutoff(dt.date(2026, 7, 10), "b190")
    assert history.sent_ids == {f"b{n}" for n in range(190, 200)}


async def test_later_digests_bring_only_briefs_ordered_after_the_first_digests_oldest(
    env: Env,
) -> None:
    env.library = newest_first(25)  # b24 (2026-01-25) … b0 (2026-01-01)
    scheduler = await env.open()
    await env.subscribe(1, "08:30")
    await scheduler.run_due(utc(2026, 3, 5, 8, 30))
    assert env.shown(1)[0][-1] == "Title of b15"  # the oldest shown: dated 2026-01-16
    assert "15 older briefs" in more_text(env, 1)

    # Added to disk after the first digest: a new brief, one dated after the cutoff but
    # before the newest shown (added late), and one dated before the cutoff.
    env.library = sorted(
        [
            *env.library,
            make_brief("fresh", dt.date(2026, 3, 5), title="Fresh news"),
            make_brief("late-after", dt.date(2026, 1, 20), title="Late, after the cutoff"),
            make_brief("late-before", dt.date(2026, 1, 10), title="Late, before the cutoff"),
        ],
        key=order_key,
        reverse=True,
    )
    await scheduler.run_due(utc(2026, 3, 6, 8, 30))
    assert env.shown(1)[1:] == [["Fresh news", "Late, after the cutoff"]]
    reply, _, _ = env.poster.posted_to(1)[-1]
    assert reply.description == "2 new briefs since the last digest."
    assert more_text(env, 1) == ""  # nothing waiting, and the archive is not mentioned again

    # The day after: nothing new. The archive, and the late brief before the cutoff, never come.
    await scheduler.run_due(utc(2026, 3, 7, 8, 30))
    assert len(env.poster.posted_to(1)) == 2
    slot = await env.store.get_slot(1, dt.date(2026, 3, 7), T0830)
    assert slot is not None and slot.reason == "nothing new"
    assert await sent_rows(env) == 12


async def test_subscribing_again_after_unsubscribing_starts_with_a_new_first_digest(
    env: Env,
) -> None:
    env.library = newest_first(25)
    scheduler = await env.open()
    await env.subscribe(1, "08:30")
    await scheduler.run_due(utc(2026, 3, 5, 8, 30))
    # Unsubscribing forgets the channel's history, its archive cutoff included.
    await env.store.remove(1)
    env.library = [make_brief("fresh", dt.date(2026, 3, 5), title="Fresh news"), *env.library]
    await env.clock.set(utc(2026, 3, 5, 12, 0))
    await env.subscribe(1, "08:30")
    await scheduler.run_due(utc(2026, 3, 6, 8, 30))
    reply, _, _ = env.poster.posted_to(1)[-1]
    assert "first daily digest" in (reply.description or "")
    assert env.shown(1)[-1] == ["Fresh news", *(f"Title of b{n}" for n in range(24, 15, -1))]
    assert "16 older briefs" in more_text(env, 1)


async def test_a_paused_channel_subscribed_again_keeps_its_archive(env: Env) -> None:
    env.library = newest_first(25)
    scheduler = await env.open()
    await env.subscribe(1, "08:30")
    await scheduler.run_due(utc(2026, 3, 5, 8, 30))
    await env.store.disable(1, "no permission: Missing Access")
    env.library = [make_brief("fresh", dt.date(2026, 3, 5), title="Fresh news"), *env.library]
    await env.clock.set(utc(2026, 3, 5, 12, 0))
    await env.subscribe(1, "08:30")  # resumes: a pause is not a new subscription
    await scheduler.run_due(utc(2026, 3, 6, 8, 30))
    assert env.shown(1)[-1] == ["Fresh news"]


async def test_channel_from_a_version_1_database_keeps_its_history_after_the_upgrade(
    sqlite_env: Env,
) -> None:
    env = sqlite_env
    # Version 1: channel 1 had b0…b2 (a row each, no cutoff) and was interrupted sending b3.
    make_version_1_database(Path(env.path))
    env.library = newest_first(5)
    scheduler = await env.open()
    await scheduler.run_due(utc(2026, 3, 5, 8, 31))
    # The interrupted claim is resumed with the nonce it was sent with (version 1's form).
    assert [a.nonce for a in env.poster.attempts] == ["d1-20260305"]
    assert env.shown(1) == [["Title of b3"]]  # the interrupted digest, as planned
    await scheduler.run_due(utc(2026, 3, 6, 8, 30))
    assert env.shown(1)[1:] == [["Title of b4"]]  # then only what it has not had
    reply, _, _ = env.poster.posted_to(1)[-1]
    assert reply.sections[0].heading == "New briefs"  # not taken for a first digest
    assert await env.store.history(1) == History(None, frozenset(f"b{n}" for n in range(5)))


# ---------------------------------------------------------------------------- status helpers


async def test_next_run_and_preview_show_what_is_coming_without_sending(env: Env) -> None:
    scheduler = await env.open()
    assert await scheduler.next_run(1) is None
    assert await scheduler.preview(1) is None
    await env.subscribe(1, "08:30", "Europe/London", topics=("budget",))
    assert await scheduler.next_run(1) == utc(2026, 3, 5, 8, 30)

    preview = await scheduler.preview(1)
    assert preview is not None and preview.private
    assert preview.title == "Preview — Digest — 2026-03-05"
    assert [i.label for i in preview.sections[0].items] == [
        "Title of b2",
        "Title of b1",
        "Title of b0",
    ]
    # A preview delivers nothing, and does not set the first digest's archive cutoff.
    assert await env.store.history(1) == History(None, frozenset())

    await scheduler.run_due(utc(2026, 3, 5, 8, 30))
    assert await scheduler.next_run(1) == utc(2026, 3, 6, 8, 30)
    empty = await scheduler.preview(1)
    assert empty is not None and "Nothing new" in (empty.description or "")
    assert "never posted" in (empty.description or "")


def test_nonce_is_deterministic_short_and_distinct() -> None:
    biggest = digest_nonce(2**64 - 1, dt.date(2026, 12, 31), dt.time(23, 59))
    assert len(biggest) == 25
    assert digest_nonce(1234, DAY, T0830) == digest_nonce(1234, DAY, T0830) == "dya-2603050830"
    assert digest_nonce(1234, DAY, T0830) != digest_nonce(1235, DAY, T0830)
    assert digest_nonce(1234, DAY, T0830) != digest_nonce(1234, DAY + dt.timedelta(days=1), T0830)
    # Each slot of a day has its own nonce.
    assert digest_nonce(1234, DAY, T0830) != digest_nonce(1234, DAY, dt.time(17, 30))
