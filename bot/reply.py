"""The renderer-neutral reply every command returns; text and Discord renderers draw it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum

# A moment in a reply travels as Discord's timestamp markup, which Discord shows in each
# reader's own zone; the console renders it in the reply's `zone` (see `render_timestamps`).
TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")


def timestamp(when: dt.datetime, style: str = "f") -> str:
    """`when` as a timestamp: "<t:1772699400:f>" (f: date and time; R: relative; d: date)."""
    if when.tzinfo is None:
        raise ValueError(f"a timestamp needs an aware datetime, got {when.isoformat()}")
    return f"<t:{int(when.timestamp())}:{style}>"


def render_timestamps(text: str, zone: dt.tzinfo, now: dt.datetime | None = None) -> str:
    """Timestamps in `text` as local times in `zone` ("Thu 05 Mar 2026, 08:30 GMT")."""

    def one(match: re.Match[str]) -> str:
        when = dt.datetime.fromtimestamp(int(match[1]), dt.UTC).astimezone(zone)
        style = match[2] or "f"
        if style == "R":
            reference = now or dt.datetime.now(dt.UTC)
            minutes = round((when - reference).total_seconds() / 60)
            span = abs(minutes)
            amount = (
                (f"{span} minutes" if span < 120 else f"{round(span / 60)} hours")
                if span < 48 * 60
                else f"{round(span / 1440)} days"
            )
            return f"in {amount}" if minutes >= 0 else f"{amount} ago"
        if style in "dD":
            return f"{when:%a %d %b %Y}"
        if style in "tT":
            return f"{when:%H:%M} {when.tzname()}"
        return f"{when:%a %d %b %Y, %H:%M} {when.tzname()}"

    return TIMESTAMP.sub(one, text)


class Status(StrEnum):
    """What kind of answer a reply is; renderers pick colour and visibility from it."""

    OK = "ok"
    NOT_FOUND = "not_found"  # the input named nothing we have; suggestions say what exists
    INVALID = "invalid"  # the input was malformed
    ERROR = "error"  # something failed on our side


@dataclass(frozen=True, slots=True)
class Item:
    """One entry: a quote, a point, a claim, a brief in a list."""

    text: str
    # Who or what the entry belongs to (a speaker, a brief title); shown as its heading.
    label: str | None = None
    # Provenance: context of a quote, brief and date of a point.
    detail: str | None = None
    # (start, end) spans of `text` to emphasise, e.g. a search match; renderers draw them bold.
    marks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of items, or a block of prose."""

    heading: str
    items: tuple[Item, ...] = ()
    body: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete answer to one command."""

    title: str
    status: Status = Status.OK
    description: str | None = None
    sections: tuple[Section, ...] = ()
    suggestions: tuple[str, ...] = ()
    footer: str | None = None
    url: str | None = None
    # Private replies are shown only to the person who asked (ephemeral on Discord).
    private: bool = field(default=False)
    # The IANA zone timestamps in the text are shown in where they cannot travel as
    # timestamps (the console); None: UTC.
    zone: str | None = None
    # Roles the bot itself names in the text as "<@&id>" (a digest's role): Discord shows
    # them as the role (an embed never pings). Any other mention markup is made inert.
    roles: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the command found what it was asked for."""
        return self.status is Status.OK


@dataclass(frozen=True, slots=True)
class Choice:
    """One autocomplete suggestion: what the user sees, and the value submitted."""

    name: str
    value: str
