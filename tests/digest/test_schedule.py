"""Times, time zones and topics as users type them into /digest subscribe."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.digest.schedule import (
    ScheduleError,
    parse_days,
    parse_time,
    parse_timezone,
    time_suggestions,
    timezone_suggestions,
)
from bot.store.records import Weekdays


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


def test_time_autocomplete_offers_what_was_typed_then_common_times() -> None:
    assert time_suggestions("6:15pm")[:2] == ["18:15", "07:00"]
    assert time_suggestions("") == ["07:00", "08:00", "09:00", "12:00", "17:00", "18:00"]
    assert time_suggestions("25:99") == time_suggestions("")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon-thu", Weekdays.MON | Weekdays.TUE | Weekdays.WED | Weekdays.THU),
        # Spaces around the dash, as people write ranges.
        ("mon - thu", Weekdays.MON | Weekdays.TUE | Weekdays.WED | Weekdays.THU),
        ("fri – sun", Weekdays.FRI | Weekdays.SAT | Weekdays.SUN),
        ("mon, wed - thu", Weekdays.MON | Weekdays.WED | Weekdays.THU),
    ],
)
def test_day_ranges_as_people_type_them(text: str, expected: Weekdays) -> None:
    assert parse_days(text) == expected


@pytest.mark.parametrize("text", ["mon-", "-fri", "mon,-"])
def test_a_range_with_one_end_says_so(text: str) -> None:
    with pytest.raises(ScheduleError, match=r"needs both ends, e\.g\. mon-thu"):
        parse_days(text)
