"""Feeds end to end: a local feed server, unmodified discord.py and the fake Discord.

A feed is added with /feeds add; its new story's draft preview appears in the guild's review
channel with the review controls; an editor presses Publish; the brief is live (/quotes) and
the next digest to a subscribed channel carries it. A second poll of the unchanged feed, and
a second feed carrying the same story, make no second draft.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.settings import Settings
from bot.store.records import DraftOrigin, GuildSettings
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord, run_client
from tests.fakediscord.payloads import MANAGE_CHANNELS, MEMBER_PERMISSIONS
from tests.feeds.harness import Item, feed_route, page_route, rss
from tests.ingest.fetch_helpers import LocalServer, local_fetcher, local_resolver, local_server

START = dt.datetime(2026, 3, 5, 7, 0, tzinfo=dt.UTC)
MANAGE_GUILD = int(discord.Permissions(manage_guild=True).value)
HEADLINE = "Harbour ferries budget approved"
BRIEF_ID = "harbour-ferries-budget-approved"
PAGE = (
    "<html><head><title>Harbour ferries budget approved</title></head><body><article>"
    "<h1>Harbour ferries budget approved</h1>"
    "<p>The harbour board approved the ferries budget on Tuesday after a long debate about "
    "housing near the quay and the cost of new boats for the island routes.</p>"
    "<p>“This budget keeps the ferries running,” said Jane Doe, the board's chair, who spoke "
    "for an hour about the plans for the coming year and the spending it needs.</p>"
    "<p>The board will meet again next month to set the timetable for the summer season, "
    "when more visitors are expected on the island routes than in any year before.</p>"
    "</article></body></html>"
).encode()


class World:
    """The running bot, the fake Discord, the feed server and the channels of one test."""

    def __init__(
        self,
        bot: BriefBot,
        fake: FakeDiscord,
        server: LocalServer,
        clock: FakeClock,
        review: int,
        fallback: int,
    ) -> None:
        self.bot, self.fake, self.server, self.clock = bot, fake, server, clock
        self.review, self.fallback = review, fallback

    @property
    def store(self) -> Store:
        assert self.bot.store is not None
        return self.bot.store

    def url(self, path: str) -> str:
        return self.server.url("feeds.test", path)

    def previews(self, channel: int | None = None) -> list[dict[str, Any]]:
        """The draft previews posted in a channel (with their controls until closed)."""
        return [
            m
            for m in self.fake.messages(channel or self.review)
            if str((m.get("embeds") or [{}])[0].get("title", "")).startswith("Draft:")
        ]

    async def add_feed(self, path: str, **options: str) -> dict[str, Any]:
        return await self.fake.invoke(
            "feeds add",
            {"url": self.url(path), **options},
            permissions=MEMBER_PERMISSIONS | MANAGE_GUILD,
        )

    async def polled(self, path: str, since: dt.datetime | None = None) -> str:
        """Wait until the feed at `path` was polled (after `since`); its last result."""

        async def done() -> str | None:
            for feed in await self.store.all_feeds():
                if (
                    feed.url == self.url(path)
                    and feed.last_poll is not None
                    and (since is None or feed.last_poll > since)
                ):
                    return feed.last_result or feed.last_error or ""
            return None

        return await until(done)


async def until(check: Callable[[], Awaitable[Any]], seconds: float = 10.0) -> Any:
    """The first truthy result of `check`, polled; a failure when it never comes."""
    for _ in range(int(seconds / 0.02)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError("gave up waiting")


def control(message: dict[str, Any], label: str) -> str:
    for row in message.get("components") or []:
        for component in row["components"]:
            if component.get("label") == label:
                return str(component["custom_id"])
    raise AssertionError(f"no {label!r} control")


@contextlib.asynccontextmanager
async def running(
    briefs_dir: Path, fake: FakeDiscord, db: Path, editors: Any
) -> AsyncIterator[World]:
    clock = FakeClock(START)
    # The environment names one review channel; this guild set its own, which wins.
    fallback = fake.add_channel("env-review").id
    review = fake.add_channel("review").id
    async with local_server() as server, await Store.open(db, clock=clock) as store:
        await store.save_guild_settings(GuildSettings(fake.guild_id, review_channel_id=review))
        settings = Settings(
            briefs_dir=briefs_dir,
            dev_guild_id=fake.guild_id,
            reload_seconds=0,
            database=db,
            editor_role_id=editors.id,
            review_channel_id=fallback,
        )
        bot = BriefBot(settings=settings, library=LiveLibrary(briefs_dir), store=store, clock=clock)
        async with run_client(bot, fake), local_fetcher() as fetcher:
            # The test's host names resolve to the local server; nothing else is reached.
            assert bot.feed_loop is not None
            bot.feed_loop.poller.fetcher = fetcher
            yield World(bot, fake, server, clock, review, fallback)


@pytest.fixture
def editors(fake_discord: FakeDiscord) -> Any:
    return fake_discord.add_role("Editors", discord.Permissions(send_messages=True))


@pytest.fixture
async def w(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path, editors: Any
) -> AsyncIterator[World]:
    async with running(briefs_dir, fake_discord, tmp_path / "db.sqlite3", editors) as world:
        yield world


def story(w: World, guid: str = "urn:harbour:1", title: str = HEADLINE) -> Item:
    w.server.routes["/news/harbour"] = page_route(PAGE)
    return Item(
        title=title,
        link=w.url("/news/harbour"),
        guid=guid,
        published=START - dt.timedelta(hours=2),
        description="The board approved the ferries budget.",
    )


async def test_feed_story_is_reviewed_published_quoted_and_digested(w: World, editors: Any) -> None:
    olaf = w.fake.add_member("olaf", roles=[editors])
    w.server.routes["/wire.xml"] = feed_route([rss([story(w)], title="Harbour Wire")])
    await w.fake.invoke(
        "digest subscribe",
        {"time": "08:30", "timezone": "UTC"},
        permissions=MEMBER_PERMISSIONS | MANAGE_CHANNELS,
    )
    added = await w.add_feed("/wire.xml", topics="housing")
    assert "Watching" in str(added["data"]["embeds"])
    assert await w.polled("/wire.xml") == "1 new story drafted"
    # The preview is in the guild's own review channel, not the environment's default.
    [preview] = await until(lambda: asyncio.sleep(0, w.previews()))
    assert w.previews(w.fallback) == []
    shown = str(preview["embeds"])
    assert f"Draft: {HEADLINE}" in shown
    assert "Harbour Wire" in shown and w.url("/wire.xml") in shown  # names the feed
    assert "Jane Doe" in shown and "This budget keeps the ferries running" in shown
    assert "topics suggested by the feed Harbour Wire: housing" in shown
    assert w.fake.allowed_mentions(int(preview["id"])) == {"parse": []}
    draft_id = int(control(preview, "Publish").split(":")[2])
    draft = await w.store.get_draft(draft_id)
    assert draft is not None and draft.origin is DraftOrigin.FEED
    assert draft.brief_id == BRIEF_ID
    assert draft.origin_name is not None and w.url("/news/harbour") in draft.origin_name

    # A second feed carrying the same story (its own GUID and title) makes no second draft.
    w.server.routes["/other.xml"] = feed_route(
        [rss([story(w, guid="other-1", title="Ferries budget passes")], title="Other")]
    )
    await w.add_feed("/other.xml")
    assert await w.polled("/other.xml") == "0 new stories drafted"
    assert len(w.previews()) == 1

    # An editor (the role, no Manage Server) publishes it from the preview.
    await w.fake.click(int(preview["id"]), control(preview, "Publish"), member=olaf)
    answer = await w.fake.wait_for_request(
        lambda r: r.method == "POST" and "Published" in str(r.json), 10
    )
    assert f"Published {BRIEF_ID}" in str(answer.json)
    assert (Path(w.bot.settings.briefs_dir) / f"{BRIEF_ID}.yaml").is_file()
    quotes = await w.fake.invoke("quotes", {"speaker": "Doe", "brief": BRIEF_ID})
    assert "This budget keeps the ferries running" in str(quotes["data"]["embeds"])

    # 08:30: the digest carries it; the feed, polled again unchanged, drafts nothing.
    await w.clock.set(dt.datetime(2026, 3, 5, 8, 30, tzinfo=dt.UTC))
    digest = await w.fake.wait_for_request(
        lambda r: r.method == "POST" and r.path.endswith(f"/channels/{w.fake.channel_id}/messages"),
        10,
    )
    assert HEADLINE in str(digest.json)
    assert await w.polled("/wire.xml", since=START) == "not modified since the last poll"
    # Polled every 15 minutes as the clock moved: each later poll conditional, each a 304.
    feed_requests = [s for s in w.server.seen if s.path == "/wire.xml"]
    assert len(feed_requests) >= 2
    assert all("If-None-Match" in s.headers for s in feed_requests[1:])
    assert [s.path for s in w.server.seen].count("/news/harbour") == 1
    [closed] = w.previews()  # still the one preview; Publish took its controls off
    assert not closed.get("components")


async def test_a_feed_paused_after_a_day_of_failures_tells_the_notices_channel_once(
    w: World,
) -> None:
    notices = w.fake.add_channel("staff").id
    await w.store.save_guild_settings(
        GuildSettings(w.fake.guild_id, review_channel_id=w.review, notices_channel_id=notices)
    )
    # No route: every poll is a 404.
    await w.add_feed("/gone.xml")
    assert "404" in await w.polled("/gone.xml")
    # The clock wakes the loop at each back-off (15 min, doubling, at most 6 h) on its way.
    await w.clock.set(START + dt.timedelta(hours=30))

    async def paused() -> bool:
        return any(f.paused for f in await w.store.all_feeds())

    await until(paused)
    [feed] = await w.store.all_feeds()
    assert feed.paused and feed.failing_since == START
    told = await until(lambda: asyncio.sleep(0, w.fake.messages(notices)))
    assert len(told) == 1
    assert "is paused" in str(told[0]["embeds"])
    assert w.fake.messages(w.review) == []


EPHEMERAL = 1 << 6


def shown(body: dict[str, Any]) -> str:
    """An answer's embeds as Discord shows them: markdown escapes are not seen."""
    embeds = body["data"].get("embeds") or []
    parts = [f"{e.get('title', '')}\n{e.get('description', '')}" for e in embeds]
    parts += [f["value"] for e in embeds for f in e.get("fields", [])]
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


def refused(body: dict[str, Any]) -> str:
    """The text of a private refusal."""
    assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL
    return shown(body)


async def add(w: World, **options: str) -> dict[str, Any]:
    return await w.fake.invoke("feeds add", options, permissions=MEMBER_PERMISSIONS | MANAGE_GUILD)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1/feed.xml", "127.0.0.1 is a loopback address"),
        ("http://127.0.0.1:{port}/wire.xml", "127.0.0.1 is a loopback address"),
        ("http://10.0.0.1/", "10.0.0.1 is a private address"),
        ("http://[::1]/feed", "::1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data", "is a cloud metadata address"),
        ("http://[fe80::1]/rss", "fe80::1 is a link-local address"),
        ("http://intranet.test/feed.xml", "intranet.test resolves to a private address"),
        ("http://router.test/feed.xml", "router.test resolves to a loopback address"),
    ],
)
async def test_add_refuses_a_private_address_at_once(w: World, url: str, says: str) -> None:
    # The poller's own fetcher judges: test names resolve through its table, no real DNS.
    assert w.bot.feed_loop is not None
    table = {"intranet.test": ["10.20.30.40"], "router.test": ["93.184.216.34", "127.0.0.2"]}
    w.bot.feed_loop.poller.fetcher = local_fetcher(resolver=local_resolver(**table))
    w.server.routes["/wire.xml"] = feed_route([rss([story(w)])])
    text = refused(await add(w, url=url.format(port=w.server.port)))
    assert "Feed not added" in text and says in text
    assert "only public addresses are fetched" in text
    assert "BRIEFBOT_FETCH_PRIVATE_HOSTS by whoever runs the bot" in text
    assert await w.store.all_feeds() == []
    assert w.server.seen == []  # nothing was fetched


async def test_add_keeps_a_feed_whose_host_cannot_be_looked_up_and_says_so(w: World) -> None:
    body = await add(w, url="http://nowhere.test/feed.xml")
    shown = str(body["data"]["embeds"])
    assert "Watching http://nowhere.test/feed.xml" in shown
    assert "could not resolve nowhere.test just now" in shown
    [feed] = await w.store.all_feeds()
    assert feed.url == "http://nowhere.test/feed.xml"


@pytest.mark.parametrize("topics", [",", " , ,", ",,,"])
async def test_add_with_only_commas_for_topics_is_refused(w: World, topics: str) -> None:
    text = refused(await add(w, url=w.url("/wire.xml"), topics=topics))
    assert "names no topic" in text and "e.g. minerals, CT" in text
    assert await w.store.all_feeds() == []


@pytest.mark.parametrize(
    ("every", "says"),
    [
        ("often", "'often' is not an interval"),
        ("1.5h", "'1.5h' is not an interval"),
        ("1d", "'1d' is not an interval"),
        ("2m", "'2m' is too often"),
        ("36h", "'36h' is too rare"),
    ],
)
async def test_a_bad_every_says_what_is_accepted_with_examples(
    w: World, every: str, says: str
) -> None:
    text = refused(await add(w, url=w.url("/wire.xml"), every=every))
    assert says in text
    assert "5m to 24h in whole minutes or hours, e.g. 15m, 90m, 2h" in text
    assert await w.store.all_feeds() == []


async def test_every_option_is_described_as_it_is_parsed(w: World) -> None:
    [feeds] = [c for c in w.fake.commands(w.fake.guild_id) if c["name"] == "feeds"]
    [add_command] = [o for o in feeds["options"] if o["name"] == "add"]
    every = next(o for o in add_command["options"] if o["name"] == "every")
    assert every["description"] == (
        "Default 15m; 5m to 24h in whole minutes or hours, e.g. 15m, 90m, 2h "
        "(a bare number is minutes)"
    )
    # Every example in the description is accepted as written.
    for example in ("15m", "90m", "2h", "5m", "24h", "30"):
        body = await add(w, url=w.url(f"/every-{example}.xml"), every=example)
        assert "Watching" in str(body["data"]["embeds"]), example


async def test_topics_autocomplete_like_the_other_commands(w: World) -> None:
    body = await w.fake.autocomplete(
        "feeds add",
        {"url": w.url("/wire.xml"), "topics": "housing, spen"},
        focused="topics",
        permissions=MEMBER_PERMISSIONS | MANAGE_GUILD,
    )
    assert [c["value"] for c in body["data"]["choices"]] == ["housing, budget"]


async def test_remove_and_status_autocomplete_this_servers_feeds(w: World) -> None:
    w.server.routes["/wire.xml"] = feed_route([rss([story(w)], title="Harbour Wire")])
    await w.add_feed("/wire.xml")
    await w.add_feed("/sport.xml")
    await w.polled("/wire.xml")
    long_path = "/" + "x" * 120 + ".xml"
    await w.add_feed(long_path)
    for command in ("feeds remove", "feeds status"):
        body = await w.fake.autocomplete(
            command, {"url": "harbour"}, permissions=MEMBER_PERMISSIONS | MANAGE_GUILD
        )
        [choice] = body["data"]["choices"]  # by the feed's title
        assert choice == {
            "name": f"Harbour Wire — {w.url('/wire.xml')}",
            "value": w.url("/wire.xml"),
        }
        every = await w.fake.autocomplete(
            command, {"url": ""}, permissions=MEMBER_PERMISSIONS | MANAGE_GUILD
        )
        assert len(every["data"]["choices"]) == 3
    # A member who may not use /feeds is offered nothing.
    hidden = await w.fake.autocomplete(
        "feeds status", {"url": ""}, permissions=MEMBER_PERMISSIONS, check_permissions=False
    )
    assert hidden["data"]["choices"] == []
    # An address too long for a choice's value goes by the feed's id, and the command takes it.
    body = await w.fake.autocomplete(
        "feeds remove", {"url": "xxxx"}, permissions=MEMBER_PERMISSIONS | MANAGE_GUILD
    )
    [choice] = body["data"]["choices"]
    assert choice["value"].startswith("#") and len(choice["name"]) <= 100
    removed = await w.fake.invoke(
        "feeds remove",
        {"url": choice["value"]},
        permissions=MEMBER_PERMISSIONS | MANAGE_GUILD,
    )
    assert f"No longer watching {w.url(long_path)}" in str(removed["data"]["embeds"])
    assert len(await w.store.all_feeds()) == 2
