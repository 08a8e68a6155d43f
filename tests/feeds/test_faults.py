"""Bad feeds and faults, each on its own: the feed's status says what happened, the other
feeds keep polling, nothing is drafted twice, and a failing feed backs off and pauses."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from aiohttp import web

from bot.feeds.poller import FeedPoller
from bot.store.feeds import Feed
from tests.feeds.harness import (
    EVERY,
    START,
    Item,
    World,
    devset_page,
    drafter,
    feed_route,
    page_route,
    rss,
    stories,
    world,
)
from tests.ingest.fetch_helpers import guard_connects, local_resolver, raw_server


async def poll_beside_a_good_feed(w: World, bad_path: str) -> Feed:
    """Poll the bad feed with a good one; the good one drafts; the bad one's row is returned."""
    good = stories(w, 1, first=900)
    w.server.routes["/good.xml"] = feed_route([rss(good)])
    good_feed = await w.add("/good.xml")
    bad_feed = await w.add(bad_path)
    await w.poller.poll_due()
    assert w.sink.links.count(good[0].link) == 1  # type: ignore[arg-type]
    assert (await w.feed(good_feed.id)).last_error is None
    return await w.feed(bad_feed.id)


def failed(feed: Feed) -> str:
    assert feed.last_error is not None, feed.last_result
    assert feed.failures == 1
    assert feed.failing_since == START
    assert not feed.paused
    return feed.last_error


async def test_html_page_instead_of_a_feed(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.server.routes["/page"] = page_route(devset_page("ars-1"))
        feed = await poll_beside_a_good_feed(w, "/page")
        assert failed(feed) == "this is an HTML page, not an RSS or Atom feed"


async def test_malformed_xml(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.server.routes["/broken.xml"] = feed_route([b"<?xml version='1.0'?><rss><<>/channel"])
        feed = await poll_beside_a_good_feed(w, "/broken.xml")
        assert failed(feed).startswith("not well-formed XML: line 1")


async def test_truncated_feed_is_read_leniently_and_says_so(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        [item] = stories(w, 1)
        body = rss([item]).replace(b"</channel></rss>", b"<item><title>cut off")
        w.server.routes["/cut.xml"] = feed_route([body])
        feed = await poll_beside_a_good_feed(w, "/cut.xml")
        assert feed.last_error is None
        assert feed.last_result is not None
        assert "read leniently, the XML has errors" in feed.last_result
        assert item.link in w.sink.links
        # The cut-off entry has no link: it is skipped, never drafted.
        assert "an untitled entry: the entry has no link to an article" in feed.last_result


async def test_empty_feed(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.server.routes["/empty.xml"] = feed_route([rss([])])
        feed = await poll_beside_a_good_feed(w, "/empty.xml")
        assert feed.last_error is None
        assert feed.last_result == "the feed has no entries"


async def test_empty_response(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.server.routes["/nothing"] = feed_route([b""])
        feed = await poll_beside_a_good_feed(w, "/nothing")
        assert failed(feed) == "the response was empty, not a feed"


async def test_404(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        feed = await poll_beside_a_good_feed(w, "/gone.xml")
        assert failed(feed).endswith("/gone.xml answered 404 Not Found")
        assert feed.next_poll == START + EVERY


async def test_500_with_retry_after_is_honoured(tmp_path: Path) -> None:
    async def busy(request: web.Request) -> web.StreamResponse:
        return web.Response(status=503, headers={"Retry-After": "7200"})

    async with world(tmp_path) as w:
        w.server.routes["/busy.xml"] = busy
        feed = await poll_beside_a_good_feed(w, "/busy.xml")
        assert "answered 503" in failed(feed)
        assert feed.next_poll == START + dt.timedelta(hours=2)


async def test_500(tmp_path: Path) -> None:
    async def broken(request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="oops")

    async with world(tmp_path) as w:
        w.server.routes["/500.xml"] = broken
        feed = await poll_beside_a_good_feed(w, "/500.xml")
        assert failed(feed).endswith("answered 500 Internal Server Error")


async def test_timeout(tmp_path: Path) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(10)
        return web.Response(text="late")

    async with world(tmp_path, total_timeout=0.5) as w:
        w.server.routes["/slow.xml"] = slow
        feed = await poll_beside_a_good_feed(w, "/slow.xml")
        assert failed(feed).endswith("took longer than 0.5 s")


async def test_connection_reset(tmp_path: Path) -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.transport.abort()

    async with raw_server() as raw, world(tmp_path) as w:
        raw.handler = reset
        w.server.routes["/good.xml"] = feed_route([rss(stories(w, 1, first=900))])
        good = await w.add("/good.xml")
        feed, _ = await w.store.add_feed(
            guild_id=good.guild_id,
            url=f"http://other.test:{raw.port}/feed",
            topics=(),
            interval=EVERY,
            created_by=1,
        )
        await w.poller.poll_due()
        assert len(w.sink.drafts) == 1
        error = failed(await w.feed(feed.id))
        assert "other.test" in error and ("broke" in error or "failed" in error)


async def test_redirect_loop(tmp_path: Path) -> None:
    async def loop_a(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/loop-b")

    async def loop_b(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/loop-a")

    async with world(tmp_path) as w:
        w.server.routes["/loop-a"] = loop_a
        w.server.routes["/loop-b"] = loop_b
        feed = await poll_beside_a_good_feed(w, "/loop-a")
        assert failed(feed).endswith("redirects in a loop")


async def test_redirect_to_a_private_address_is_refused_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connects = guard_connects(monkeypatch)

    async def to_intranet(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("http://intranet.test/secret.xml")

    resolver = local_resolver(intranet_test=["10.1.2.3"])
    async with world(tmp_path, resolver=resolver) as w:
        w.server.routes["/moved.xml"] = to_intranet
        feed = await poll_beside_a_good_feed(w, "/moved.xml")
        error = failed(feed)
        assert error.startswith("intranet.test resolves to a private address")
        assert "redirected from" in error
    assert "10.1.2.3" not in connects.addresses


async def test_50_mb_response_is_cut_off_at_the_cap(tmp_path: Path) -> None:
    sent = [0]

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        chunk = b"<!-- " + b"x" * (1024 * 1024 - 10) + b" -->\n"
        try:
            for _ in range(50):
                await response.write(chunk)
                sent[0] += len(chunk)
        except ConnectionError:
            pass
        return response

    async with world(tmp_path) as w:
        w.server.routes["/huge.xml"] = huge
        feed = await poll_beside_a_good_feed(w, "/huge.xml")
        assert failed(feed).endswith("is over the 5.0 MiB limit")
    assert sent[0] < 50 * 1024 * 1024


async def test_entry_without_link_or_guid_is_skipped_once(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        items = [Item(title="No link here", description="Words without an address.")]
        body = [rss(items)]
        w.server.routes["/nolink.xml"] = feed_route(body)
        feed = await poll_beside_a_good_feed(w, "/nolink.xml")
        assert feed.last_result == (
            "0 new stories drafted; 1 skipped (No link here: the entry has no link to an article)"
        )
        # Seen once is enough: the next poll of a changed feed does not report it again.
        [extra] = stories(w, 1, first=50)
        body[0] = rss([extra, *items])
        report = await w.poller.poll(await w.feed(feed.id))
        assert report.summary == "1 new story drafted"


async def test_article_page_with_no_text_is_skipped_and_not_retried(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.server.routes["/empty-page"] = page_route(
            b"<html><head><title>x</title></head><body><nav>Home | News</nav></body></html>"
        )
        item = Item(title="Empty page", link=w.url("/empty-page"), guid="e1")
        body = [rss([item])]
        w.server.routes["/wire.xml"] = feed_route(body)
        feed = await poll_beside_a_good_feed(w, "/wire.xml")
        assert feed.last_result == (
            "0 new stories drafted; 1 skipped (Empty page: HTML page with no article text)"
        )
        [extra] = stories(w, 1, first=60)
        body[0] = rss([extra, item])
        await w.poller.poll(await w.feed(feed.id))
        assert [s.path for s in w.server.seen].count("/empty-page") == 1


async def test_article_page_down_is_retried_next_poll(tmp_path: Path) -> None:
    state = {"up": False}
    page = devset_page("ars-1")

    async def flaky(request: web.Request) -> web.StreamResponse:
        if not state["up"]:
            return web.Response(status=502)
        return web.Response(body=page, content_type="text/html")

    async with world(tmp_path) as w:
        w.server.routes["/flaky"] = flaky
        w.server.routes["/wire.xml"] = feed_route(
            [rss([Item(title="Flaky", link=w.url("/flaky"))])]
        )
        feed = await w.add("/wire.xml")
        report = await w.poller.poll(await w.feed(feed.id))
        assert "answered 502" in report.summary and "(retried next poll)" in report.summary
        state["up"] = True
        report = await w.poller.poll(await w.feed(feed.id))
        # Not a 304: the validators were kept back so the story is seen again.
        assert report.summary == "1 new story drafted"
        assert w.sink.links == [w.url("/flaky")]


async def test_non_utf8_feed_declared_in_its_xml(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.server.routes["/p"] = page_route(devset_page("ars-1"))
        title = "Caf\u00e9 owners \u201cwelcome\u201d the budget"
        body = rss([Item(title=title, link=w.url("/p"))], title="Le R\u00e9veil", encoding="cp1252")
        w.server.routes["/latin.xml"] = feed_route([body], "application/rss+xml")
        feed = await poll_beside_a_good_feed(w, "/latin.xml")
        assert feed.last_error is None
        assert feed.title == "Le R\u00e9veil"
        assert [d.title for _, d in w.sink.drafts if d.link == w.url("/p")] == [title]


async def test_failing_feed_backs_off_then_pauses_after_a_day_and_tells_editors_once(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        feed = await w.add("/missing.xml")
        delays = []
        while not (current := await w.feed(feed.id)).paused:
            w.clock._now = current.next_poll  # the next due time
            polled = await w.poller.poll_due()
            assert [r.feed_id for r in polled] == [feed.id]
            after = await w.feed(feed.id)
            delays.append(after.next_poll - w.clock.now())
        # 15 min, then doubling, capped at 6 h.
        minutes = [d.total_seconds() / 60 for d in delays]
        assert minutes[:6] == [15, 30, 60, 120, 240, 360]
        paused = await w.feed(feed.id)
        assert paused.paused_reason is not None
        assert paused.paused_reason.startswith("failing since 2026-03-05 12:00 UTC")
        assert w.clock.now() - START >= dt.timedelta(hours=24)
        assert len(w.sink.notices) == 1
        assert "is paused" in w.sink.notices[0][1]
        # A paused feed is not polled again.
        w.clock._now += dt.timedelta(days=2)
        assert await w.poller.poll_due() == []
        # Adding it again resumes it, with a clean slate.
        resumed, created = await w.store.add_feed(
            guild_id=feed.guild_id, url=feed.url, topics=(), interval=EVERY, created_by=1
        )
        assert not created and not resumed.paused and resumed.failures == 0


async def test_a_bug_while_drafting_one_feed_does_not_stop_the_others(tmp_path: Path) -> None:
    class Exploding:
        def draft(self, story: object) -> object:
            raise RuntimeError("drafter bug")

    async with world(tmp_path) as w:
        w.poller = FeedPoller(w.store, w.fetcher, w.sink, clock=w.clock, drafter=Exploding())  # type: ignore[arg-type]
        w.server.routes["/wire.xml"] = feed_route([rss(stories(w, 1))])
        feed = await w.add("/wire.xml")
        [report] = await w.poller.poll_due()
        assert not report.ok
        assert (await w.feed(feed.id)).last_error == "internal error (RuntimeError); logged"
        # The story was not marked seen: once the bug is fixed it is drafted.
        w.poller = FeedPoller(w.store, w.fetcher, w.sink, clock=w.clock, drafter=drafter())
        await w.poller.poll(await w.feed(feed.id))
        assert len(w.sink.drafts) == 1
