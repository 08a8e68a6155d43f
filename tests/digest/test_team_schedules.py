"""Team schedules on the real scheduler and store: weekdays, several times a day across DST,
first-seen briefs, pauses, notices and quiet days (issue 17)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.clock import Zone
from bot.digest.scheduler import DeliveryForbidden, DigestScheduler, Notice
from bot.store import open_store
from bot.store.records import SlotState, Weekdays
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.digest.helpers import FakePoster, make_brief

UTC = dt.UTC
NY = "America/New_York"  # springs forward 2026-03-08, falls back 2026-11-01


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


class Notices:
    """A Notifier that records what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[Notice] = []

    async def notify(self, notice: Notice) -> str:
        self.sent.append(notice)
        return "recorded"


class Team:
    def __init__(self, store: Store, clock: FakeClock) -> None:
        self.store, self.clock = store, clock
        self.poster = FakePoster(clock)
        self.notices = Notices()
        self.briefs = [make_brief("b0")]
        self.scheduler = DigestScheduler(
            store, clock, lambda: self.briefs, self.poster, notifier=self.notices
        )

    async def subscribe(self, times: str, days: Weekdays, tz: str = NY, **kw: object) -> None:
        await self.store.upsert_subscription(
            guild_id=1,
            channel_id=5,
            times=[dt.time.fromisoformat(t) for t in times.split(",")],
            timezone=Zone.named(tz),
            created_by=77,
            days=days,
            **kw,  # type: ignore[arg-type]
        )

    async def poke(self) -> None:
        """Subscriptions changed: wait until the scheduler has planned its next wake-up."""
        mark = self.clock.entered
        self.scheduler.poke()
        await self.clock.settle(mark)

    def posts(self) -> list[dt.datetime | None]:
        return [at for _, _, at in self.poster.posted_to(5)]

    async def add_brief(self, brief_id: str, day: dt.date = dt.date(2026, 3, 1)) -> None:
        self.briefs = [make_brief(brief_id, day), *self.briefs]


@pytest.fixture
async def team(database: str) -> AsyncIterator[Team]:
    clock = FakeClock(utc(3, 2, 0))  # Monday 2 March, 19:00 EST the day before
    async with await open_store(database, clock=clock) as store:
        t = Team(store, clock)
        t.scheduler.start()
        await clock.settle(0)
        yield t
        await t.scheduler.stop()


async def test_weekdays_twice_a_day_through_a_dst_week_each_slot_once(team: Team) -> None:
    # Weekdays at 08:00 and 17:30 in New York, over the week New York springs forward
    # (Sunday 8 March). A new brief arrives before every slot, so a slot posted twice would
    # show as a second post, and a slot skipped would show as a missing one.
    await team.subscribe("08:00,17:30", Weekdays.WEEKDAYS)
    await team.poke()
    expected = []
    for day in range(2, 14):  # Mon 2 … Fri 13 March
        date = dt.date(2026, 3, day)
        for hour, minute in ((8, 0), (17, 30)):
            offset = 5 if day < 8 else 4  # EST, then EDT
            when = utc(3, day, hour + offset, minute)
            await team.add_brief(f"n{day}-{hour}", date)
            await team.clock.set(when + dt.timedelta(minutes=1))
            if date.weekday() < 5:
                expected.append(when)
    assert team.posts() == expected  # ten weekdays × two, none on the weekend
    nonces = [n for _, n, _ in team.poster.posted_to(5)]
    assert len(set(nonces)) == len(nonces)
    # The slot after the weekend carries what arrived over the weekend.
    monday = team.poster.posted_to(5)[10][0]
    labels = [i.label for i in monday.sections[0].items]
    assert "Title of n8-17" in labels and "Title of n7-8" in labels


async def test_fall_back_day_posts_a_repeated_time_once(team: Team) -> None:
    await team.clock.set(utc(10, 30))
    await team.subscribe("01:30,09:00", Weekdays.EVERY_DAY)
    await team.poke()
    for hour in range(0, 24):
        await team.add_brief(f"h{hour}", dt.date(2026, 11, 1))
        await team.clock.set(utc(11, 1, hour, 59))
    await team.clock.set(utc(11, 2, 4, 0))
    # 01:30 EDT (05:30 UTC) once — not again at 01:30 EST — then 09:00 EST (14:00 UTC).
    assert [p for p in team.posts() if p and p.day == 1] == [utc(11, 1, 5, 30), utc(11, 1, 14)]


async def test_a_late_brief_about_last_month_reaches_the_next_digest(team: Team) -> None:
    await team.subscribe("08:00", Weekdays.EVERY_DAY, tz="UTC")
    team.briefs = [make_brief(f"old{n}", dt.date(2026, 2, 20 + n)) for n in range(3)][::-1]
    await team.poke()
    await team.clock.set(utc(3, 2, 8, 1))  # first digest: the cutoff is old0 (20 Feb)
    await team.add_brief("drafted-today", dt.date(2026, 2, 1))  # dated before the cutoff
    await team.clock.set(utc(3, 3, 8, 1))
    second = team.poster.posted_to(5)[1][0]
    assert [i.label for i in second.sections[0].items] == ["Title of drafted-today"]


async def test_member_pause_until_a_date_keeps_settings_and_resumes_itself(team: Team) -> None:
    await team.subscribe("08:00", Weekdays.EVERY_DAY, tz="UTC", quiet=False)
    paused = await team.store.pause(5, by=77, until=dt.date(2026, 3, 5))
    assert paused is not None and not paused.enabled and not paused.quiet
    await team.poke()
    await team.clock.set(utc(3, 5, 8, 1))
    # 2, 3, 4 March skipped as paused (logged); 5 March posted, with every setting kept.
    assert team.posts() == [utc(3, 5, 8)]
    log = await team.store.slot_log(5)
    assert [s.state for s in log][:2] == [SlotState.SENT, SlotState.SKIPPED]
    assert log[1].reason is not None and log[1].reason.startswith("paused: paused by <@77>")
    assert team.notices.sent == []  # a member's pause is not announced to the member


async def test_quiet_false_posts_nothing_new_since_the_last_digest(team: Team) -> None:
    await team.subscribe("08:00", Weekdays.EVERY_DAY, tz="UTC", quiet=False)
    await team.poke()
    await team.clock.set(utc(3, 3, 8, 1))
    quiet = team.poster.posted_to(5)[1][0]
    assert quiet.description is not None and quiet.description.startswith("Nothing new since <t:")
    assert str(int(utc(3, 2, 8).timestamp())) in quiet.description


async def test_a_403_pauses_and_tells_the_subscriber_once(team: Team) -> None:
    await team.subscribe("08:00,12:00", Weekdays.EVERY_DAY, tz="UTC")
    team.poster.always[5] = DeliveryForbidden("Missing Access (403)", "grant View Channel")
    await team.poke()
    await team.clock.set(utc(3, 4, 13))
    [notice] = team.notices.sent
    assert notice.dm_user_id == 77 and notice.notices_channel_id is None
    text = notice.reply.description or ""
    assert "<#5>" in text and "Missing Access (403)" in text and "grant View Channel" in text
    # Fixed and resumed: the next slot is posted, and a new pause would be told again.
    del team.poster.always[5]
    assert await team.store.resume(5) is not None
    await team.poke()
    await team.clock.set(utc(3, 5, 8, 1))
    assert team.posts() == [utc(3, 5, 8)]
