"""Polling feeds on a local server: drafts once, conditional requests, burst cap, dedupe."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import yaml

from bot.ingest.article import article_from_html
from tests.feeds.harness import (
    EVERY,
    START,
    Item,
    devset_page,
    feed_route,
    page_route,
    rss,
    stories,
    world,
)


async def test_first_poll_drafts_every_story_through_the_engine_with_the_feeds_topics(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        items = stories(w, 3)
        w.server.routes["/wire.xml"] = feed_route([rss(items)])
        feed = await w.add("/wire.xml", topics=("economy", "energy"))
        [report] = await w.poller.poll_due()
        assert report.ok, report.summary
        assert sorted(w.sink.links) == sorted(i.link for i in items if i.link)
        _, draft = next((f, d) for f, d in w.sink.drafts if d.link == items[0].link)
        brief = yaml.safe_load(draft.brief_yaml)
        # The feed's topics come first, suggested; the engine's own matches follow them.
        assert brief["topics"][:2] == ["economy", "energy"]
        assert any(
            "topics suggested by the feed Test wire: economy, energy" in n.reason
            for n in draft.drafted.notes
        )
        # The link the feed gives is the source URL (what later polls compare with).
        assert brief["source"]["url"] == items[0].link
        # The page names its outlet and states its date: the engine's, not the feed's.
        assert brief["source"]["outlet"] == "Ars Technica"
        assert brief["date"] == {"value": "2015-04-16", "status": "stated"}
        # The engine drafted it: quotes with speakers, each verbatim in the source text.
        assert brief["quotes"]
        for quote in brief["quotes"]:
            assert quote["speaker"]
            assert quote["text"] in draft.source_text
        # The source text is the article page read exactly as ingest reads HTML.
        page = devset_page("ars-1")  # stories() serves PAGES[0] for story 0
        assert draft.source_text == article_from_html("x", page).text
        assert draft.brief_id == "story-number-0"
        stored = await w.feed(feed.id)
        assert stored.last_result == "3 new stories drafted"
        assert stored.title == "Test wire"
        assert stored.next_poll == START + EVERY
        assert stored.etag is not None


async def test_second_poll_of_unchanged_feed_is_conditional_and_drafts_nothing(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        w.server.routes["/wire.xml"] = feed_route([rss(stories(w, 2))])
        feed = await w.add("/wire.xml")
        await w.poller.poll(await w.feed(feed.id))
        before = len(w.server.seen)
        report = await w.poller.poll(await w.feed(feed.id))
        assert report.not_modified
        assert len(w.sink.drafts) == 2
        # One request, and it carried the validators the first answer gave.
        assert len(w.server.seen) == before + 1
        headers = w.requests_to("/wire.xml")[-1]
        assert headers["If-None-Match"] == (await w.feed(feed.id)).etag
        assert headers["If-Modified-Since"] == "Thu, 05 Mar 2026 11:00:00 GMT"
        assert headers["User-Agent"].startswith("briefbot/")
        assert (await w.feed(feed.id)).last_result == "not modified since the last poll"


async def test_changed_feed_drafts_exactly_the_new_stories(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        old = stories(w, 3, first=10)
        body = [rss(old)]
        w.server.routes["/wire.xml"] = feed_route(body)
        feed = await w.add("/wire.xml")
        await w.poller.poll(await w.feed(feed.id))
        new = stories(w, 2, first=20)
        body[0] = rss(new + old)
        report = await w.poller.poll(await w.feed(feed.id))
        assert report.summary == "2 new stories drafted"
        assert sorted(w.sink.links[3:]) == sorted(i.link for i in new if i.link)
        article_requests = [s.path for s in w.server.seen if s.path.startswith("/news/")]
        assert sorted(article_requests) == sorted(f"/news/{n}" for n in (10, 11, 12, 20, 21))


async def test_reordered_redated_and_republished_items_make_no_second_draft(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        items = stories(w, 3)
        body = [rss(items)]
        w.server.routes["/wire.xml"] = feed_route(body)
        feed = await w.add("/wire.xml")
        await w.poller.poll(await w.feed(feed.id))
        shuffled = [
            # Re-dated.
            dataclasses.replace(items[2], published=START + dt.timedelta(days=1)),
            # Republished under a new GUID, same link with tracking added.
            dataclasses.replace(
                items[0], guid="urn:new-guid", link=f"{items[0].link}?utm_source=rss#top"
            ),
            # Republished with a new GUID and link, same headline and text.
            dataclasses.replace(items[1], guid="urn:other", link=w.url("/moved/1")),
        ]
        body[0] = rss(shuffled)
        report = await w.poller.poll(await w.feed(feed.id))
        assert report.ok
        assert len(w.sink.drafts) == 3
        assert report.summary == "0 new stories drafted"


async def test_burst_drafts_newest_first_and_says_how_many_were_held_back(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, burst=4) as w:
        items = stories(w, 10)
        # Feed order is not date order: the newest must still come first.
        w.server.routes["/wire.xml"] = feed_route([rss(list(reversed(items)))])
        feed = await w.add("/wire.xml")
        report = await w.poller.poll(await w.feed(feed.id))
        assert w.sink.links == [i.link for i in items[:4]]
        assert report.held_back == 6
        assert "6 held back (at most 4 drafts a poll" in report.summary
        # The held-back stories come next time, though the feed itself did not change.
        report = await w.poller.poll(await w.feed(feed.id))
        assert not report.not_modified
        assert w.sink.links[4:] == [i.link for i in items[4:8]]
        report = await w.poller.poll(await w.feed(feed.id))
        assert report.held_back == 0
        assert len(w.sink.drafts) == 10
        assert len(set(w.sink.links)) == 10


async def test_the_same_story_in_two_feeds_makes_one_draft(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        shared = stories(w, 1, first=5)[0]
        own = stories(w, 1, first=6)[0]
        w.server.routes["/a.xml"] = feed_route([rss([shared])])
        # The second feed carries it under its own GUID and an https/tracking variant of the link.
        other = dataclasses.replace(shared, guid="b-feed-5")
        w.server.routes["/b.xml"] = feed_route([rss([other, own])])
        await w.add("/a.xml")
        await w.add("/b.xml")
        reports = await w.poller.poll_due()
        assert all(r.ok for r in reports)
        assert sorted(w.sink.links) == sorted([shared.link, own.link])  # type: ignore[list-item]


async def test_story_already_published_as_a_brief_is_skipped(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        items = stories(w, 2)
        w.server.routes["/wire.xml"] = feed_route([rss(items)])
        published = {"feeds.test" + ":" + str(w.server.port) + "/news/0"}
        w.poller.published_urls = lambda: published
        feed = await w.add("/wire.xml")
        report = await w.poller.poll(await w.feed(feed.id))
        assert w.sink.links == [items[1].link]
        assert "already published as a brief" in report.summary
        assert "/news/0" not in [s.path for s in w.server.seen]


async def test_removing_and_adding_a_feed_again_redrafts_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.server.routes["/wire.xml"] = feed_route([rss(stories(w, 2))])
        feed = await w.add("/wire.xml")
        await w.poller.poll_due()
        assert await w.store.remove_feed(feed.id)
        await w.add("/wire.xml")
        [report] = await w.poller.poll_due()
        assert report.summary == "0 new stories drafted"
        assert len(w.sink.drafts) == 2


async def test_rss1_and_atom_feeds_are_read(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.server.routes["/a1"] = page_route(devset_page("ars-1"))
        w.server.routes["/a2"] = page_route(devset_page("herald-sun-1"))
        atom = (
            b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom wire'
            b"</title><entry><id>tag:x,2026:1</id><title>Atom story</title>"
            b'<link href="/a1"/><updated>2026-03-05T10:00:00Z</updated></entry></feed>'
        )
        rdf = (
            '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
            ' xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>RDF wire</title>'
            f'</channel><item rdf:about="{w.url("/a2")}"><title>RDF story</title>'
            f"<link>{w.url('/a2')}</link></item></rdf:RDF>"
        ).encode()
        w.server.routes["/atom"] = feed_route([atom], "application/atom+xml")
        w.server.routes["/rdf"] = feed_route([rdf], "application/rdf+xml")
        await w.add("/atom")
        await w.add("/rdf")
        reports = await w.poller.poll_due()
        assert [r.summary for r in reports] == ["1 new story drafted"] * 2
        # The Atom entry's relative link is resolved against the feed's address.
        assert sorted(w.sink.links) == sorted([w.url("/a1"), w.url("/a2")])
        assert sorted(str(d.feed_title) for _, d in w.sink.drafts) == ["Atom wire", "RDF wire"]


PLAIN_PAGE = (
    b"<html><head><title>Harbour budget approved</title></head><body><article>"
    b"<h1>Harbour budget approved</h1>"
    + b"<p>The harbour board approved the budget after a long debate about the ferries. "
    b"\xe2\x80\x9cThis budget keeps the ferries running,\xe2\x80\x9d said Jane Doe, the "
    b"board's chair, who spoke for an hour about the plans for the coming year.</p>"
    * 3
    + b"</article></body></html>"
)


async def test_a_page_without_a_date_or_outlet_takes_the_feeds_marked_as_such(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        w.server.routes["/dated"] = page_route(PLAIN_PAGE)
        w.server.routes["/undated"] = page_route(PLAIN_PAGE.replace(b"board", b"council"))
        when = START - dt.timedelta(hours=3)
        body = rss(
            [
                Item(title="Dated", link=w.url("/dated"), published=when),
                Item(title="Undated", link=w.url("/undated")),
            ]
        )
        w.server.routes["/wire.xml"] = feed_route([body])
        await w.add("/wire.xml")
        await w.poller.poll_due()
        drafts = {d.title: yaml.safe_load(d.brief_yaml) for _, d in w.sink.drafts}
        dated, undated = drafts["Dated"], drafts["Undated"]
        assert dated["date"]["status"] == "inferred"
        assert dated["date"]["value"] == "2026-03-05"
        assert "the feed Test wire dates this entry 2026-03-05 09:00 UTC" in dated["date"]["basis"]
        assert undated["date"] == {"status": "unknown"}
        assert dated["source"]["outlet"] == "Test wire"
        assert dated["quotes"][0]["speaker"] == "Jane Doe"
