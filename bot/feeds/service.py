"""One method per /feeds command, each returning a renderer-neutral Reply."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

from bot.feeds.parse import canonical_url
from bot.reply import Item, Reply, Section, Status
from bot.store.feeds import Feed
from bot.store.sqlite import Store
from bot.text import clip, plural

DEFAULT_EVERY = dt.timedelta(minutes=15)
MIN_EVERY = dt.timedelta(minutes=5)
MAX_EVERY = dt.timedelta(days=1)
EVERY = re.compile(r"^\s*(\d+)\s*(m|min|mins|minutes?|h|hr|hrs|hours?)?\s*$", re.IGNORECASE)


class FeedInputError(ValueError):
    """The command's input is not usable; `str()` says why and how to fix it."""


def parse_every(text: str | None) -> dt.timedelta:
    """`15`, `15m`, `30 min`, `2h` → an interval from 5 minutes to a day (default 15 min)."""
    if text is None or not text.strip():
        return DEFAULT_EVERY
    match = EVERY.match(text)
    if match is None:
        raise FeedInputError(f"every: {text!r} is not an interval; try 15m or 1h")
    number, unit = int(match.group(1)), (match.group(2) or "m").lower()
    every = dt.timedelta(hours=number) if unit.startswith("h") else dt.timedelta(minutes=number)
    if every < MIN_EVERY:
        raise FeedInputError("every: feeds are polled at most every 5 minutes")
    if every > MAX_EVERY:
        raise FeedInputError("every: at least once a day (24h)")
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
    ) -> None:
        """`resolve_topic` maps a name or alias to a topic id (None if unknown)."""
        self.store = store
        self.resolve_topic = resolve_topic
        self.wake = wake

    def _topics(self, text: str | None) -> tuple[str, ...]:
        names = [t.strip() for t in (text or "").split(",") if t.strip()]
        ids: list[str] = []
        for name in names:
            topic = self.resolve_topic(name)
            if topic is None:
                raise FeedInputError(f"topics: unknown topic {name!r}; see /topic for the list")
            ids.append(topic)
        return tuple(dict.fromkeys(ids))

    async def _find(self, guild_id: int, url: str) -> Feed | None:
        key = canonical_url(url.strip())
        for feed in await self.store.guild_feeds(guild_id):
            if feed.url == url.strip() or (key is not None and canonical_url(feed.url) == key):
                return feed
        return None

    async def add(
        self, guild_id: int, user_id: int, url: str, topics: str | None, every: str | None
    ) -> Reply:
        """/feeds add: watch a feed (or change one and resume it); polled at once."""
        try:
            checked = check_url(url)
            interval = parse_every(every)
            topic_ids = self._topics(topics)
        except FeedInputError as exc:
            return Reply("Feed not added", Status.INVALID, str(exc), private=True)
        existing = await self._find(guild_id, checked)
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

    async def _unknown(self, guild_id: int, url: str, title: str) -> Reply:
        known = [f.url for f in await self.store.guild_feeds(guild_id)]
        return Reply(
            title,
            Status.NOT_FOUND,
            f"This server does not watch {clip(url.strip(), 100)!r}.",
            suggestions=tuple(known[:10]),
            private=True,
        )
