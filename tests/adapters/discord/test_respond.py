"""Answering an interaction, first response or follow-up, with unmodified discord.py and the fake.

A first response (paged, private, pinging nobody) is tested end to end in
tests/commands/test_briefs_e2e.py; here the follow-up after a deferral, and plain-text answers.
"""

from __future__ import annotations

from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord import respond
from bot.adapters.discord.embeds import render_pages
from bot.adapters.discord.respond import send_reply, send_text
from bot.reply import Item, Reply, Section
from tests.fakediscord import FakeDiscord, run_client

EPHEMERAL = 1 << 6
LONG_REPLY = Reply(
    "Many points",
    sections=(Section("Points", tuple(Item(f"point {i} " + "x" * 900) for i in range(20))),),
)
# Eight pages of five points; each point says which it is.
MANY_PAGES = Reply(
    "Forty points",
    sections=(Section("Points", tuple(Item(f"point {i:02d} " + "y" * 900) for i in range(40))),),
    footer="newest first",
)
SHOUT = "@everyone " + "a" * 2500


@app_commands.command(name="slow", description="Defer, then answer with a long reply")
async def slow(interaction: discord.Interaction) -> None:
    """Think first, then send several pages."""
    await interaction.response.defer(thinking=True)
    await send_reply(interaction, LONG_REPLY)


@app_commands.command(name="many", description="Answer with an eight-page reply")
async def many(interaction: discord.Interaction) -> None:
    """Send eight pages at once (no deferral)."""
    await send_reply(interaction, MANY_PAGES)


@app_commands.command(name="shout", description="Answer with an overlong plain text")
async def shout(interaction: discord.Interaction) -> None:
    """Too long for one message, and it tries to ping everyone."""
    await send_text(interaction, SHOUT)


@app_commands.command(name="shout-later", description="Defer, then answer with plain text")
async def shout_later(interaction: discord.Interaction) -> None:
    """Think first, then the same overlong text."""
    await interaction.response.defer(ephemeral=True)
    await send_text(interaction, SHOUT)


class ReplyBot(commands.Bot):
    """A bot whose commands answer through the reply helpers."""

    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(command_prefix=commands.when_mentioned, intents=intents)

    async def setup_hook(self) -> None:
        """Register the commands (the test syncs them)."""
        for command in (slow, many, shout, shout_later):
            self.tree.add_command(command)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return message["components"][0]["components"]  # type: ignore[no-any-return]


async def test_deferred_long_reply_arrives_paged_and_its_buttons_expire(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Long enough for the click below on a slow machine; every second here is suite time.
    monkeypatch.setattr(respond, "PAGER_TIMEOUT", 1.0)
    async with run_client(ReplyBot(), fake_discord) as bot:
        await bot.tree.sync()
        body = await fake_discord.invoke("slow")
        assert body["type"] == 5  # "thinking…" first
        answer = await fake_discord.wait_for_request(
            lambda r: r.method in {"POST", "PATCH"} and "/webhooks/" in r.path
        )
        # The "thinking…" message is edited into the answer (not the deprecated follow-up).
        assert answer.method == "PATCH" and answer.path.endswith("/messages/@original")
        sent = answer.json
        pages = sent["embeds"][0]["footer"]["text"]
        assert pages.startswith("Page 1/") and pages != "Page 1/1"
        assert sent["allowed_mentions"] == {"parse": []}
        assert [b["disabled"] for b in buttons(sent)] == [True, False]

        message = fake_discord.interactions()[-1].original
        assert message is not None
        turned = await fake_discord.click(message, buttons(sent)[1]["custom_id"])
        assert turned["data"]["embeds"][0]["footer"]["text"].startswith("Page 2/")

        expired = await fake_discord.wait_for_request(
            lambda r: (
                r.method == "PATCH"
                and "/webhooks/" in r.path
                and r.json is not None
                and "components" in r.json
                and r is not answer
            ),
            timeout=5,
        )
    assert [b["disabled"] for b in buttons(expired.json)] == [True, True]
    assert not fake_discord.warnings


async def test_page_seven_after_six_presses_shows_its_own_points(
    fake_discord: FakeDiscord,
) -> None:
    # Pages are drawn when they are shown: what a press shows must be exactly the page an
    # up-front rendering of the whole reply has at that place.
    every_page = [page.to_dict() for page in render_pages(MANY_PAGES)]
    assert len(every_page) == 8
    async with run_client(ReplyBot(), fake_discord) as bot:
        await bot.tree.sync()
        body = await fake_discord.invoke("many")
        assert body["type"] == 4
        assert body["data"]["embeds"] == [every_page[0]]
        message = fake_discord.interactions()[-1].original
        assert message is not None
        previous, following = (b["custom_id"] for b in buttons(body["data"]))
        for _ in range(6):
            turned = await fake_discord.click(message, following)
        shown = turned["data"]["embeds"][0]
        assert shown == every_page[6]
        assert shown["footer"]["text"] == "newest first · Page 7/8"
        assert [f["value"][:8] for f in shown["fields"]] == [f"point {i}" for i in range(30, 35)]
        assert [b["disabled"] for b in buttons(turned["data"])] == [False, False]
        last = await fake_discord.click(message, following)
        assert last["data"]["embeds"] == [every_page[7]]
        assert [b["disabled"] for b in buttons(last["data"])] == [False, True]
        back = await fake_discord.click(message, previous)
        assert back["data"]["embeds"] == [every_page[6]]
    assert not fake_discord.warnings


@pytest.mark.parametrize("command", ["shout", "shout-later"])
async def test_plain_text_is_clipped_to_one_message_and_pings_nobody(
    fake_discord: FakeDiscord, command: str
) -> None:
    async with run_client(ReplyBot(), fake_discord) as bot:
        await bot.tree.sync()
        body = await fake_discord.invoke(command)
        if body["type"] == 5:  # deferred: the text replaces "thinking…", private as it was
            assert body["data"]["flags"] & EPHEMERAL
            request = await fake_discord.wait_for_request(
                lambda r: r.method in {"POST", "PATCH"} and "/webhooks/" in r.path
            )
            assert request.path.endswith("/messages/@original")
            data = request.json
        else:
            assert body["data"]["flags"] & EPHEMERAL
            data = body["data"]
    assert not fake_discord.warnings
    assert len(data["content"]) == 2000
    assert data["content"] == SHOUT[:1999] + "…"
    assert data["allowed_mentions"] == {"parse": []}
