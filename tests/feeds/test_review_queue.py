"""Feed drafts as stored review drafts: the queue, the published-link check after a publish,
the notices, and a story left mid-draft by a crash."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.briefs.reloader import LiveLibrary
from bot.feeds.draft import EngineDrafter
from bot.feeds.parse import parse_feed
from bot.feeds.poller import FeedPoller
from bot.feeds.queue import PublishedLinks, ReviewQueue
from bot.reply import Reply
from bot.review.preview import Preview
from bot.review.service import Member, ReviewService
from bot.store.feeds import EntryKeys
from bot.store.records import DraftOrigin, DraftState, GuildSettings
from bot.store.sqlite import Store
from tests.conftest import write_briefs
from tests.digest.clock import FakeClock
from tests.feeds.harness import EVERY, GUILD, START, Item, feed_route, page_route, rss
from tests.ingest.fetch_helpers import LocalServer, local_fetcher, local_server
from tests.review.helpers import service

OTHER_GUILD = 5151
EDITOR = Member(7, GUILD, manage_guild=True)
PAGE = (
    b"<html><head><title>Harbour budget approved</title></head><body><article>"
    b"<h1>Harbour budget approved</h1>"
    + b"<p>The harbour board approved the budget after a long debate about housing. "
    b"\xe2\x80\x9cThis budget keeps the ferries running,\xe2\x80\x9d said Jane Doe, the "
    b"board's chair, who spoke for an hour about the plans for the coming year.</p>"
    * 3
    + b"</article></body></html>"
)


@dataclass
class Chat:
    """What the queue posted: previews and notices, by channel."""

    previews: list[tuple[int, Preview]] = field(default_factory=list)
    notices: list[tuple[int, Reply]] = field(default_factory=list)

    async def show(self, channel: int, preview: Preview) -> None:
        self.previews.append((channel, preview))

    async def tell(self, channel: int, reply: Reply) -> None:
        self.notices.append((channel, reply))


@dataclass
class Desk:
    server: LocalServer
    store: Store
    clock: FakeClock
    live: LiveLibrary
    review: ReviewService
    chat: Chat
    poller: FeedPoller
    root: Path

    def url(self, path: str) -> str:
        return self.server.url("feeds.test", path)

    async def add(self, path: str, guild: int = GUILD, topics: tuple[str, ...] = ()) -> int:
        feed, _ = await self.store.add_feed(
            guild_id=guild, url=self.url(path), topics=topics, interval=EVERY, created_by=42
        )
        return feed.id


@asynccontextmanager
async def desk(tmp_path: Path, **config: object) -> AsyncIterator[Desk]:
    root = write_briefs(tmp_path / "briefs")
    clock = FakeClock(START)
    live = LiveLibrary(root)
    async with (
        local_server() as server,
        local_fetcher() as fetcher,
        await Store.open(tmp_path / "db.sqlite3", clock=clock) as store,
    ):
        review = service(store, live, root, **config)
        chat = Chat()
        drafter = EngineDrafter(
            lambda: live.current().vocabulary, lambda: {b.id for b in live.current().briefs}
        )
        poller = FeedPoller(
            store,
            fetcher,
            ReviewQueue(review, chat.show, chat.tell),
            clock=clock,
            drafter=drafter,
            published_urls=PublishedLinks(live.current),
        )
        yield Desk(server, store, clock, live, review, chat, poller, root)


def item(d: Desk, guid: str, title: str = "Harbour budget approved") -> Item:
    d.server.routes["/news/harbour"] = page_route(PAGE)
    return Item(title=title, link=d.url("/news/harbour"), guid=guid, published=START)


async def test_a_feed_draft_is_a_stored_draft_previewed_in_the_guilds_review_channel(
    tmp_path: Path,
) -> None:
    async with desk(tmp_path, review_channel_id=900) as d:
        await d.store.save_guild_settings(GuildSettings(GUILD, review_channel_id=901))
        d.server.routes["/wire.xml"] = feed_route([rss([item(d, "g1")], title="Harbour Wire")])
        await d.add("/wire.xml", topics=("housing",))
        [report] = await d.poller.poll_due()
        assert report.summary == "1 new story drafted"
        [(channel, preview)] = d.chat.previews
        assert channel == 901  # the guild's own setting wins over the environment's
        draft = await d.store.get_draft(int(report.drafted[0]))
        assert draft is not None and draft == preview.draft
        assert draft.origin is DraftOrigin.FEED and draft.requester_id == 42
        assert draft.origin_name == (
            f"Harbour Wire ({d.url('/wire.xml')}): {d.url('/news/harbour')}"
        )
        assert f"from feed Harbour Wire ({d.url('/wire.xml')})" in str(preview.reply.description)
        assert preview.publishable, preview.reply
        # The member who added the feed finds it among their drafts.
        reply, _ = await d.review.my_drafts(Member(42, GUILD, manage_guild=True))
        assert "harbour-budget-approved" in str(reply.sections)


async def test_after_a_publish_the_story_in_another_guilds_feed_is_skipped(
    tmp_path: Path,
) -> None:
    async with desk(tmp_path, review_channel_id=900) as d:
        d.server.routes["/a.xml"] = feed_route([rss([item(d, "g1")])])
        await d.add("/a.xml")
        [report] = await d.poller.poll_due()
        outcome = await d.review.publish(EDITOR, int(report.drafted[0]))
        assert outcome.reply.title == "Published harbour-budget-approved", outcome.reply
        assert (d.root / "harbour-budget-approved.yaml").is_file()
        # Another guild (its own feed entries) carries the same story with tracking added.
        story = item(d, "b1", "Ferries funded")
        d.server.routes["/b.xml"] = feed_route(
            [rss([replace(story, link=f"{story.link}?utm_source=x")])]
        )
        await d.add("/b.xml", guild=OTHER_GUILD)
        pages_before = d.server.paths.count("/news/harbour")
        [other] = await d.poller.poll_due()
        assert other.summary == (
            "0 new stories drafted; 1 skipped (Ferries funded: already published as a brief)"
        )
        assert d.server.paths.count("/news/harbour") == pages_before
        assert len(d.chat.previews) == 1


async def test_a_stale_drafting_claim_is_drafted_again_after_the_timeout(tmp_path: Path) -> None:
    async with desk(tmp_path, review_channel_id=900) as d:
        body = rss([item(d, "g1")])
        d.server.routes["/wire.xml"] = feed_route([body])
        feed_id = await d.add("/wire.xml")
        # A process claimed the story, then died before drafting it.
        [entry] = parse_feed(body, d.url("/wire.xml"), "application/rss+xml").entries
        parsed = EntryKeys(entry.guid, entry.url, entry.content_hash)
        claim = await d.store.claim_entry(feed_id, GUILD, parsed, title="Harbour budget approved")
        assert isinstance(claim, int)
        [report] = await d.poller.poll_due()
        assert report.summary == "0 new stories drafted"  # the claim is still live
        await d.clock.set(START + dt.timedelta(minutes=20))
        [report] = await d.poller.poll_due()
        assert report.summary == "1 new story drafted"
        assert len(d.chat.previews) == 1
        assert await d.store.feed_entries(feed_id) == [
            ("Harbour budget approved", report.drafted[0], "drafted")
        ]


async def test_a_paused_feed_tells_the_notices_channel_else_the_review_channel(
    tmp_path: Path,
) -> None:
    async with desk(tmp_path, review_channel_id=900) as d:
        queue = ReviewQueue(d.review, d.chat.show, d.chat.tell)
        feed = await d.store.get_feed(await d.add("/gone.xml"))
        assert feed is not None
        await queue.notify(feed, "Feed x is paused")
        await d.store.save_guild_settings(GuildSettings(GUILD, notices_channel_id=950))
        await queue.notify(feed, "Feed y is paused")
        assert [(c, r.title, r.description) for c, r in d.chat.notices] == [
            (900, "Feed paused", "Feed x is paused"),
            (950, "Feed paused", "Feed y is paused"),
        ]


async def test_without_a_review_channel_the_draft_is_kept_for_brief_drafts(
    tmp_path: Path,
) -> None:
    async with desk(tmp_path) as d:
        d.server.routes["/wire.xml"] = feed_route([rss([item(d, "g1")])])
        await d.add("/wire.xml")
        [report] = await d.poller.poll_due()
        assert report.summary == "1 new story drafted" and d.chat.previews == []
        draft = await d.store.get_draft(int(report.drafted[0]))
        assert draft is not None and draft.state is DraftState.DRAFT
