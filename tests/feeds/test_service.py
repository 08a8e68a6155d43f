"""/feeds replies and the polling loop, on a real store and the local server."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot.feeds.loop import FeedLoop
from bot.feeds.service import FeedInputError, FeedService, parse_every
from bot.reply import Status
from tests.feeds.harness import GUILD, feed_route, rss, stories, world

TOPICS = {"budget": "budget", "spending": "budget", "housing": "housing"}


def service_of(store: object, woken: list[int] | None = None) -> FeedService:
    return FeedService(
        store,  # type: ignore[arg-type]
        resolve_topic=lambda name: TOPICS.get(name.lower()),
        wake=(lambda: woken.append(1)) if woken is not None else (lambda: None),
    )


@pytest.mark.parametrize(
    ("text", "minutes"), [(None, 15), ("", 15), ("5", 5), ("30m", 30), ("2h", 120), ("1 hour", 60)]
)
def test_every_takes_minutes_and_hours(text: str | None, minutes: int) -> None:
    assert parse_every(text) == dt.timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("text", "says"),
    [("4", "at most every 5 minutes"), ("often", "not an interval"), ("48h", "once a day")],
)
def test_every_refuses_what_it_cannot_honour(text: str, says: str) -> None:
    with pytest.raises(FeedInputError, match=says):
        parse_every(text)


async def test_add_list_status_remove(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        woken: list[int] = []
        service = service_of(w.store, woken)
        url = w.url("/wire.xml")
        reply = await service.add(GUILD, 7, url, "Spending, housing", "30m")
        assert reply.ok and reply.title == "Feed added"
        assert "every 30 minutes" in (reply.description or "")
        assert "budget, housing" in (reply.description or "")
        assert woken == [1]
        again = await service.add(GUILD, 7, url, None, None)
        assert again.title == "Feed updated"
        listed = await service.list(GUILD)
        assert listed.title == "1 feed"
        assert listed.sections[0].items[0].text == "not polled yet"
        w.server.routes["/wire.xml"] = feed_route([rss(stories(w, 1))])
        await w.poller.poll_due()
        status = await service.status(GUILD, url)
        rows = {i.label: i.text for i in status.sections[0].items}
        assert rows["Last result"] == "1 new story drafted"
        assert rows["Stories"] == "1 seen, 1 drafted"
        # Another server sees none of it.
        assert (await service.list(GUILD + 1)).status is Status.NOT_FOUND
        removed = await service.remove(GUILD, url)
        assert removed.ok
        assert (await service.remove(GUILD, url)).status is Status.NOT_FOUND


async def test_add_refuses_bad_input_and_stores_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        service = service_of(w.store)
        for url, topics, every, says in [
            ("ftp://example.org/feed", None, None, "not an http or https address"),
            ("https://example.org/feed", "nonsense", None, "unknown topic 'nonsense'"),
            ("https://example.org/feed", None, "1m", "at most every 5 minutes"),
        ]:
            reply = await service.add(GUILD, 7, url, topics, every)
            assert reply.status is Status.INVALID and says in (reply.description or "")
        assert await w.store.guild_feeds(GUILD) == []


async def test_loop_polls_when_woken_and_stops_cleanly(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        loop = FeedLoop(w.poller, w.clock)
        await loop.start_when_needed()  # no feeds: no loop yet
        assert w.clock.sleepers == 0
        w.server.routes["/wire.xml"] = feed_route([rss(stories(w, 2))])
        await w.add("/wire.xml")
        loop.wake()
        for _ in range(200):
            if len(w.sink.drafts) == 2 and w.clock.sleepers == 1:
                break
            await asyncio.sleep(0.02)
        assert len(w.sink.drafts) == 2
        # Asleep until the feed is next due; moving the clock there polls it again.
        await w.clock.advance(dt.timedelta(minutes=15))
        for _ in range(200):
            if loop.passes >= 2:
                break
            await asyncio.sleep(0.02)
        assert [s.path for s in w.server.seen].count("/wire.xml") == 2
        await loop.stop()
        assert w.clock.sleepers == 0


async def test_changing_a_feed_keeps_the_options_left_out(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        service = service_of(w.store)
        url = w.url("/wire.xml")
        await service.add(GUILD, 7, url, "budget, housing", "2h")
        # Resuming it (or changing one option) keeps the others, as /digest subscribe does.
        again = await service.add(GUILD, 7, url, None, "30m")
        assert again.title == "Feed updated"
        [feed] = await w.store.guild_feeds(GUILD)
        assert feed.topics == ("budget", "housing") and feed.interval.total_seconds() == 1800
        await service.add(GUILD, 7, url, "none", None)
        [feed] = await w.store.guild_feeds(GUILD)
        assert feed.topics == () and feed.interval.total_seconds() == 1800


@pytest.mark.parametrize("topics", [",", " , ", ",,"])
async def test_topics_of_only_commas_are_refused_not_read_as_none(
    tmp_path: Path, topics: str
) -> None:
    async with world(tmp_path) as w:
        service = service_of(w.store)
        reply = await service.add(GUILD, 7, w.url("/wire.xml"), topics, None)
        assert reply.status is Status.INVALID and reply.private
        assert "names no topic" in (reply.description or "")
        assert await w.store.guild_feeds(GUILD) == []
