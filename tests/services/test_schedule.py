"""Times and timezones as users type them, and when a daily digest falls due (DST included)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.services.schedule import (
    ScheduleError,
    due_at,
    latest_due,
    next_due,
    parse_time,
    parse_timezone,
    timezone_suggestions,
)

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08:30", dt.time(8, 30)),
        ("8:30", dt.time(8, 30)),
        ("9:05", dt.time(9, 5)),
        (" 23:59 ", dt.time(23, 59)),
        ("00:00", dt.time(0, 0)),
        ("0830", dt.time(8, 30)),
        ("9", dt.time(9, 0)),
        ("9am", dt.time(9, 0)),
        ("9 AM", dt.time(9, 0)),
        ("9:30pm", dt.time(21, 30)),
        ("9:30 p.m.", dt.time(21, 30)),
        ("12am", dt.time(0, 0)),
        ("12pm", dt.time(12, 0)),
        ("noon", dt.time(12, 0)),
    ],
)
def test_times_people_type_are_understood(text: str, expected: dt.time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("25:00", "hours run 00–23"),
        ("24:00", "hours run 00–23"),
        ("9:60", "minutes run 00–59"),
        ("13pm", "1–12"),
        ("0am", "1–12"),
        ("half past nine", "HH:MM"),
        ("08:30:15", "HH:MM"),
        ("", "Give a time"),
        ("٠٨:٣٠", "HH:MM"),  # Arabic-Indic digits are not silently read as 08:30
    ],
)
def test_bad_times_say_what_is_wrong_with_an_example(text: str, says: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_time(text)
    assert says in caught.value.message
    assert "08:30" in caught.value.message or "21:30" in caught.value.message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Europe/London", "Europe/London"),
        ("europe/london", "Europe/London"),
        ("America/New York", "America/New_York"),
        ("london", "Europe/London"),
        ("New York", "America/New_York"),
        ("Karachi", "Asia/Karachi"),
        ("India", "Asia/Kolkata"),
        ("utc", "UTC"),
        ("Z", "UTC"),
        ("Etc/GMT+5", "Etc/GMT+5"),
    ],
)
def test_timezones_are_found_case_insensitively_and_by_city(text: str, key: str) -> None:
    assert parse_timezone(text).key == key


def test_misspelt_timezone_suggests_the_right_one() -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_timezone("Europe/Londn")
    assert caught.value.suggestions[0] == "Europe/London"
    assert "Did you mean Europe/London?" in caught.value.message
    assert "America/New_York" in caught.value.message  # examples of the format


@pytest.mark.parametrize(
    ("text", "suggested"),
    [
        ("EST", "America/New_York"),  # a real key, but a fixed offset without DST
        ("PST", "America/Los_Angeles"),
        ("IST", "Asia/Kolkata"),
    ],
)
def test_abbreviations_are_refused_with_the_zones_meant(text: str, suggested: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_timezone(text)
    assert "abbreviation" in caught.value.message
    assert suggested in caught.value.suggestions


@pytest.mark.parametrize("text", ["UTC+5", "+05:00", "GMT-3"])
def test_fixed_offsets_are_refused(text: str) -> None:
    with pytest.raises(ScheduleError, match="fixed UTC offset"):
        parse_timezone(text)


def test_ambiguous_and_unknown_names_are_explained() -> None:
    with pytest.raises(ScheduleError, match="several timezones") as several:
        parse_timezone("USA")
    assert "America/Chicago" in several.value.suggestions
    with pytest.raises(ScheduleError, match="Unknown timezone 'Narnia'"):
        parse_timezone("Narnia")
    with pytest.raises(ScheduleError, match="Give a timezone"):
        parse_timezone("  ")


def test_autocomplete_ranks_the_likely_zone_first_within_the_limit() -> None:
    assert timezone_suggestions("lon")[0] == "Europe/London"
    assert timezone_suggestions("new y")[0] == "America/New_York"
    assert timezone_suggestions("europe/londn")[0] == "Europe/London"
    assert timezone_suggestions("kara")[0] == "Asia/Karachi"
    assert timezone_suggestions("est")[0] == "America/New_York"  # not the fixed-offset EST
    assert timezone_suggestions("")[:3] == ["UTC", "Europe/London", "America/New_York"]
    assert len(timezone_suggestions("a")) == 25
    assert len(timezone_suggestions("a", limit=5)) == 5
    assert timezone_suggestions("zzzzzzzz") == []
    for name in timezone_suggestions("america"):
        parse_timezone(name)  # everything suggested is accepted


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
