"""Poll feeds politely and draft each new story once.

One poll of one feed: a conditional GET through the safe fetcher; the entries read; the new
ones (not seen by GUID in this feed, nor by canonical link or content anywhere in the guild,
nor already published as a brief) claimed in the store, newest first, at most `burst` a poll;
each one's article page fetched, its text extracted, drafted, and handed to the sink (the
review channel, or `drafts/` from the command line). Failures back off exponentially; a feed
failing for `pause_after` is paused and the editors told once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.clock import Clock
from bot.feeds.draft import (
    FEED_BYTES,
    HTML_PAGE_BYTES,
    ArticleError,
    FeedDraft,
    Story,
    StoryDrafter,
)
from bot.feeds.parse import FeedEntry, FeedError, parse_feed
from bot.ingest.fetch import (
    ConnectionFailed,
    Fetcher,
    FetchError,
    HTTPStatusError,
    Timeout,
)
from bot.store.feeds import EntryKeys, Feed
from bot.store.sqlite import Store
from bot.text import clip, plural

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
DEFAULT_BURST = 20
DEFAULT_PAUSE_AFTER = dt.timedelta(hours=24)
DEFAULT_MAX_BACKOFF = dt.timedelta(hours=6)
MAX_RETRY_AFTER = dt.timedelta(hours=24)
# A story claimed this long ago and still 'drafting' was left by a process that died
# mid-draft: it is forgotten, so the next poll drafts it again.
DEFAULT_STALE_CLAIM = dt.timedelta(minutes=10)


class DraftSink(Protocol):
    """Where drafts go (the review channel, a folder) and how editors are told things."""

    async def submit(self, feed: Feed, draft: FeedDraft) -> str:
        """Keep the draft (and show it for review); its id."""
        ...

    async def notify(self, feed: Feed, message: str) -> None:
        """Tell the feed's editors something once (a feed paused)."""
        ...


@dataclass
class PollReport:
    """What one poll of one feed did."""

    feed_id: int
    url: str
    ok: bool
    summary: str  # one line, also stored as the feed's last result or last error
    drafted: list[str] = field(default_factory=list)  # draft ids
    skipped: list[str] = field(default_factory=list)  # "title: why"
    held_back: int = 0
    deferred: int = 0  # article pages that failed for now; retried next poll
    requests: int = 0
    not_modified: bool = False
    paused_now: bool = False


def _transient(exc: FetchError) -> bool:
    """Whether an article fetch may work later (so the story is not given up on)."""
    if isinstance(exc, HTTPStatusError):
        return exc.status >= 500 or exc.status == 429
    return isinstance(exc, Timeout | ConnectionFailed)


def _newest_first(entries: Sequence[FeedEntry]) -> list[FeedEntry]:
    """Dated entries newest first, then undated ones in feed order (feeds list newest first)."""
    dated = sorted(
        (e for e in entries if e.published is not None),
        key=lambda e: e.published or dt.datetime.min.replace(tzinfo=dt.UTC),
        reverse=True,
    )
    return dated + [e for e in entries if e.published is None]


class FeedPoller:
    """Polls feeds from the store and drafts their new stories through a sink."""

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        sink: DraftSink,
        *,
        clock: Clock,
        drafter: StoryDrafter,
        burst: int = DEFAULT_BURST,
        published_urls: Callable[[], Collection[str]] = frozenset,
        pause_after: dt.timedelta = DEFAULT_PAUSE_AFTER,
        max_backoff: dt.timedelta = DEFAULT_MAX_BACKOFF,
        concurrency: int = 8,
        stale_claim: dt.timedelta = DEFAULT_STALE_CLAIM,
    ) -> None:
        """`published_urls` gives the canonical source links of published briefs."""
        self.store = store
        self.fetcher = fetcher
        self.sink = sink
        self.clock = clock
        self.drafter = drafter
        self.burst = burst
        self.published_urls = published_urls
        self.pause_after = pause_after
        self.max_backoff = max_backoff
        self.stale_claim = stale_claim
        self._limit = asyncio.Semaphore(concurrency)

    async def poll_due(self) -> list[PollReport]:
        """Poll every feed that is due, several at once (each host one request at a time)."""
        await self.release_stale()
        feeds = await self.store.due_feeds(self.clock.now())
        return await self.poll_many(feeds)

    async def release_stale(self) -> int:
        """Forget stories left 'drafting' by a process that died mid-draft (retried next)."""
        released = await self.store.release_stale_entries(self.clock.now() - self.stale_claim)
        if released:
            log.warning("%d feed stories left mid-draft are drafted again", released)
        return released

    async def poll_many(self, feeds: Sequence[Feed]) -> list[PollReport]:
        """Poll these feeds, several at once; one feed's failure never stops the others."""

        async def one(feed: Feed) -> PollReport:
            async with self._limit:
                return await self.poll(feed)

        return list(await asyncio.gather(*(one(f) for f in feeds)))

    async def poll(self, feed: Feed) -> PollReport:
        """Poll one feed now; never raises for anything the feed or its pages do."""
        try:
            return await self._poll(feed)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug on one feed must not stop the others
            log.exception("polling feed %s failed", feed.url)
            return await self._failed(feed, f"internal error ({type(exc).__name__}); logged", None)

    async def _poll(self, feed: Feed) -> PollReport:
        try:
            result = await self.fetcher.get(
                feed.url,
                max_bytes=FEED_BYTES,
                accept=FEED_ACCEPT,
                etag=feed.etag,
                last_modified=feed.last_modified,
            )
        except HTTPStatusError as exc:
            return await self._failed(feed, str(exc), exc.retry_after)
        except FetchError as exc:
            return await self._failed(feed, str(exc), None)
        now = self.clock.now()
        if result.not_modified:
            summary = "not modified since the last poll"
            await self.store.feed_polled(
                feed.id,
                title=None,
                etag=result.etag or feed.etag,
                last_modified=result.last_modified or feed.last_modified,
                result=summary,
                next_poll=now + feed.interval,
            )
            return PollReport(feed.id, feed.url, True, summary, requests=1, not_modified=True)
        try:
            parsed = await asyncio.to_thread(
                parse_feed, result.body, result.url, result.content_type
            )
        except FeedError as exc:
            return await self._failed(feed, str(exc), None)
        report = PollReport(feed.id, feed.url, True, "", requests=1)
        feed_title = parsed.title or feed.title
        await self._take(feed, feed_title, parsed.entries, report)
        report.summary = self._summary(parsed.entries, parsed.warning, report)
        # Stories left for later (the burst cap, an article page down) must be seen again:
        # keep the old validators so the next poll gets the whole feed, not a 304.
        keep_old = report.held_back > 0 or report.deferred > 0
        await self.store.feed_polled(
            feed.id,
            title=feed_title,
            etag=feed.etag if keep_old else result.etag,
            last_modified=feed.last_modified if keep_old else result.last_modified,
            result=report.summary,
            next_poll=self.clock.now() + feed.interval,
        )
        log.info("feed %s: %s", feed.url, report.summary)
        return report

    async def _take(
        self,
        feed: Feed,
        feed_title: str | None,
        entries: Sequence[FeedEntry],
        report: PollReport,
    ) -> None:
        """Draft the new entries, newest first, up to the burst cap."""
        keys = {id(e): EntryKeys(e.guid, e.url, e.content_hash) for e in entries}
        known = await self.store.known_entries(feed.id, feed.guild_id, keys.values())
        fresh: list[FeedEntry] = []
        seen_here: set[str] = set()
        for entry in entries:
            k = keys[id(entry)]
            if known.knows(k) is not None:
                continue
            # The same story twice in one feed counts once.
            marks = {f"g:{k.guid}", f"u:{k.url}", f"h:{k.content_hash}"} - {"g:None", "u:None"}
            if marks & seen_here:
                continue
            seen_here |= marks
            fresh.append(entry)
        published = self.published_urls()
        drafts: list[FeedEntry] = []
        for entry in fresh:
            why = None
            if entry.link is None:
                why = "the entry has no link to an article"
            elif entry.url in published:
                why = "already published as a brief"
            if why is None:
                drafts.append(entry)
                continue
            claim = await self.store.claim_entry(
                feed.id, feed.guild_id, keys[id(entry)], title=entry.title
            )
            if isinstance(claim, int):
                await self.store.finish_entry(claim, outcome=f"skipped: {why}", draft_id=None)
                report.skipped.append(f"{_name(entry)}: {why}")
        ordered = _newest_first(drafts)
        report.held_back = max(0, len(ordered) - self.burst)
        for entry in ordered[: self.burst]:
            await self._draft_one(feed, feed_title, entry, keys[id(entry)], report)

    async def _draft_one(
        self,
        feed: Feed,
        feed_title: str | None,
        entry: FeedEntry,
        keys: EntryKeys,
        report: PollReport,
    ) -> None:
        assert entry.link is not None
        claim = await self.store.claim_entry(feed.id, feed.guild_id, keys, title=entry.title)
        if not isinstance(claim, int):
            return  # another feed (or process) took this story meanwhile
        try:
            report.requests += 1
            page = await self.fetcher.get(entry.link, max_bytes=HTML_PAGE_BYTES, accept=PAGE_ACCEPT)
            story = Story(
                link=entry.link,
                title=entry.title,
                published=entry.published,
                feed_title=feed_title,
                feed_url=feed.url,
                topics=feed.topics,
                page=page.body,
                charset=page.charset,
            )
            draft: FeedDraft = await asyncio.to_thread(self.drafter.draft, story)
            draft_id = await self.sink.submit(feed, draft)
        except FetchError as exc:
            if _transient(exc):
                await self.store.release_entry(claim)
                report.deferred += 1
                report.skipped.append(f"{_name(entry)}: {exc} (retried next poll)")
                return
            await self._give_up(claim, entry, str(exc), report)
            return
        except ArticleError as exc:
            await self._give_up(claim, entry, str(exc), report)
            return
        except BaseException:
            # Nothing was drafted: let a later poll try the story again.
            await self.store.release_entry(claim)
            raise
        await self.store.finish_entry(claim, outcome="drafted", draft_id=draft_id)
        report.drafted.append(draft_id)

    async def _give_up(self, claim: int, entry: FeedEntry, why: str, report: PollReport) -> None:
        await self.store.finish_entry(claim, outcome=f"skipped: {why}", draft_id=None)
        report.skipped.append(f"{_name(entry)}: {why}")

    async def _failed(self, feed: Feed, error: str, retry_after: float | None) -> PollReport:
        """Back off exponentially (or as Retry-After says); pause after `pause_after`."""
        now = self.clock.now()
        delay = min(feed.interval * (2 ** min(feed.failures, 16)), self.max_backoff)
        if retry_after is not None:
            delay = max(delay, min(dt.timedelta(seconds=retry_after), MAX_RETRY_AFTER))
        updated, paused_now = await self.store.feed_failed(
            feed.id, error=error, next_poll=now + delay, pause_after=self.pause_after
        )
        log.warning("feed %s failed: %s (next try in %s)", feed.url, error, delay)
        if paused_now and updated is not None:
            await self.sink.notify(
                updated,
                f"Feed {feed.url} is paused: it has been failing since "
                f"{updated.failing_since:%Y-%m-%d %H:%M} UTC (last error: {error}). "
                "Fix the feed, then `/feeds add` it again to resume.",
            )
        return PollReport(feed.id, feed.url, False, error, requests=1, paused_now=paused_now)

    def _summary(
        self, entries: Sequence[FeedEntry], warning: str | None, report: PollReport
    ) -> str:
        parts = []
        if not entries:
            parts.append("the feed has no entries")
        else:
            parts.append(f"{plural(len(report.drafted), 'new story', 'new stories')} drafted")
        if report.held_back:
            parts.append(
                f"{report.held_back} held back (at most {self.burst} drafts a poll; "
                "the rest come in the next polls)"
            )
        if report.skipped:
            parts.append(f"{len(report.skipped)} skipped ({'; '.join(report.skipped[:3])})")
        if warning:
            parts.append(warning)
        return clip("; ".join(parts), 1000)


def _name(entry: FeedEntry) -> str:
    return clip(entry.title or entry.link or entry.guid or "an untitled entry", 80)
