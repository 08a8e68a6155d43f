"""One method per /feeds command, each returning a renderer-neutral Reply."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Sequence

from bot import limits
from bot.briefs.links import canonical_url
from bot.ingest.fetch import BadScheme, BadURL, ConnectionFailed, RefusedAddress, Timeout
from bot.reply import Choice, Item, Reply, Section, Status
from bot.store.feeds import Feed
from bot.store.sqlite import Store
from bot.text import clip, fold, plural

log = logging.getLogger(__name__)

DEFAULT_EVERY = dt.timedelta(minutes=15)
MIN_EVERY = dt.timedelta(minutes=5)
MAX_EVERY = dt.timedelta(days=1)
EVERY = re.compile(r"^\s*(\d+)\s*(m|min|mins|minutes?|h|hr|hrs|hours?)?\s*$", re.IGNORECASE)
# What `every` accepts, said the same way in the option's description and in every refusal.
EVERY_ACCEPTS = "5m to 24h in whole minutes or hours, e.g. 15m, 90m, 2h (a bare number is minutes)"
EVERY_DESCRIPTION = f"Default 15m; {EVERY_ACCEPTS}"
# Discord wants an answer within 3 s: a slow name lookup at add time gives up first.
VET_SECONDS = 2.0
# A feed chosen from autocomplete whose address is too long for a choice's value goes by id.
_BY_ID = re.compile(r"^#(\d{1,18})$")
# Named apart: inside FeedService, `list` is the /feeds list method.
Choices = list[Choice]


class FeedInputError(ValueError):
    """The command's input is not usable; `str()` says why and how to fix it."""


def parse_every(text: str | None) -> dt.timedelta:
    """`15`, `15m`, `30 min`, `2h` → an interval from 5 minutes to a day (default 15 min)."""
    if text is None or not text.strip():
        return DEFAULT_EVERY
    shown = clip(" ".join(text.split()), 40)
    match = EVERY.match(text)
    if match is None:
        raise FeedInputError(f"every: {shown!r} is not an interval. Give {EVERY_ACCEPTS}.")
    number, unit = int(match.group(1)), (match.group(2) or "m").lower()
    every = dt.timedelta(hours=number) if unit.startswith("h") else dt.timedelta(minutes=number)
    if every < MIN_EVERY:
        raise FeedInputError(
            f"every: {shown!r} is too often; feeds are polled at most every 5 minutes. "
            f"Give {EVERY_ACCEPTS}."
        )
    if every > MAX_EVERY:
        raise FeedInputError(
            f"every: {shown!r} is too rare; feeds are polled at least once a day. "
            f"Give {EVERY_ACCEPTS}."
        )
    return every


def check_url(text: str) -> str:
    """The feed address as given, if it is an absolute http(s) URL."""
    url = text.strip()
    if canonical_url(url) is None:
        raise FeedInputError(f"{clip(url, 100)!r} is not an http or https address")
    return url


def _every(interval: dt.timedelta) -> str:
    minutes = int(interval.total_seconds() // 60)
    if minutes % 60 == 0:
        return plural(minutes // 60, "hour")
    return plural(minutes, "minute")


def _at(when: dt.datetime | None) -> str:
    return "never" if when is None else f"{when:%Y-%m-%d %H:%M} UTC"


def _state(feed: Feed) -> str:
    if feed.paused:
        return f"paused: {feed.paused_reason}"
    if feed.last_error:
        return f"failing: {feed.last_error}"
    if feed.last_poll is None:
        return "not polled yet"
    return feed.last_result or "ok"


class FeedService:
    """The /feeds commands over the store; `wake` nudges the polling loop."""

    def __init__(
        self,
        store: Store,
        *,
        resolve_topic: Callable[[str], str | None],
        wake: Callable[[], None] = lambda: None,
        vet: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        """`resolve_topic` maps a name or alias to a topic id (None if unknown); `vet` judges
        a feed's address as the fetcher will (`Fetcher.vet`), so a refusal comes at add time."""
        self.store = store
        self.resolve_topic = resolve_topic
        self.wake = wake
        self.vet = vet

    def _topics(self, text: str | None) -> tuple[str, ...] | None:
        """The topic ids named (None: the option was left out; `none` clears them)."""
        if text is None or not text.strip():
            return None
        if fold(text) == "none":
            return ()
        names = [t.strip() for t in text.split(",") if t.strip()]
        if not names:
            # Only commas: a slip, not a wish for every topic (which is leaving it out).
            raise FeedInputError(
                f"topics: {clip(text.strip(), 40)!r} names no topic. Give topic names "
                "separated by commas, e.g. minerals, CT (or none for no topics)."
            )
        ids: list[str] = []
        for name in names:
            topic = self.resolve_topic(name)
            if topic is None:
                raise FeedInputError(
                    f"topics: unknown topic {clip(name, 60)!r}; see /topic for the list"
                )
            ids.append(topic)
        return tuple(dict.fromkeys(ids))

    async def _find(self, guild_id: int, url: str) -> Feed | None:
        feeds = await self.store.guild_feeds(guild_id)
        by_id = _BY_ID.match(url.strip())
        if by_id is not None:
            return next((f for f in feeds if f.id == int(by_id.group(1))), None)
        key = canonical_url(url.strip())
        for feed in feeds:
            if feed.url == url.strip() or (key is not None and canonical_url(feed.url) == key):
                return feed
        return None

    async def _refusal(self, url: str) -> tuple[str | None, str | None]:
        """Why the fetcher would refuse `url` (a refusal), or why it could not tell (a note)."""
        if self.vet is None:
            return None, None
        try:
            await self.vet(url)
        except RefusedAddress as exc:
            return (
                f"{exc}. An intranet feed's host must be listed in "
                "BRIEFBOT_FETCH_PRIVATE_HOSTS by whoever runs the bot.",
                None,
            )
        except (BadScheme, BadURL) as exc:
            return f"{exc}.", None
        except (ConnectionFailed, Timeout) as exc:
            # Perhaps a typo, perhaps a passing DNS failure: the poll decides (and refuses a
            # private address then too), so the feed is kept and the editor warned.
            # The message names the host only: a feed's URL can carry a key in its query.
            log.info("feed address not vetted at add time: %s", exc)
            return None, f"Note: {exc} just now; /feeds status shows how the first poll went."
        return None, None

    async def add(
        self, guild_id: int, user_id: int, url: str, topics: str | None, every: str | None
    ) -> Reply:
        """/feeds add: watch a feed (or change one and resume it); polled at once.

        Options left out keep a watched feed's own (a new feed gets no topics, every 15m)."""
        try:
            checked = check_url(url)
            interval = parse_every(every) if every is not None and every.strip() else None
            topic_ids = self._topics(topics)
        except FeedInputError as exc:
            return Reply("Feed not added", Status.INVALID, str(exc), private=True)
        existing = await self._find(guild_id, checked)
        refused, note = await self._refusal(existing.url if existing else checked)
        if refused is not None:
            return Reply("Feed not added", Status.INVALID, refused, private=True)
        if interval is None:
            interval = existing.interval if existing else DEFAULT_EVERY
        if topic_ids is None:
            topic_ids = existing.topics if existing else ()
        feed, created = await self.store.add_feed(
            guild_id=guild_id,
            url=existing.url if existing else checked,
            topics=topic_ids,
            interval=interval,
            created_by=user_id,
        )
        self.wake()
        what = "Watching" if created else "Updated"
        lines = [
            f"{what} {feed.url}: polled every {_every(feed.interval)}, starting now.",
            "New stories are drafted to the review channel; nothing is published "
            "until an editor publishes it.",
        ]
        if feed.topics:
            lines.append(f"Topics suggested to its drafts: {', '.join(feed.topics)}.")
        if note is not None:
            lines.append(note)
        return Reply("Feed added" if created else "Feed updated", description=" ".join(lines))

    async def remove(self, guild_id: int, url: str) -> Reply:
        """/feeds remove: stop watching a feed (what it drafted stays)."""
        feed = await self._find(guild_id, url)
        if feed is None:
            return await self._unknown(guild_id, url, "Feed not removed")
        await self.store.remove_feed(feed.id)
        return Reply(
            "Feed removed",
            description=f"No longer watching {feed.url}. Its drafts stay in review; adding it "
            "again drafts only stories it has not seen.",
        )

    async def list(self, guild_id: int) -> Reply:
        """/feeds list: every feed of the guild, with how it stands."""
        feeds = await self.store.guild_feeds(guild_id)
        if not feeds:
            return Reply(
                "No feeds", Status.NOT_FOUND, "This server watches no feeds. Add one: /feeds add"
            )
        items = tuple(
            Item(
                text=clip(_state(f), 300),
                label=clip(f.title or f.url, 200),
                detail=f"{f.url} · every {_every(f.interval)}"
                + (f" · topics: {', '.join(f.topics)}" if f.topics else ""),
            )
            for f in feeds
        )
        return Reply(
            f"{plural(len(feeds), 'feed')}",
            sections=(Section("Feeds", items),),
        )

    async def status(self, guild_id: int, url: str | None) -> Reply:
        """/feeds status: one feed in detail (or every feed's state in one line each)."""
        if url is None or not url.strip():
            return await self.list(guild_id)
        feed = await self._find(guild_id, url)
        if feed is None:
            return await self._unknown(guild_id, url, "No such feed")
        seen, drafted = await self.store.feed_entry_count(feed.id)
        rows: Sequence[tuple[str, str]] = (
            ("State", _state(feed)),
            ("Every", _every(feed.interval)),
            ("Topics", ", ".join(feed.topics) or "none"),
            ("Last poll", _at(feed.last_poll)),
            ("Last success", _at(feed.last_success)),
            ("Last result", feed.last_result or "none yet"),
            ("Failing since", _at(feed.failing_since) if feed.failing_since else "not failing"),
            ("Next poll", "paused" if feed.paused else _at(feed.next_poll)),
            ("Stories", f"{seen} seen, {drafted} drafted"),
        )
        return Reply(
            clip(feed.title or feed.url, 200),
            Status.ERROR if feed.paused else Status.OK,
            description=feed.url,
            sections=(Section("Status", tuple(Item(clip(v, 900), label=k) for k, v in rows)),),
        )

    async def url_choices(self, guild_id: int, typed: str) -> Choices:
        """Autocomplete for `url`: this server's feeds whose address or title holds `typed`."""
        key = fold(typed)
        found = [
            f
            for f in await self.store.guild_feeds(guild_id)
            if not key or key in fold(f.url) or (f.title is not None and key in fold(f.title))
        ]
        # Addresses that start with what was typed first, then the rest, each by address.
        found.sort(key=lambda f: (not fold(f.url).startswith(key), f.url))
        choices = []
        for feed in found[: limits.AUTOCOMPLETE_CHOICES]:
            value = feed.url if len(feed.url) <= limits.CHOICE_VALUE else f"#{feed.id}"
            shown = f"{feed.title} — {feed.url}" if feed.title else feed.url
            choices.append(Choice(clip(" ".join(shown.split()), limits.CHOICE_NAME), value))
        return choices

    async def _unknown(self, guild_id: int, url: str, title: str) -> Reply:
        known = [f.url for f in await self.store.guild_feeds(guild_id)]
        return Reply(
            title,
            Status.NOT_FOUND,
            f"This server does not watch {clip(url.strip(), 100)!r}.",
            suggestions=tuple(known[:10]),
            private=True,
        )
