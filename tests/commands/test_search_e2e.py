"""/search as a user meets it: paged in Discord, options autocompleted, and `briefbot ask`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.settings import Settings
from tests.commands.test_briefs_e2e import big_briefs
from tests.fakediscord import FakeDiscord, run_client
from tests.test_cli import briefbot


def page_of(body: dict[str, Any]) -> dict[str, Any]:
    (embed,) = body["data"]["embeds"]
    return embed  # type: ignore[no-any-return]


async def test_many_hits_are_paged_and_the_options_autocomplete(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    root = big_briefs(tmp_path)  # 30 long key points holding "word"
    settings = Settings(briefs_dir=root, dev_guild_id=fake_discord.guild_id, reload_seconds=0)
    async with run_client(BriefBot(settings=settings, library=LiveLibrary(root)), fake_discord):
        body = await fake_discord.invoke("search", {"query": "word", "topic": "budget"})
        first = page_of(body)
        assert first["description"].startswith("30 matches, best first, on Budget")
        pages = int(first["footer"]["text"].rsplit("/", 1)[-1])
        assert pages >= 2 and "Page 1/" in first["footer"]["text"]
        assert "**word word" in first["fields"][0]["value"]  # the match, in one bold run
        buttons = body["data"]["components"][0]["components"]
        message = fake_discord.interactions()[-1].original
        assert message is not None
        turned = await fake_discord.click(message, buttons[1]["custom_id"])
        second = turned["data"]["embeds"][0]
        assert "Page 2/" in second["footer"]["text"] and "**word word" in str(second["fields"])
        for option, typed, expected in [
            ("topic", "budg", "budget"),
            ("speaker", "jan", "Jane Doe"),
            ("since", "2026-03", "2026-03-05"),  # the days briefs are dated
            ("until", "2026-03-0", "2026-03-05"),
        ]:
            choices = await fake_discord.autocomplete(
                "search", {"query": "word", option: typed}, focused=option
            )
            values = [c["value"] for c in choices["data"]["choices"]]
            assert expected in values, (option, values)
    assert not fake_discord.violations


def test_ask_searches_the_shipped_briefs_as_discord_does() -> None:
    result = briefbot("ask", "/search query:ceasefire")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Search: ceasefire")
    assert "**ceasefire**" in result.stdout
    assert "Ishaq Dar" in result.stdout  # who said it
    assert "2025-07-25" in result.stdout and "/summary brief:us-pakistan-rubio-dar-talks" in (
        result.stdout
    )
    words = briefbot("ask", "/search query:'critical minera*' speaker:bruce")
    assert words.returncode == 0, words.stderr
    assert "**critical minerals**" in words.stdout and "Tammy Bruce" in words.stdout
    assert "Search: critical minera*" in words.stdout and "by Tammy Bruce" in words.stdout
    # Dar never said it: his filter finds nothing rather than someone else's words.
    assert briefbot("ask", "/search query:'critical minera*' speaker:dar").returncode == 1
    broken = briefbot("ask", '/search query:"NEAR( ceasefire"')
    assert broken.returncode == 0 and "Traceback" not in broken.stderr
    assert "**ceasefire**" in broken.stdout  # searched as its plain words
