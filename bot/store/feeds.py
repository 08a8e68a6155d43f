"""Feed state in the store: the feeds a guild watches, and every entry seen in them.

Kept apart from `bot.store.sqlite` so the feed tables read in one place; `Store` mixes
`FeedTables` in, so features see one store interface. Records are plain dataclasses.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.clock import Clock, require_aware
from bot.store.records import StoreDamagedError


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed a guild watches, with where its polling stands."""

    id: int
    guild_id: int
    url: str
    title: str | None
    topics: tuple[str, ...]
    interval: dt.timedelta
    created_by: int
    created_at: dt.datetime
    etag: str | None
    last_modified: str | None
    last_poll: dt.datetime | None
    last_success: dt.datetime | None
    last_result: str | None
    last_error: str | None
    failing_since: dt.datetime | None
    failures: int
    paused: bool
    paused_reason: str | None
    next_poll: dt.datetime


@dataclass(frozen=True, slots=True)
class EntryKeys:
    """The three keys a story is known by; any one already seen makes it not new."""

    guid: str | None
    url: str | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class KnownKeys:
    """Which of a batch of keys the store has seen (GUIDs in this feed; URLs and hashes in
    the guild)."""

    guids: frozenset[str]
    urls: frozenset[str]
    hashes: frozenset[str]

    def knows(self, keys: EntryKeys) -> str | None:
        """Which key matched ("GUID", "link", "content"), or None for a new story."""
        if keys.guid is not None and keys.guid in self.guids:
            return "GUID"
        if keys.url is not None and keys.url in self.urls:
            return "link"
        if keys.content_hash in self.hashes:
            return "content"
        return None


_FEED_COLUMNS = (
    "id, guild_id, url, title, topics, interval_s, created_by, created_at, etag, last_modified, "
    "last_poll, last_success, last_result, last_error, failing_since, failures, paused, "
    "paused_reason, next_poll"
)


def _stamp(when: dt.datetime) -> str:
    return require_aware(when).isoformat(timespec="microseconds")


def _when(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def _feed(row: Any) -> Feed:
    """A feed row; a missing or malformed value is a StoreDamagedError, never an assert."""
    try:
        return _decode_feed(row)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise StoreDamagedError(f"a damaged row in feeds (feed {row['id']}): {exc}") from exc


def _decode_feed(row: Any) -> Feed:
    created_at, next_poll = _when(row["created_at"]), _when(row["next_poll"])
    if created_at is None or next_poll is None:
        raise ValueError("created_at or next_poll is missing")
    return Feed(
        id=row["id"],
        guild_id=row["guild_id"],
        url=row["url"],
        title=row["title"],
        topics=tuple(str(t) for t in json.loads(row["topics"])),
        interval=dt.timedelta(seconds=row["interval_s"]),
        created_by=row["created_by"],
        created_at=created_at,
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_poll=_when(row["last_poll"]),
        last_success=_when(row["last_success"]),
        last_result=row["last_result"],
        last_error=row["last_error"],
        failing_since=_when(row["failing_since"]),
        failures=row["failures"],
        paused=bool(row["paused"]),
        paused_reason=row["paused_reason"],
        next_poll=next_poll,
    )


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class FeedTables:
    """The feed half of the store (mixed into `bot.store.sqlite.Store`)."""

    # Provided by Store.
    _db: aiosqlite.Connection
    _lock: asyncio.Lock
    _clock: Clock

    def _transaction(self) -> contextlib.AbstractAsyncContextManager[aiosqlite.Connection]:
        raise NotImplementedError

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def _fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------------ feeds

    async def add_feed(
        self,
        *,
        guild_id: int,
        url: str,
        topics: Sequence[str],
        interval: dt.timedelta,
        created_by: int,
    ) -> tuple[Feed, bool]:
        """Watch a feed (polled at once), or update one already watched and resume it; the
        feed and whether it is new."""
        now = _stamp(self._clock.now())
        async with self._lock, self._transaction() as db:
            async with db.execute(
                "SELECT 1 FROM feeds WHERE guild_id = ? AND url = ?", (guild_id, url)
            ) as cursor:
                existed = await cursor.fetchone() is not None
            async with db.execute(
                f"""
                INSERT INTO feeds (guild_id, url, topics, interval_s, created_by, created_at,
                    next_poll)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (guild_id, url) DO UPDATE SET
                    topics = excluded.topics,
                    interval_s = excluded.interval_s,
                    paused = 0,
                    paused_reason = NULL,
                    failures = 0,
                    failing_since = NULL,
                    next_poll = excluded.next_poll
                RETURNING {_FEED_COLUMNS}
                """,
                (
                    guild_id,
                    url,
                    json.dumps(list(dict.fromkeys(topics))),
                    max(1, int(interval.total_seconds())),
                    created_by,
                    now,
                    now,
                ),
            ) as cursor:
                row = await cursor.fetchone()
        return _feed(row), not existed

    async def remove_feed(self, feed_id: int) -> bool:
        """Stop watching a feed; its entries stay known, so adding it again redrafts nothing."""
        async with self._lock:
            cursor = await self._db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
            return cursor.rowcount > 0

    async def get_feed(self, feed_id: int) -> Feed | None:
        """One feed by id."""
        async with self._lock:
            row = await self._fetchone(
                f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ?", (feed_id,)
            )
        return _feed(row) if row else None

    async def guild_feeds(self, guild_id: int) -> list[Feed]:
        """Every feed a guild watches, paused or not, in the order they were added."""
        async with self._lock:
            rows = await self._fetchall(
                f"SELECT {_FEED_COLUMNS} FROM feeds WHERE guild_id = ? ORDER BY id", (guild_id,)
            )
        return [_feed(r) for r in rows]

    async def all_feeds(self) -> list[Feed]:
        """Every feed of every guild, paused or not."""
        async with self._lock:
            rows = await self._fetchall(f"SELECT {_FEED_COLUMNS} FROM feeds ORDER BY id")
        return [_feed(r) for r in rows]

    async def due_feeds(self, now: dt.datetime) -> list[Feed]:
        """Feeds not paused whose next poll is at or before `now`, most overdue first."""
        async with self._lock:
            rows = await self._fetchall(
                f"SELECT {_FEED_COLUMNS} FROM feeds WHERE paused = 0 AND next_poll <= ? "
                "ORDER BY next_poll, id",
                (_stamp(now),),
            )
        return [_feed(r) for r in rows]

    async def next_feed_poll(self) -> dt.datetime | None:
        """When the next feed not paused is due, or None when there is none."""
        async with self._lock:
            row = await self._fetchone("SELECT min(next_poll) FROM feeds WHERE paused = 0")
        return _when(row[0]) if row else None

    async def feed_polled(
        self,
        feed_id: int,
        *,
        title: str | None,
        etag: str | None,
        last_modified: str | None,
        result: str,
        next_poll: dt.datetime,
    ) -> None:
        """Record a successful poll: validators for the next conditional GET, what it did."""
        now = _stamp(self._clock.now())
        async with self._lock:
            await self._db.execute(
                "UPDATE feeds SET title = coalesce(?, title), etag = ?, last_modified = ?, "
                "last_poll = ?, last_success = ?, last_result = ?, last_error = NULL, "
                "failing_since = NULL, failures = 0, next_poll = ? WHERE id = ?",
                (title, etag, last_modified, now, now, result, _stamp(next_poll), feed_id),
            )

    async def feed_failed(
        self, feed_id: int, *, error: str, next_poll: dt.datetime, pause_after: dt.timedelta
    ) -> tuple[Feed | None, bool]:
        """Record a failed poll; a feed failing for `pause_after` is paused. The feed, and
        whether this failure paused it (so the editors are told once)."""
        now = self._clock.now()
        async with self._lock, self._transaction() as db:
            async with db.execute(
                f"""
                UPDATE feeds SET last_poll = ?, last_error = ?, failures = failures + 1,
                    failing_since = coalesce(failing_since, ?), next_poll = ?
                WHERE id = ? RETURNING {_FEED_COLUMNS}
                """,
                (_stamp(now), error, _stamp(now), _stamp(next_poll), feed_id),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None, False
            feed = _feed(row)
            since = feed.failing_since or now
            if feed.paused or now - since < pause_after:
                return feed, False
            reason = f"failing since {since:%Y-%m-%d %H:%M} UTC: {error}"
            async with db.execute(
                f"UPDATE feeds SET paused = 1, paused_reason = ? WHERE id = ? "
                f"RETURNING {_FEED_COLUMNS}",
                (reason, feed_id),
            ) as cursor:
                row = await cursor.fetchone()
        return _feed(row), True

    # ------------------------------------------------------------------ entries

    async def known_entries(
        self, feed_id: int | None, guild_id: int, keys: Iterable[EntryKeys]
    ) -> KnownKeys:
        """Which of `keys` were seen before: GUIDs in this feed, links and content anywhere in
        the guild (the same story in two feeds is one story)."""
        batch = list(keys)
        guids = sorted({k.guid for k in batch if k.guid is not None})
        urls = sorted({k.url for k in batch if k.url is not None})
        hashes = sorted({k.content_hash for k in batch})
        async with self._lock:
            seen_guids = (
                await self._fetchall(
                    "SELECT guid FROM feed_entries WHERE feed_id = ? "
                    f"AND guid IN ({_marks(len(guids))})",
                    (feed_id, *guids),
                )
                if guids and feed_id is not None
                else []
            )
            seen_urls = (
                await self._fetchall(
                    "SELECT url FROM feed_entries WHERE guild_id = ? "
                    f"AND url IN ({_marks(len(urls))})",
                    (guild_id, *urls),
                )
                if urls
                else []
            )
            seen_hashes = (
                await self._fetchall(
                    "SELECT content_hash FROM feed_entries WHERE guild_id = ? "
                    f"AND content_hash IN ({_marks(len(hashes))})",
                    (guild_id, *hashes),
                )
                if hashes
                else []
            )
        return KnownKeys(
            frozenset(r[0] for r in seen_guids),
            frozenset(r[0] for r in seen_urls),
            frozenset(r[0] for r in seen_hashes),
        )

    async def claim_entry(
        self, feed_id: int | None, guild_id: int, keys: EntryKeys, *, title: str | None
    ) -> int | str:
        """Claim a new story before drafting it: the claim's id, or which key ("GUID", "link",
        "content") says it was seen already. Atomic, so two feeds (or processes) carrying the
        same story make one draft."""
        now = _stamp(self._clock.now())
        async with self._lock, self._transaction() as db:
            checks = (
                ("GUID", "feed_id = ? AND guid = ?", (feed_id, keys.guid)),
                ("link", "guild_id = ? AND url = ?", (guild_id, keys.url)),
                ("content", "guild_id = ? AND content_hash = ?", (guild_id, keys.content_hash)),
            )
            for name, where, params in checks:
                if None in params:
                    continue
                async with db.execute(
                    f"SELECT 1 FROM feed_entries WHERE {where} LIMIT 1", params
                ) as cursor:
                    if await cursor.fetchone() is not None:
                        return name
            async with db.execute(
                # The subselect: a feed removed mid-poll records its story unattached.
                "INSERT INTO feed_entries (feed_id, guild_id, guid, url, content_hash, title, "
                "first_seen, outcome) VALUES ((SELECT id FROM feeds WHERE id = ?), "
                "?, ?, ?, ?, ?, ?, 'drafting') RETURNING id",
                (feed_id, guild_id, keys.guid, keys.url, keys.content_hash, title, now),
            ) as cursor:
                row = await cursor.fetchone()
        if row is None:  # INSERT … RETURNING always returns the row it wrote
            raise StoreDamagedError("feed_entries: an insert returned no row")
        return int(row[0])

    async def finish_entry(self, claim: int, *, outcome: str, draft_id: str | None) -> None:
        """Record what became of a claimed story (drafted with its draft id, or skipped: why)."""
        async with self._lock:
            await self._db.execute(
                "UPDATE feed_entries SET outcome = ?, draft_id = ? WHERE id = ?",
                (outcome, draft_id, claim),
            )

    async def release_entry(self, claim: int) -> None:
        """Forget a claimed story that could not be drafted for now, so a later poll retries."""
        async with self._lock:
            await self._db.execute("DELETE FROM feed_entries WHERE id = ?", (claim,))

    async def release_stale_entries(self, before: dt.datetime) -> int:
        """Forget stories claimed before `before` and still 'drafting' (their process died
        mid-draft), and drop their feeds' validators so the next poll reads the whole feed
        and drafts them; how many."""
        async with self._lock, self._transaction() as db:
            async with db.execute(
                "DELETE FROM feed_entries WHERE outcome = 'drafting' AND first_seen < ? "
                "RETURNING feed_id",
                (_stamp(before),),
            ) as cursor:
                rows = list(await cursor.fetchall())
            feeds = {row[0] for row in rows if row[0] is not None}
            released = len(rows)
            if feeds:
                await db.execute(
                    "UPDATE feeds SET etag = NULL, last_modified = NULL "
                    f"WHERE id IN ({_marks(len(feeds))})",
                    sorted(feeds),
                )
        return released

    async def feed_entries(self, feed_id: int) -> list[tuple[str | None, str | None, str]]:
        """(title, draft id, outcome) of every story seen in a feed, oldest first."""
        async with self._lock:
            rows = await self._fetchall(
                "SELECT title, draft_id, outcome FROM feed_entries WHERE feed_id = ? ORDER BY id",
                (feed_id,),
            )
        return [(r[0], r[1], r[2]) for r in rows]

    async def feed_entry_count(self, feed_id: int) -> tuple[int, int]:
        """How many entries of a feed were seen, and how many of them were drafted."""
        async with self._lock:
            row = await self._fetchone(
                "SELECT count(*), count(draft_id) FROM feed_entries WHERE feed_id = ?", (feed_id,)
            )
        return (int(row[0]), int(row[1])) if row else (0, 0)
