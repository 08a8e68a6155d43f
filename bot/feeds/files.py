"""`briefbot feeds poll`: one poll from the command line, drafts written to `drafts/`.

The same poller as the bot; only the sink differs (files instead of the review channel).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections.abc import Collection, Sequence
from pathlib import Path

from bot.clock import SystemClock
from bot.feeds.draft import ArticleError, FeedDraft, StoryDrafter, draft_file
from bot.feeds.poller import FeedPoller, PollReport
from bot.ingest.fetch import Fetcher
from bot.store.feeds import Feed
from bot.store.sqlite import Store

log = logging.getLogger(__name__)

AD_HOC_GUILD = 0  # a URL polled once from the command line, in a throwaway store
DEFAULT_INTERVAL = dt.timedelta(minutes=15)


def _write_new(path: Path, text: str) -> None:
    """Write a file that must not exist yet: a dot-file first, then link it into place."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        # link() fails if `path` exists: an existing draft is never overwritten.
        os.link(temporary, path)
    finally:
        temporary.unlink()


class DirectorySink:
    """Writes each draft as `<dir>/<id>.yaml` and its source as `<dir>/sources/<id>.txt`."""

    def __init__(self, root: Path) -> None:
        """`root` is created on the first draft."""
        self.root = root
        self.written: list[Path] = []
        self.notices: list[str] = []

    async def submit(self, feed: Feed, draft: FeedDraft) -> str:
        """Write the draft; ArticleError (so the story is reported, not lost) if it exists."""
        brief = self.root / f"{draft.brief_id}.yaml"
        source = self.root / "sources" / f"{draft.brief_id}.txt"
        if brief.exists() or source.exists():
            raise ArticleError(f"{brief} already exists; not overwritten")
        await asyncio.to_thread(self._write, brief, source, draft)
        self.written.append(brief)
        return str(brief)

    @staticmethod
    def _write(brief: Path, source: Path, draft: FeedDraft) -> None:
        source.parent.mkdir(parents=True, exist_ok=True)
        # The source first: a brief on disk always has its text beside it.
        _write_new(source, draft.source_text + "\n")
        _write_new(brief, draft_file(draft))

    async def notify(self, feed: Feed, message: str) -> None:
        """Keep the notice for the command to print."""
        self.notices.append(message)


async def poll_once(
    *,
    database: Path | str,
    drafts: Path,
    url: str | None,
    topics: Sequence[str],
    fetcher: Fetcher,
    drafter: StoryDrafter,
    burst: int,
    published: Collection[str] = frozenset(),
) -> tuple[list[PollReport], DirectorySink]:
    """Poll `url` once (in a throwaway store), or every feed not paused in `database`."""
    clock = SystemClock()
    sink = DirectorySink(drafts)
    target = ":memory:" if url is not None else database
    async with await Store.open(target, clock=clock) as store:
        poller = FeedPoller(
            store,
            fetcher,
            sink,
            clock=clock,
            drafter=drafter,
            burst=burst,
            published_urls=lambda: published,
        )
        if url is not None:
            feed, _ = await store.add_feed(
                guild_id=AD_HOC_GUILD,
                url=url,
                topics=topics,
                interval=DEFAULT_INTERVAL,
                created_by=0,
            )
            feeds = [feed]
        else:
            await poller.release_stale()
            feeds = [f for f in await store.all_feeds() if not f.paused]
        reports = await poller.poll_many(feeds)
    return reports, sink
