"""What /digest subscribe is given, as users type it: a time of day, a time zone, topics.

Each is parsed once into the one form the rest of the digest uses (`dt.time`, `bot.clock.Zone`,
topic ids), or refused with a `ScheduleError` that says how to fix it. The lookup tables below
(popular zones, abbreviations, everyday names) serve parsing and autocomplete alike.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from collections.abc import Iterable
from zoneinfo import ZoneInfo, available_timezones

from bot.briefs.library import Library
from bot.clock import Zone, format_time
from bot.store.records import Weekdays
from bot.text import clip

TIME_EXAMPLES = "08:30, 9am, 18:00 or 6:15pm"
TIMES_EXAMPLES = "08:30 (once a day) or 08:00,17:30 (up to three times)"
DAYS_EXAMPLES = "daily, weekdays, weekends or mon,wed,fri"
DATE_EXAMPLES = "2026-03-20 or 20 March"
MAX_TIMES = 3
# What `topics:` takes for every topic again.
ALL_TOPICS = frozenset({"all", "all topics", "*"})
ZONE_EXAMPLES = "Europe/London, America/New_York, Asia/Karachi or UTC"
# Offered by the time autocomplete after what the user typed.
COMMON_TIMES = tuple(dt.time(h) for h in (7, 8, 9, 12, 17, 18))


class ScheduleError(ValueError):
    """A time or timezone the user gave cannot be used; the message says how to fix it."""

    def __init__(self, message: str, suggestions: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = tuple(suggestions)


class TopicError(ScheduleError):
    """A topic name the vocabulary does not know."""


# ---------------------------------------------------------------------------- time of day

_TIME = re.compile(
    r"""^(?:
        (?P<h>[0-9]{1,2}) (?: [:.h] (?P<m>[0-9]{2}) )? \s* (?P<ampm>[ap])\.?\s*m?\.?
      | (?P<h24>[0-9]{1,2}) (?: [:.h] (?P<m24>[0-9]{2}) )?
      | (?P<hh>[0-9]{2})(?P<mm>[0-9]{2})
    )$""",
    re.VERBOSE,
)
_WORDS = {"noon": dt.time(12, 0), "midday": dt.time(12, 0), "midnight": dt.time(0, 0)}


def parse_time(text: str) -> dt.time:
    """A time of day from "08:30", "8:30", "0830", "9", "9am", "9:30 pm", "noon"."""
    raw = text.strip()
    key = raw.casefold()
    if key in _WORDS:
        return _WORDS[key]
    match = _TIME.match(key)
    if match is None:
        raise ScheduleError(
            f"{raw!r} is not a time of day. Use 24-hour HH:MM, e.g. {TIME_EXAMPLES}."
            if raw
            else f"Give a time of day, e.g. {TIME_EXAMPLES}."
        )
    if match["ampm"]:
        hour, minute = int(match["h"]), int(match["m"] or 0)
        if not 1 <= hour <= 12:
            raise ScheduleError(
                f"{raw!r}: with am/pm the hour runs 1–12, e.g. 9am or 9:30pm; "
                f"or use 24-hour HH:MM such as 21:30."
            )
        # 12am is midnight and 12pm is noon.
        hour = hour % 12 + (12 if match["ampm"] == "p" else 0)
    else:
        if match["h24"] is not None:
            hour, minute = int(match["h24"]), int(match["m24"] or 0)
        else:
            hour, minute = int(match["hh"]), int(match["mm"])
        if hour > 23:
            raise ScheduleError(
                f"{raw!r} is not a time of day: hours run 00–23. "
                f"Use 24-hour HH:MM, e.g. {TIME_EXAMPLES}."
            )
    if minute > 59:
        raise ScheduleError(f"{raw!r} is not a time of day: minutes run 00–59, e.g. 08:30.")
    return dt.time(hour, minute)


def parse_times(text: str) -> tuple[dt.time, ...]:
    """Up to three times a day, comma-separated ("08:00,17:30"), ascending, each once."""
    parts = [part.strip() for part in text.split(",")]
    if not any(parts):
        raise ScheduleError(f"Give a time of day, e.g. {TIMES_EXAMPLES}.")
    times = sorted({parse_time(part) for part in parts if part})
    if len(times) > MAX_TIMES:
        raise ScheduleError(
            f"{len(times)} times given; a digest posts at most {MAX_TIMES} times a day, "
            f"e.g. {TIMES_EXAMPLES}."
        )
    return tuple(times)


_DAY_NAMES: dict[str, Weekdays] = {}
for _flag, _names in (
    (Weekdays.MON, ("mon", "monday", "mo")),
    (Weekdays.TUE, ("tue", "tues", "tuesday", "tu")),
    (Weekdays.WED, ("wed", "wednesday", "we")),
    (Weekdays.THU, ("thu", "thur", "thurs", "thursday", "th")),
    (Weekdays.FRI, ("fri", "friday", "fr")),
    (Weekdays.SAT, ("sat", "saturday", "sa")),
    (Weekdays.SUN, ("sun", "sunday", "su")),
):
    for _name in _names:
        _DAY_NAMES[_name] = _flag
_DAY_SETS = {
    "daily": Weekdays.EVERY_DAY,
    "every_day": Weekdays.EVERY_DAY,
    "everyday": Weekdays.EVERY_DAY,
    "weekdays": Weekdays.WEEKDAYS,
    "workdays": Weekdays.WEEKDAYS,
    "weekends": Weekdays.SAT | Weekdays.SUN,
    "weekend": Weekdays.SAT | Weekdays.SUN,
}
_DAY_ORDER = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


_RANGE_DASH = re.compile(r"\s*[-\u2013\u2014]\s*")


def parse_days(text: str) -> Weekdays:
    """Which days: "daily", "weekdays", "weekends" or a list ("mon,wed,fri"; "mon-fri")."""
    key = _normal(text)
    if key in _DAY_SETS:
        return _DAY_SETS[key]
    days = Weekdays(0)
    # "mon - thu" and "fri–sun" (an en dash, as phones and word processors type it) are ranges.
    ranges = _RANGE_DASH.sub("-", text)
    for part in (p.strip() for p in ranges.replace(" ", ",").split(",")):
        if not part:
            continue
        first, dash, last = part.partition("-")
        if dash and not (first and last):
            raise ScheduleError(
                f"{clip(part, 40)!r} in {clip(text.strip(), 80)!r} needs both ends, e.g. mon-thu."
            )
        start, end = _day(first, text), _day(last if dash else first, text)
        a, b = _DAY_ORDER.index(_short(start)), _DAY_ORDER.index(_short(end))
        for index in range(a, (b if b >= a else b + 7) + 1):
            days |= _DAY_NAMES[_DAY_ORDER[index % 7]]
    if not days:
        raise ScheduleError(f"Give the days to post on, e.g. {DAYS_EXAMPLES}.")
    return days


def _day(name: str, whole: str) -> Weekdays:
    flag = _DAY_NAMES.get(name.strip().casefold())
    if flag is None:
        close = difflib.get_close_matches(name.strip().casefold(), list(_DAY_NAMES), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise ScheduleError(
            f"{clip(name.strip(), 40)!r} in {clip(whole.strip(), 80)!r} is not a day of the "
            f"week.{hint} Use {DAYS_EXAMPLES}."
        )
    return flag


def _short(flag: Weekdays) -> str:
    return _DAY_ORDER[flag.bit_length() - 1]


def describe_days(days: Weekdays) -> str:
    """How a schedule's days read: "every day", "weekdays", "Mon, Wed, Fri"."""
    if days == Weekdays.EVERY_DAY:
        return "every day"
    if days == Weekdays.WEEKDAYS:
        return "weekdays"
    if days == Weekdays.SAT | Weekdays.SUN:
        return "weekends"
    return ", ".join(d.title() for d in _DAY_ORDER if days & _DAY_NAMES[d])


_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y")
_YEARLESS_FORMATS = ("%d %B", "%d %b", "%B %d", "%b %d")
# A pause with an end date ends within a year; longer is a pause until resumed. (The schedule
# arithmetic also runs out of calendar near year 9999: a pause "until 9999-12-31" broke status.)
MAX_PAUSE = dt.timedelta(days=366)


def parse_date(text: str, today: dt.date) -> dt.date:
    """A date to pause until: ISO ("2026-03-20") or "20 March [2026]"; after today, within a
    year."""
    raw = " ".join(text.replace(",", " ").split())
    parsed = _date(raw, today)
    if parsed is None:
        raise ScheduleError(f"{clip(text.strip(), 80)!r} is not a date. Use e.g. {DATE_EXAMPLES}.")
    if parsed <= today:
        raise ScheduleError(
            f"{parsed.isoformat()} is not after today ({today.isoformat()}): give a later "
            f"date, e.g. {(today + dt.timedelta(days=7)).isoformat()}."
        )
    if parsed > today + MAX_PAUSE:
        raise ScheduleError(
            f"{parsed.isoformat()} is more than a year ahead: a pause with a date ends at most "
            f"a year ahead ({(today + MAX_PAUSE).isoformat()}). For longer, run /digest pause "
            "without a date: it lasts until someone runs /digest resume."
        )
    return parsed


def _date(raw: str, today: dt.date) -> dt.date | None:
    """The date `raw` names; without a year, the next such date after today."""
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(raw, fmt).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    for fmt in _YEARLESS_FORMATS:
        try:
            # Read in a leap year, so "29 Feb" is a date (strptime's default year, 1900, is not).
            month_day = dt.datetime.strptime(f"{raw} 2000", f"{fmt} %Y").date()  # noqa: DTZ007
        except ValueError:
            continue
        for year in range(today.year, today.year + 9):
            try:
                candidate = month_day.replace(year=year)
            except ValueError:  # 29 February of a common year
                continue
            if candidate > today:
                return candidate
    return None


def time_suggestions(typed: str) -> list[str]:
    """Times for autocomplete: the typed one as HH:MM when it reads as a time, then common ones."""
    try:
        parsed = [format_time(parse_time(typed))] if typed.strip() else []
    except ScheduleError:
        parsed = []
    return list(dict.fromkeys(parsed + [format_time(t) for t in COMMON_TIMES]))


# ---------------------------------------------------------------------------- timezones

# Keys that are not places: nobody should pick these. (Keys that are refused abbreviations,
# EST, MST and HST, are left out too.)
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
_REGIONS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)
# Shown first when the user has typed nothing, and preferred among equal matches.
POPULAR = (
    "UTC",
    "Europe/London",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/Paris",
    "Europe/Berlin",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Australia/Sydney",
    "America/Toronto",
    "America/Sao_Paulo",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Europe/Moscow",
    "Europe/Istanbul",
    "Asia/Jakarta",
    "Asia/Dhaka",
    "Pacific/Auckland",
    "America/Mexico_City",
)
# Abbreviations are ambiguous (IST: India, Israel or Ireland) and a fixed abbreviation
# ignores daylight saving time, so they are refused with the zones people usually mean.
# EST, MST and HST are keys in the database, but fixed offsets without DST: refused too.
_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "est": ("America/New_York", "America/Toronto", "America/Detroit"),
    "edt": ("America/New_York", "America/Toronto", "America/Detroit"),
    "et": ("America/New_York", "America/Toronto"),
    "cst": ("America/Chicago", "America/Mexico_City", "Asia/Shanghai"),
    "cdt": ("America/Chicago", "America/Winnipeg"),
    "ct": ("America/Chicago",),
    "mst": ("America/Denver", "America/Phoenix", "America/Edmonton"),
    "mdt": ("America/Denver", "America/Edmonton"),
    "mt": ("America/Denver",),
    "pst": ("America/Los_Angeles", "America/Vancouver"),
    "pdt": ("America/Los_Angeles", "America/Vancouver"),
    "pt": ("America/Los_Angeles",),
    "akst": ("America/Anchorage",),
    "hst": ("Pacific/Honolulu",),
    "bst": ("Europe/London",),
    "ist": ("Asia/Kolkata", "Asia/Jerusalem", "Europe/Dublin"),
    "cest": ("Europe/Paris", "Europe/Berlin"),
    "eest": ("Europe/Athens", "Europe/Helsinki"),
    "msk": ("Europe/Moscow",),
    "pkt": ("Asia/Karachi",),
    "jst": ("Asia/Tokyo",),
    "kst": ("Asia/Seoul",),
    "sgt": ("Asia/Singapore",),
    "hkt": ("Asia/Hong_Kong",),
    "aest": ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane"),
    "aedt": ("Australia/Sydney", "Australia/Melbourne"),
    "awst": ("Australia/Perth",),
    "nzst": ("Pacific/Auckland",),
    "nzdt": ("Pacific/Auckland",),
    "sast": ("Africa/Johannesburg",),
    "wat": ("Africa/Lagos",),
    "eat": ("Africa/Nairobi",),
    "gst": ("Asia/Dubai",),
}
# Everyday names for places with one zone; accepted as that zone.
_COMMON: dict[str, str] = {
    "z": "UTC",
    "nyc": "America/New_York",
    "washington": "America/New_York",
    "boston": "America/New_York",
    "la": "America/Los_Angeles",
    "san_francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "uk": "Europe/London",
    "britain": "Europe/London",
    "england": "Europe/London",
    "scotland": "Europe/London",
    "ireland": "Europe/Dublin",
    "france": "Europe/Paris",
    "germany": "Europe/Berlin",
    "spain": "Europe/Madrid",
    "italy": "Europe/Rome",
    "netherlands": "Europe/Amsterdam",
    "india": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "bombay": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new_delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "pakistan": "Asia/Karachi",
    "islamabad": "Asia/Karachi",
    "lahore": "Asia/Karachi",
    "china": "Asia/Shanghai",
    "beijing": "Asia/Shanghai",
    "korea": "Asia/Seoul",
    "south_korea": "Asia/Seoul",
    "uae": "Asia/Dubai",
    "abu_dhabi": "Asia/Dubai",
    "saudi_arabia": "Asia/Riyadh",
    "bangladesh": "Asia/Dhaka",
    "nigeria": "Africa/Lagos",
    "kenya": "Africa/Nairobi",
    "south_africa": "Africa/Johannesburg",
    "new_zealand": "Pacific/Auckland",
}
# Countries that span several zones: the user has to pick one.
_SEVERAL: dict[str, tuple[str, ...]] = {
    "us": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "usa": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "america": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "canada": ("America/Toronto", "America/Winnipeg", "America/Edmonton", "America/Vancouver"),
    "australia": (
        "Australia/Sydney",
        "Australia/Brisbane",
        "Australia/Adelaide",
        "Australia/Perth",
    ),
    "brazil": ("America/Sao_Paulo", "America/Manaus", "America/Fortaleza"),
    "russia": ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok"),
    "mexico": ("America/Mexico_City", "America/Tijuana", "America/Cancun"),
    "eastern": ("America/New_York", "America/Toronto"),
    "central": ("America/Chicago", "America/Winnipeg"),
    "mountain": ("America/Denver", "America/Edmonton"),
    "pacific": ("America/Los_Angeles", "America/Vancouver"),
}
_OFFSET = re.compile(r"^(?:utc|gmt)?_?(?P<sign>[+\-−])_?(?P<h>[0-9]{1,2})(?::?(?P<m>[0-9]{2}))?$")
# Etc/GMT+5 is UTC-5 (POSIX signs): never offered to someone who typed an offset or a city.
_ETC_OFFSET = re.compile(r"^Etc/GMT[+-][0-9]+$")


def _normal(text: str) -> str:
    """How a zone name is compared: case-insensitive, spaces as underscores."""
    return "_".join(text.strip().split()).casefold()


@functools.cache
def _zones() -> dict[str, str]:
    """Every usable zone key by its normal form."""
    return {
        _normal(key): key
        for key in available_timezones()
        if key not in _NOT_ZONES and _normal(key) not in _ABBREVIATIONS
    }


@functools.cache
def _cities() -> dict[str, tuple[str, ...]]:
    """Zone keys by the normal form of their last part ("london" → Europe/London)."""
    found: dict[str, list[str]] = {}
    for key in sorted(_zones().values(), key=_rank_key):
        found.setdefault(_normal(key.rsplit("/", 1)[-1]), []).append(key)
    return {city: tuple(keys) for city, keys in found.items()}


def _rank_key(key: str) -> tuple[int, int, str]:
    """Popular zones first, then current region/city names, then legacy aliases."""
    popular = POPULAR.index(key) if key in POPULAR else len(POPULAR)
    legacy = 0 if key.split("/", 1)[0] in _REGIONS and "/" in key else 1
    return (popular, legacy, key)


def parse_timezone(text: str) -> Zone:
    """The IANA zone the user means; case-insensitive, city names and everyday names accepted."""
    raw = text.strip()
    if not raw:
        raise ScheduleError(f"Give a timezone, e.g. {ZONE_EXAMPLES}.", POPULAR[:5])
    key = _normal(raw)
    if key in _ABBREVIATIONS:
        options = _ABBREVIATIONS[key]
        raise ScheduleError(
            f"{raw!r} is an abbreviation; abbreviations are ambiguous and ignore daylight "
            f"saving time. Use a region name such as {options[0]}.",
            options,
        )
    name = _zones().get(key) or _COMMON.get(key)
    if name is None and key in _SEVERAL:
        options = _SEVERAL[key]
        raise ScheduleError(
            f"{raw!r} spans several timezones; pick one, e.g. {', '.join(options)}.", options
        )
    if name is None and _OFFSET.match(key):
        near = _zones_at_offset(key)
        raise ScheduleError(
            f"{raw!r} is a fixed UTC offset, which ignores daylight saving time. Use the "
            f"region name of a place, e.g. {', '.join(near[:3]) or ZONE_EXAMPLES}.",
            near[:5] or POPULAR[:5],
        )
    if name is None:
        name = _city(raw, key)
    if name is None:
        close = _close(key, 5)
        hint = f"Did you mean {close[0]}? " if close else ""
        raise ScheduleError(
            f"Unknown timezone {raw!r}. {hint}Use an IANA name such as {ZONE_EXAMPLES}.", close
        )
    try:
        return Zone.named(name)
    except ValueError as exc:  # the tz database is broken
        raise ScheduleError(f"Timezone {name!r} could not be loaded: {exc}") from exc


def _city(raw: str, key: str) -> str | None:
    """The zone named by its city alone ("london"), if only one current zone has that city."""
    cities = _cities().get(key, ())
    current = [c for c in cities if _rank_key(c)[1] == 0] or list(cities)
    if len(current) == 1 or (current and current[0] in POPULAR):
        return current[0]
    if current:
        raise ScheduleError(
            f"{raw!r} matches several timezones; pick one: {', '.join(current[:5])}.",
            current[:5],
        )
    return None


def _close(query: str, limit: int) -> list[str]:
    """Zones whose name or city looks like a misspelling of `query`."""
    zones = _zones()
    ranked = [zones[c] for c in difflib.get_close_matches(query, list(zones), n=limit, cutoff=0.6)]
    for city in difflib.get_close_matches(query, list(_cities()), n=limit, cutoff=0.7):
        ranked += _cities()[city]
    ranked += [_COMMON[c] for c in difflib.get_close_matches(query, list(_COMMON), n=3, cutoff=0.8)]
    return list(dict.fromkeys(ranked))[:limit]


@functools.cache
def _sorted_keys() -> tuple[tuple[str, str], ...]:
    """Every zone key with its normal form, in suggestion order."""
    return tuple((_normal(k), k) for k in sorted(_zones().values(), key=_rank_key))


def _zones_at_offset(key: str, now: dt.datetime | None = None) -> list[str]:
    """Places whose clocks read UTC plus the offset `key` ("gmt+5", "+05:30") now, popular
    first; [] when `key` is not an offset."""
    match = _OFFSET.match(key)
    if match is None:
        return []
    sign = -1 if match["sign"] in "-−" else 1
    offset = sign * dt.timedelta(hours=int(match["h"]), minutes=int(match["m"] or 0))
    moment = now or dt.datetime.now(dt.UTC)
    found = [
        k
        for _, k in _sorted_keys()
        if _rank_key(k)[1] == 0 and moment.astimezone(ZoneInfo(k)).utcoffset() == offset
    ]
    # Research stations last: people live in the other places.
    return sorted(found, key=lambda k: k.startswith("Antarctica/"))


def timezone_suggestions(prefix: str, limit: int = 25) -> list[str]:
    """Zone names for autocomplete, best first: exact, prefix, word prefix, substring, fuzzy."""
    query = _normal(prefix)
    if not query:
        return list(POPULAR[:limit])
    if _OFFSET.match(query):
        # An offset typed ("GMT+5") names the places on it now, never the inverted Etc/GMT+5.
        return _zones_at_offset(query)[:limit]
    zones = _zones()
    keys = _sorted_keys()
    ranked: list[str] = [zones[query]] if query in zones else []
    ranked += _ABBREVIATIONS.get(query, ())
    ranked += _SEVERAL.get(query, ())
    ranked += [_COMMON[query]] if query in _COMMON else []
    ranked += [k for n, k in keys if n.startswith(query)]
    # "lon" → Europe/London, "new_y" → America/New_York: a prefix of any part of the name.
    ranked += [k for n, k in keys if any(part.startswith(query) for part in n.split("/"))]
    ranked += [k for n, k in keys if query in n]
    if len(ranked) < limit:
        ranked += _close(query, limit)
    if not query.startswith("etc/"):
        ranked = [k for k in ranked if not _ETC_OFFSET.match(k)]
    return list(dict.fromkeys(ranked))[:limit]


# ---------------------------------------------------------------------------- topics


def parse_topics(library: Library, text: str | None) -> tuple[str, ...]:
    """Comma-separated topic names or aliases → vocabulary ids (none given: every topic)."""
    if not text or not text.strip():
        return ()
    if text.strip().casefold() in ALL_TOPICS and library.topic(text.strip()) is None:
        return ()  # widens a narrowed digest again (no other way short of unsubscribing)
    ids: list[str] = []
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        topic = library.topic(name)
        if topic is None:
            raise TopicError(
                f"No topic is called {clip(name, 80)!r}. Separate topics with commas.",
                library.vocabulary.suggest(name),
            )
        ids.append(topic.id)
    return tuple(dict.fromkeys(ids))
