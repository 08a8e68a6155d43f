"""When a daily digest falls due: one slot per local date, across DST and skipped dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.digest.due import due_at, latest_due, next_due

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_due_instant_on_an_ordinary_day_follows_the_zone_offset() -> None:
    assert due_at(dt.date(2026, 1, 15), dt.time(8, 30), LONDON) == utc(2026, 1, 15, 8, 30)
    assert due_at(dt.date(2026, 7, 15), dt.time(8, 30), LONDON) == utc(2026, 7, 15, 7, 30)


def test_spring_forward_time_that_does_not_exist_is_shifted_forward() -> None:
    # New York skips 02:00–03:00 on 2026-03-08: 02:30 is posted at 03:30 EDT.
    when = due_at(dt.date(2026, 3, 8), dt.time(2, 30), NEW_YORK)
    assert when == utc(2026, 3, 8, 7, 30)
    assert when.astimezone(NEW_YORK).time() == dt.time(3, 30)
    # London skips 01:00–02:00 on 2026-03-29: 01:30 is posted at 02:30 BST.
    when = due_at(dt.date(2026, 3, 29), dt.time(1, 30), LONDON)
    assert when == utc(2026, 3, 29, 1, 30)
    assert when.astimezone(LONDON).time() == dt.time(2, 30)


def test_fall_back_time_that_happens_twice_is_due_at_the_first() -> None:
    # New York repeats 01:00–02:00 on 2026-11-01: 01:30 EDT (05:30 UTC) comes first.
    assert due_at(dt.date(2026, 11, 1), dt.time(1, 30), NEW_YORK) == utc(2026, 11, 1, 5, 30)


def test_next_and_latest_due_walk_one_slot_per_local_date_across_dst() -> None:
    at = dt.time(1, 30)
    start = utc(2026, 10, 31, 0, 0)
    slots = []
    when = start
    for _ in range(3):
        due = next_due(at, NEW_YORK, when)
        slots.append((due.day, due.at))
        when = due.at
    assert slots == [
        (dt.date(2026, 10, 31), utc(2026, 10, 31, 5, 30)),
        (dt.date(2026, 11, 1), utc(2026, 11, 1, 5, 30)),  # not again at 06:30 UTC
        (dt.date(2026, 11, 2), utc(2026, 11, 2, 6, 30)),
    ]
    # Between the two 01:30s of 2026-11-01 the latest slot is still that day's first.
    assert latest_due(at, NEW_YORK, utc(2026, 11, 1, 6, 45)).day == dt.date(2026, 11, 1)
    assert latest_due(at, NEW_YORK, utc(2026, 11, 1, 5, 30)).at == utc(2026, 11, 1, 5, 30)
    assert latest_due(at, NEW_YORK, utc(2026, 11, 1, 5, 29)).day == dt.date(2026, 10, 31)


def test_a_date_the_zone_skipped_has_no_slot() -> None:
    # Samoa jumped from 2011-12-29 to 2011-12-31: one digest at 09:00 on the 31st, not two.
    apia = ZoneInfo("Pacific/Apia")
    first = next_due(dt.time(9), apia, dt.datetime(2011, 12, 29, 12, tzinfo=apia))
    second = next_due(dt.time(9), apia, first.at)
    assert first.day == dt.date(2011, 12, 31)
    assert second.day == dt.date(2012, 1, 1)
    assert second.at - first.at == dt.timedelta(days=1)
