"""A damaged brief index found by a command, through unmodified discord.py and a fake Discord."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import BriefBot
from bot.settings import Settings
from tests.briefs.test_index import live_with_damage_only_a_search_reads
from tests.conftest import write_briefs
from tests.fakediscord import FakeDiscord, run_client

EPHEMERAL = 1 << 6


async def test_a_command_that_finds_the_index_damaged_says_so_and_the_next_is_answered(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    root = await asyncio.to_thread(write_briefs, tmp_path / "briefs")
    path = tmp_path / "data" / "briefs.index.sqlite3"
    live = await asyncio.to_thread(live_with_damage_only_a_search_reads, root, path)
    settings = Settings(briefs_dir=root, dev_guild_id=fake_discord.guild_id, reload_seconds=0)
    async with run_client(BriefBot(settings=settings, library=live), fake_discord):
        first = await fake_discord.invoke("search", {"query": "libraries"})
        assert first["type"] == 4, first
        assert first["data"]["flags"] & EPHEMERAL
        assert "brief index is damaged and is being rebuilt" in first["data"]["content"]
        assert live._recovering is not None
        await live._recovering
        again = await fake_discord.invoke("search", {"query": "libraries"})
        (page,) = again["data"]["embeds"]
        assert "**libraries**" in page["fields"][0]["value"]
    assert not fake_discord.violations
