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
COMMANDS = [("quotes", "speaker"), ("topic", "name"), ("summary", "brief"), ("quotes", "brief")]


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
        options = {"speaker": "Dar", option: value} if command == "quotes" else {option: value}
        body = await fake_discord.invoke(command, options)
        assert body["type"] == 4, (command, body)
        assert_pings_nobody(body["data"])
        choices = await fake_discord.autocomplete(command, {option: value[:100]}, focused=option)
        assert choices["type"] == 8
    # The fake_discord fixture fails the test on any spec or docs violation in those replies.
    assert not fake_discord.violations
