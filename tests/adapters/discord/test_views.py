"""The pager, clicked through with unmodified discord.py against the fake Discord.

Only the invoker may turn pages and the buttons grey out on timeout: both are tested end to end
in tests/commands/test_briefs_e2e.py. Here: walking to the last page and back.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.views import Pager
from tests.fakediscord import FakeDiscord, run_client

PAGES = 3


class PagerBot(commands.Bot):
    """A bot with one command that answers with three pages behind a Pager."""

    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(command_prefix=commands.when_mentioned, intents=intents)

    async def setup_hook(self) -> None:
        """Register the command (the test syncs it)."""
        self.tree.add_command(pages)


@app_commands.command(name="pages", description="Three pages")
async def pages(interaction: discord.Interaction) -> None:
    """Answer with page 1 of 3."""
    embeds = [discord.Embed(title=f"Page {i}") for i in range(1, PAGES + 1)]
    await interaction.response.send_message(
        embed=embeds[0], view=Pager(embeds, interaction.user.id, timeout=60)
    )


def shown(body: dict[str, Any]) -> tuple[str, bool, bool]:
    """The page title, and whether Previous and Next are disabled."""
    previous, following = body["components"][0]["components"]
    assert (previous["label"], following["label"]) == ("Previous", "Next")
    return body["embeds"][0]["title"], previous["disabled"], following["disabled"]


async def test_buttons_turn_pages_and_grey_out_at_either_end(fake_discord: FakeDiscord) -> None:
    async with run_client(PagerBot(), fake_discord) as bot:
        await bot.tree.sync(guild=None)  # global commands work in the fake's guild too
        await fake_discord.invoke("pages")
        message = fake_discord.interactions()[-1].original
        assert message is not None
        assert shown(message) == ("Page 1", True, False)
        previous, following = (b["custom_id"] for b in message["components"][0]["components"])

        seen = []
        for _ in range(PAGES - 1):
            body = await fake_discord.click(message, following)
            assert body["type"] == 7  # the message is updated in place
            seen.append(shown(body["data"]))
        assert seen == [("Page 2", False, False), ("Page 3", False, True)]

        back = await fake_discord.click(message, previous)
        assert shown(back["data"]) == ("Page 2", False, False)
