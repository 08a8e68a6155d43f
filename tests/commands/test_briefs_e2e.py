"""/summary, /quotes, /topic, /briefs, /reload through unmodified discord.py and a fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import respond
from bot.adapters.discord.embeds import render_pages
from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.queries import briefs, quotes, topics
from bot.settings import Settings
from tests.conftest import BRIEF, write_briefs
from tests.fakediscord import FakeDiscord, run_client
from tests.fakediscord.payloads import MANAGE_GUILD, MEMBER_PERMISSIONS, user_payload

EPHEMERAL = 1 << 6


@pytest.fixture
async def bot(briefs_dir: Path, fake_discord: FakeDiscord) -> AsyncIterator[BriefBot]:
    settings = Settings(briefs_dir=briefs_dir, dev_guild_id=fake_discord.guild_id, reload_seconds=0)
    client = BriefBot(settings=settings, library=LiveLibrary(briefs_dir))
    async with run_client(client, fake_discord) as running:
        yield running


def embed(body: dict[str, Any]) -> dict[str, Any]:
    assert body["type"] == 4, body
    embeds = body["data"]["embeds"]
    assert len(embeds) == 1
    return embeds[0]  # type: ignore[no-any-return]


async def test_dev_guild_sync_publishes_every_command(
    bot: BriefBot, fake_discord: FakeDiscord
) -> None:
    synced = {c["name"]: c for c in fake_discord.commands(fake_discord.guild_id)}
    assert set(synced) == {"summary", "quotes", "topic", "briefs", "search", "reload", "about"}
    speaker = synced["quotes"]["options"][0]
    assert speaker["name"] == "speaker" and speaker["required"] and speaker["autocomplete"]
    assert synced["reload"]["default_member_permissions"] == str(MANAGE_GUILD)


async def test_quotes_reply_matches_the_console(bot: BriefBot, fake_discord: FakeDiscord) -> None:
    body = await fake_discord.invoke("quotes", {"speaker": "mayor doe"})
    sent = embed(body)
    expected = render_pages(quotes.quotes(bot.library.current(), "mayor doe"))[0].to_dict()
    assert sent["title"] == expected["title"] == "Quotes by Jane Doe"
    assert sent["fields"] == expected["fields"]
    assert "This budget keeps the buses running" in sent["fields"][0]["value"]
    assert "Speech at the council meeting" in sent["fields"][0]["value"]
    assert body["data"]["allowed_mentions"] == {"parse": []}
    assert not body["data"].get("flags", 0) & EPHEMERAL


async def test_summary_topic_and_briefs(bot: BriefBot, fake_discord: FakeDiscord) -> None:
    library = bot.library.current()
    summary = embed(await fake_discord.invoke("summary"))
    assert summary["title"] == briefs.summary(library).title == "Council approves budget"
    topic = embed(await fake_discord.invoke("topic", {"name": "finance"}))
    assert topic["title"] == topics.topic(library, "finance").title == "Topic: Budget"
    listing = embed(await fake_discord.invoke("briefs"))
    assert listing["title"] == "Briefs (1)"


async def test_unknown_speaker_gets_ephemeral_suggestions(
    bot: BriefBot, fake_discord: FakeDiscord
) -> None:
    body = await fake_discord.invoke("quotes", {"speaker": "Jnae Doe"})
    assert body["data"]["flags"] & EPHEMERAL
    sent = embed(body)
    assert sent["description"] == "No one called 'Jnae Doe' appears in any brief."
    assert {"name": "Suggestions", "value": "Jane Doe", "inline": False} in sent["fields"]


@pytest.mark.parametrize(
    ("command", "option", "typed", "first"),
    [
        ("quotes", "speaker", "do", "Jane Doe"),
        ("quotes", "speaker", "", "Jane Doe"),
        ("topic", "name", "bus", "transport"),
        ("summary", "brief", "coun", "council-budget"),
        ("quotes", "brief", "", "council-budget"),
    ],
)
async def test_autocomplete(
    bot: BriefBot, fake_discord: FakeDiscord, command: str, option: str, typed: str, first: str
) -> None:
    body = await fake_discord.autocomplete(command, {option: typed}, focused=option)
    assert body["type"] == 8
    choices = body["data"]["choices"]
    assert choices[0]["value"] == first
    assert len(choices) <= 25


async def test_hostile_input_pings_nobody(bot: BriefBot, fake_discord: FakeDiscord) -> None:
    hostile = "@everyone <@&123456789012345678> **x** \u202e" + "y" * 3000
    body = await fake_discord.invoke("quotes", {"speaker": hostile})
    assert body["data"]["allowed_mentions"] == {"parse": []}
    text = embed(body)["description"]
    assert "@everyone" not in text and "<@&" not in text and "\u202e" not in text


def big_briefs(tmp_path: Path) -> Path:
    """A briefs directory whose brief `big` has far more key points than one embed holds."""
    many = "\n".join(
        f"  - text: Point {i} " + "word " * 150 + "\n    topics: [budget]" for i in range(30)
    )
    big = BRIEF.replace("id: council-budget", "id: big")
    return write_briefs(
        tmp_path / "b",
        **{"big.yaml": big.replace("key_points:\n", "key_points:\n" + many + "\n", 1)},
    )


async def test_long_reply_is_paged_with_owner_only_buttons(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    root = big_briefs(tmp_path)
    settings = Settings(briefs_dir=root, dev_guild_id=fake_discord.guild_id, reload_seconds=0)
    async with run_client(BriefBot(settings=settings, library=LiveLibrary(root)), fake_discord):
        body = await fake_discord.invoke("summary", {"brief": "big"})
        first = embed(body)
        assert first["footer"]["text"].endswith("Page 1/" + first["footer"]["text"].split("/")[-1])
        buttons = body["data"]["components"][0]["components"]
        assert [b["label"] for b in buttons] == ["Previous", "Next"]
        assert buttons[0]["disabled"] is True
        message = fake_discord.interactions()[-1].original
        assert message is not None
        # Someone else pressing Next is told privately, and the page does not turn.
        intruder = user_payload(999, "intruder")
        other = await fake_discord.click(message, buttons[1]["custom_id"], user=intruder)
        assert other["type"] == 4 and other["data"]["flags"] & EPHEMERAL
        turned = await fake_discord.click(message, buttons[1]["custom_id"])
        assert turned["type"] == 7
        assert "Page 2/" in turned["data"]["embeds"][0]["footer"]["text"]


async def test_reload_needs_manage_server_at_run_time(
    bot: BriefBot, fake_discord: FakeDiscord, briefs_dir: Path
) -> None:
    # A server admin made /reload visible to everyone; the run-time check still refuses.
    body = await fake_discord.invoke(
        "reload", permissions=MEMBER_PERMISSIONS, check_permissions=False
    )
    assert body["data"]["flags"] & EPHEMERAL
    assert body["data"]["content"] == "You need the Manage Server permission to use /reload."
    (briefs_dir / "broken.yaml").write_text("id: broken\ntitle: [x]\n")
    body = await fake_discord.invoke("reload", permissions=MEMBER_PERMISSIONS | MANAGE_GUILD)
    assert body["type"] == 5  # deferred: reading files may take a while
    followup = await fake_discord.wait_for_request(
        lambda r: r.method in {"PATCH", "POST"} and "/webhooks/" in r.path
    )
    sent = followup.json["embeds"][0]
    assert sent["title"] == "Briefs reloaded"
    assert "broken.yaml:2: title" in str(sent["fields"])


async def test_page_buttons_are_disabled_when_they_time_out(
    tmp_path: Path, fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(respond, "PAGER_TIMEOUT", 0.2)
    root = big_briefs(tmp_path)
    settings = Settings(briefs_dir=root, dev_guild_id=fake_discord.guild_id, reload_seconds=0)
    async with run_client(BriefBot(settings=settings, library=LiveLibrary(root)), fake_discord):
        short = await fake_discord.invoke("summary", {"brief": "council-budget"})
        assert not short["data"].get("components")  # one page: no buttons
        await fake_discord.invoke("summary", {"brief": "big"})
        edit = await fake_discord.wait_for_request(
            lambda r: r.method == "PATCH" and r.path.endswith("/messages/@original"), timeout=5
        )
    buttons = edit.json["components"][0]["components"]
    assert [b["disabled"] for b in buttons] == [True, True]


async def test_search_through_discord_bolds_the_match_and_pings_nobody(
    bot: BriefBot, fake_discord: FakeDiscord
) -> None:
    body = await fake_discord.invoke("search", {"query": "librar*"})
    sent = embed(body)
    assert sent["title"] == "Search: librar\\*"  # escaped: it is what the user typed
    assert "**libraries**" in sent["fields"][0]["value"]
    assert "Jane Doe" in sent["fields"][0]["value"]
    assert body["data"]["allowed_mentions"] == {"parse": []}
    bad = await fake_discord.invoke("search", {"query": '"budget'})
    assert "**budget**" in embed(bad)["fields"][0]["value"]
    choices = await fake_discord.autocomplete(
        "search", {"query": "x", "speaker": "jan"}, focused="speaker"
    )
    assert [c["value"] for c in choices["data"]["choices"]] == ["Jane Doe"]
