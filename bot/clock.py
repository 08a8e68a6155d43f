"""Time as every layer sees it: the clock, aware UTC instants, a validated time zone, HH:MM.

The fake clock tests move by hand is in tests/digest/clock.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC


class Clock(Protocol):
    """Where the scheduler gets the time and waits for it."""

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    async def sleep_until(self, when: dt.datetime) -> None:
        """Return once `now()` has reached `when` (at once if it already has)."""
        ...


def require_aware(when: dt.datetime, what: str = "datetime") -> dt.datetime:
    """`when` in UTC; a naive datetime is a bug, so it is refused rather than guessed."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {when.isoformat()}")
    return when.astimezone(UTC)


class SystemClock:
    """The wall clock."""

    # Sleep in bounded steps and re-read the wall clock after each: asyncio sleeps on the
    # monotonic clock, which does not follow NTP corrections or a suspended laptop.
    max_step: float = 300.0

    def now(self) -> dt.datetime:
        """The current instant in UTC."""
        return dt.datetime.now(UTC)

    async def sleep_until(self, when: dt.datetime) -> None:
        """Sleep until the wall clock reaches `when`."""
        when = require_aware(when, "sleep_until")
        while True:
            remaining = (when - self.now()).total_seconds()
            if remaining <= 0:
                return
            # The small floor stops a spin when the event loop wakes a hair early.
            await asyncio.sleep(min(max(remaining, 0.001), self.max_step))


@dataclass(frozen=True, slots=True)
class Zone:
    """An IANA time zone, validated once: its key (as stored and shown) and its rules.

    `rules` is None only for a stored key this host's tzdata does not know (any more): such a
    zone is kept and shown, never scheduled. Two zones are equal when their keys are.
    """

    key: str
    rules: ZoneInfo | None = field(default=None, compare=False, repr=False)

    @classmethod
    def named(cls, key: str) -> Zone:
        """The zone with this exact IANA key; ValueError when this host does not know it."""
        try:
            return cls(key, ZoneInfo(key))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {key!r}") from exc

    @classmethod
    def stored(cls, key: str) -> Zone:
        """A zone read back from storage: kept even when this host no longer knows the key."""
        try:
            return cls(key, ZoneInfo(key))
        except (ZoneInfoNotFoundError, ValueError):
            return cls(key, None)


def format_time(at: dt.time) -> str:
    """A time of day as HH:MM, the form it is stored and shown in."""
    return f"{at.hour:02d}:{at.minute:02d}"
