"""Hostile command input: no unhandled error, nobody pinged, every reply valid for Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.settings import Settings
from tests.conftest import BRIEFS
from tests.fakediscord import FakeDiscord, run_client

HOSTILE = {
    "overlong": "Dar " * 1500,
    "control": "Dar\x00\x07\x1b[31m\r\n",
    "rtl": "\u202eraD\u202c \u200f\u0631\u0627\u062f",
    "everyone": "@everyone",
    "here": "@here",
    "role": "<@&123456789012345678>",
    "user": "<@123456789012345678> <@!123456789012345678>",
    "markdown": "**Dar** __x__ `code` ```block``` ||spoiler|| > quote [link](https://evil.example)",
    "combining": "D\u0301\u0302\u0303\u0304\u0305" * 200,
    "emoji": "🇵🇰" * 300,
}
COMMANDS = [
    ("quotes", "speaker"),
    ("topic", "name"),
    ("summary", "brief"),
    ("quotes", "brief"),
    ("search", "query"),
    ("search", "speaker"),
    ("search", "topic"),
    ("search", "since"),
]
# The options each command needs besides the hostile one.
REQUIRED = {"quotes": {"speaker": "Dar"}, "search": {"query": "ceasefire"}}


@pytest.fixture
async def bot(fake_discord: FakeDiscord) -> AsyncIterator[BriefBot]:
    settings = Settings(briefs_dir=BRIEFS, dev_guild_id=fake_discord.guild_id, reload_seconds=0)
    client = BriefBot(settings=settings, library=LiveLibrary(Path(BRIEFS)))
    async with run_client(client, fake_discord) as running:
        yield running


def assert_pings_nobody(data: dict[str, Any]) -> None:
    assert data.get("allowed_mentions") == {"parse": []}
    text = str(data.get("content", "")) + str(data.get("embeds", ""))
    for mention in ("@everyone", "@here", "<@&", "<@1", "<@!"):
        assert mention not in text


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_hostile_values_get_a_safe_answer(
    bot: BriefBot, fake_discord: FakeDiscord, kind: str
) -> None:
    value = HOSTILE[kind]
    for command, option in COMMANDS:
        options = {**REQUIRED.get(command, {}), option: value}
        body = await fake_discord.invoke(command, options)
        assert body["type"] == 4, (command, body)
        assert_pings_nobody(body["data"])
        assert "Something went wrong" not in str(body["data"]), (command, option)
        if (command, option) == ("search", "query"):
            continue  # the one option here that does not autocomplete
        typed = {**REQUIRED.get(command, {}), option: value[:100]}
        choices = await fake_discord.autocomplete(command, typed, focused=option)
        assert choices["type"] == 8
    # The fake_discord fixture fails the test on any spec or docs violation in those replies.
    assert not fake_discord.violations


# What FTS5 reads as syntax, and queries that once raised or ran for seconds.
SEARCHES = {
    "quote": '"',
    "star": "*",
    "near": "NEAR(",
    "minus": "-",
    "colon": ":",
    "column": "title:x",
    "tags column": "{tags}: s4461",
    "caret": "^",
    "plus": "+ ceasefire",
    "word and prefix": "critical minera*",
    "prefix and word": "minera* critical",
    "two prefixes": "zzz* minera*",
    "prefix beside NEAR": "NEAR(critical minerals) coop*",
    "words": "ceasefire " * 550,
    "characters": "x" * 5000,
    "everyone": "@everyone ceasefire",
    "rtl": "\u202eerifesaec \u0648\u0642\u0641 \u0625\u0637\u0644\u0627\u0642",
    "emoji": "🕊️ ceasefire",
    "nul": "cease\x00fire",
}


@pytest.mark.parametrize("kind", sorted(SEARCHES))
async def test_search_syntax_and_size_get_an_answer_never_an_error(
    bot: BriefBot, fake_discord: FakeDiscord, kind: str
) -> None:
    body = await fake_discord.invoke("search", {"query": SEARCHES[kind]})
    assert body["type"] == 4, body
    assert_pings_nobody(body["data"])
    (page,) = body["data"]["embeds"]
    assert "Something went wrong" not in str(page)
    assert page["title"].startswith(("Search: ", "No matches", "/search: too many words")), page
    if kind in ("word and prefix", "prefix and word", "everyone"):
        assert page["title"].startswith("Search: ") or "Nothing in the briefs" in str(page)
    if kind == "word and prefix":
        assert "**critical minerals**" in str(page["fields"])
    if kind == "everyone":  # echoed escaped: shows as typed, never as a mention
        assert "@\u200beveryone" in page["title"] + page.get("description", "")
    assert not fake_discord.violations
