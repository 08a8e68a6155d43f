"""A local feed world for the feed tests: feeds and article pages on 127.0.0.1, a real store."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from aiohttp import web

from bot.briefs.loader import load_vocabulary
from bot.briefs.models import Vocabulary
from bot.feeds.draft import EngineDrafter, FeedDraft
from bot.feeds.poller import FeedPoller
from bot.ingest.fetch import Fetcher
from bot.store.feeds import Feed
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.ingest.fetch_helpers import LocalServer, local_fetcher, local_server

DEVSET = Path(__file__).resolve().parents[2].parent / "shared" / "ingest-devset"
VOCABULARY_FILE = Path(__file__).resolve().parents[2] / "briefs" / "topics.yaml"
# Small pages first: the tests draft many of them.
PAGES = ("ars-1", "herald-sun-1", "wapo-2", "webmd-1", "telegraph", "cnet")
START = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)
GUILD = 4242
EVERY = dt.timedelta(minutes=15)


def devset_page(name: str) -> bytes:
    """A real news page from the shared development set; the test is skipped without it."""
    path = DEVSET / name / "source.html"
    if not path.is_file():
        pytest.skip(f"the ingest dev set is not here ({path})")
    return path.read_bytes()


@dataclass
class Item:
    """One feed entry as a test writes it."""

    title: str | None
    link: str | None = None
    guid: str | None = None
    published: dt.datetime | None = None
    description: str | None = None


def rss(items: list[Item], title: str = "Test wire", encoding: str = "utf-8") -> bytes:
    """An RSS 2.0 document, encoded as its declaration says."""
    parts = [f'<?xml version="1.0" encoding="{encoding}"?>', '<rss version="2.0"><channel>']
    parts.append(f"<title>{escape(title)}</title><link>http://feeds.test/</link>")
    for item in items:
        parts.append("<item>")
        if item.title is not None:
            parts.append(f"<title>{escape(item.title)}</title>")
        if item.link is not None:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.published is not None:
            parts.append(f"<pubDate>{email.utils.format_datetime(item.published)}</pubDate>")
        if item.description is not None:
            parts.append(f"<description>{escape(item.description)}</description>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode(encoding)


def feed_route(body_of: list[bytes], content_type: str = "application/rss+xml") -> web.Handler:
    """Serve `body_of[0]` (tests swap it) with an ETag and Last-Modified; honour both."""

    async def handler(request: web.Request) -> web.StreamResponse:
        body = body_of[0]
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        modified = "Thu, 05 Mar 2026 11:00:00 GMT"
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=body,
            headers={"ETag": etag, "Last-Modified": modified, "Content-Type": content_type},
        )

    return handler


def page_route(body: bytes) -> web.Handler:
    """Serve an HTML page."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    return handler


def vocabulary() -> Vocabulary:
    """The project's topic vocabulary (the drafts' topics come from it)."""
    return load_vocabulary(VOCABULARY_FILE)


def drafter() -> EngineDrafter:
    """The ingest engine's drafter over the project's vocabulary."""
    words = vocabulary()
    return EngineDrafter(lambda: words)


@dataclass
class RecordingSink:
    """Keeps drafts and notices as the review channel would show them."""

    drafts: list[tuple[Feed, FeedDraft]] = field(default_factory=list)
    notices: list[tuple[Feed, str]] = field(default_factory=list)

    async def submit(self, feed: Feed, draft: FeedDraft) -> str:
        self.drafts.append((feed, draft))
        return f"d{len(self.drafts)}"

    async def notify(self, feed: Feed, message: str) -> None:
        self.notices.append((feed, message))

    @property
    def links(self) -> list[str]:
        return [d.link for _, d in self.drafts]


@dataclass
class World:
    """The server, fetcher, store, clock, sink and poller of one test."""

    server: LocalServer
    fetcher: Fetcher
    store: Store
    clock: FakeClock
    sink: RecordingSink
    poller: FeedPoller

    def url(self, path: str, host: str = "feeds.test") -> str:
        return self.server.url(host, path)

    async def add(self, path: str, topics: tuple[str, ...] = (), host: str = "feeds.test") -> Feed:
        feed, _ = await self.store.add_feed(
            guild_id=GUILD, url=self.url(path, host), topics=topics, interval=EVERY, created_by=1
        )
        return feed

    async def feed(self, feed_id: int) -> Feed:
        feed = await self.store.get_feed(feed_id)
        assert feed is not None
        return feed

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [s.headers for s in self.server.seen if s.path == path]


@asynccontextmanager
async def world(tmp_path: Path, *, burst: int = 20, **fetch: object) -> AsyncIterator[World]:
    """A fresh world; `fetch` overrides the local fetcher's options."""
    clock = FakeClock(START)
    async with (
        local_server() as server,
        local_fetcher(**fetch) as fetcher,
        await Store.open(tmp_path / "feeds.sqlite3", clock=clock) as store,
    ):
        sink = RecordingSink()
        poller = FeedPoller(store, fetcher, sink, clock=clock, drafter=drafter(), burst=burst)
        yield World(server, fetcher, store, clock, sink, poller)


def stories(
    world: World, count: int, *, first: int = 0, pages: tuple[str, ...] = PAGES
) -> list[Item]:
    """`count` entries, newest first, each linking to its own served dev-set page."""
    items = []
    for n in range(first, first + count):
        path = f"/news/{n}"
        world.server.routes[path] = page_route(devset_page(pages[n % len(pages)]))
        items.append(
            Item(
                title=f"Story number {n}",
                link=world.url(path),
                guid=f"urn:story:{n}",
                published=START - dt.timedelta(hours=n),
                description=f"What happened in story {n}.",
            )
        )
    return items
