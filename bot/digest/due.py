"""When a daily digest is due: one slot per *local date*, DST included.

The due instant of a date is its local time read with `fold=0` (PEP 495), which gives the two
DST rules:

* spring forward — a time that does not exist that day (02:30 in New York on 2026-03-08) is
  shifted forward by the gap and posts once, at 03:30 local;
* fall back — a time that happens twice (01:30 in New York on 2026-11-01) posts once, at its
  first occurrence.

A date the zone skipped altogether (Pacific/Apia, 2011-12-30) has no slot.

A schedule has up to three times a day on chosen weekdays: a slot is (local date, time), and
two times that land on the same instant on a DST day (02:30 shifted onto 03:30) post once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.store.records import Weekdays

UTC = dt.UTC
# A schedule posts at least once a week, so a slot is always found within eight days.
_WEEK = 8


@dataclass(frozen=True, slots=True)
class Due:
    """One slot of a schedule: the local date and time, and the UTC instant it is due."""

    at: dt.datetime
    day: dt.date
    time: dt.time = dt.time(0)


def due_at(day: dt.date, at: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The UTC instant of `at` on local date `day` (gap: shifted forward; repeat: the first)."""
    # fold=0 reads a nonexistent time with the offset before the gap (so 02:30 becomes 03:30
    # after a one-hour spring-forward) and a repeated time as its first occurrence.
    local = dt.datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=tz)
    return local.astimezone(UTC)


def slot_at(day: dt.date, at: dt.time, tz: dt.tzinfo) -> dt.datetime | None:
    """The due instant of local date `day`, or None for a date the zone skipped altogether."""
    when = due_at(day, at, tz)
    # A skipped date (Pacific/Apia jumped over 2011-12-30) shifts onto the next date's
    # instant; without this check it would post twice at that instant.
    if when == due_at(day + dt.timedelta(days=1), at, tz):
        return None
    return when


def next_due(at: dt.time, tz: dt.tzinfo, after: dt.datetime) -> Due:
    """The first slot due strictly after `after`."""
    start = after.astimezone(tz).date()
    for offset in range(-1, 4):
        day = start + dt.timedelta(days=offset)
        when = slot_at(day, at, tz)
        if when is not None and when > after:
            return Due(when, day)
    raise AssertionError(f"no slot after {after} for {at} in {tz}")  # pragma: no cover


def latest_due(at: dt.time, tz: dt.tzinfo, now: dt.datetime) -> Due:
    """The last slot due at or before `now`."""
    start = now.astimezone(tz).date()
    for offset in range(1, -4, -1):
        day = start + dt.timedelta(days=offset)
        when = slot_at(day, at, tz)
        if when is not None and when <= now:
            return Due(when, day)
    raise AssertionError(f"no slot before {now} for {at} in {tz}")  # pragma: no cover


def slots_on(day: dt.date, times: Sequence[dt.time], tz: dt.tzinfo) -> list[Due]:
    """The slots of one local date, in time order (none on a date the zone skipped)."""
    found: list[Due] = []
    for at in sorted(times):
        when = slot_at(day, at, tz)
        # Two times on one instant (02:30 shifted onto a 03:30 also scheduled) post once.
        if when is not None and all(d.at != when for d in found):
            found.append(Due(when, day, at))
    return found


def next_slot(times: Sequence[dt.time], days: Weekdays, tz: dt.tzinfo, after: dt.datetime) -> Due:
    """The first slot of the schedule due strictly after `after`."""
    start = after.astimezone(tz).date()
    for offset in range(-1, _WEEK + 1):
        day = start + dt.timedelta(days=offset)
        if days.has(day):
            for due in slots_on(day, times, tz):
                if due.at > after:
                    return due
    raise AssertionError(f"no slot after {after} for {times} in {tz}")  # pragma: no cover


def latest_slot(times: Sequence[dt.time], days: Weekdays, tz: dt.tzinfo, now: dt.datetime) -> Due:
    """The last slot of the schedule due at or before `now`."""
    start = now.astimezone(tz).date()
    for offset in range(1, -_WEEK - 1, -1):
        day = start + dt.timedelta(days=offset)
        if days.has(day):
            for due in reversed(slots_on(day, times, tz)):
                if due.at <= now:
                    return due
    raise AssertionError(f"no slot before {now} for {times} in {tz}")  # pragma: no cover


def upcoming(
    times: Sequence[dt.time], days: Weekdays, tz: dt.tzinfo, after: dt.datetime, count: int
) -> list[Due]:
    """The next `count` slots after `after`."""
    found: list[Due] = []
    while len(found) < count:
        found.append(next_slot(times, days, tz, found[-1].at if found else after))
    return found
