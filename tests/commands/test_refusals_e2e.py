"""Refusals a member reads: private, in Discord's own words, naming what would let them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.settings import Settings
from bot.store.sqlite import Store
from tests.conftest import BRIEFS
from tests.fakediscord import FakeDiscord, run_client
from tests.fakediscord.payloads import MEMBER_PERMISSIONS

EPHEMERAL = 1 << 6


@pytest.fixture
def editor(fake_discord: FakeDiscord) -> tuple[int, int]:
    """The editor role's id and a member who holds it (no permissions beyond a member's)."""
    role = fake_discord.add_role("editors")
    return role.id, fake_discord.add_member("ed", [role]).id


@pytest.fixture
async def bot(
    tmp_path: Path, fake_discord: FakeDiscord, editor: tuple[int, int]
) -> AsyncIterator[BriefBot]:
    settings = Settings(
        briefs_dir=BRIEFS,
        dev_guild_id=fake_discord.guild_id,
        reload_seconds=0,
        database=tmp_path / "db.sqlite3",
        editor_role_id=editor[0],
    )
    async with await Store.open(settings.database) as store:
        client = BriefBot(settings=settings, library=LiveLibrary(Path(BRIEFS)), store=store)
        async with run_client(client, fake_discord) as running:
            yield running


def refusal(body: dict[str, Any]) -> str:
    assert body["type"] == 4
    assert body["data"]["flags"] & EPHEMERAL
    assert body["data"]["allowed_mentions"] == {"parse": []}
    return str(body["data"]["content"])


async def test_permission_is_named_as_discord_shows_it(
    bot: BriefBot, fake_discord: FakeDiscord
) -> None:
    # Discord's settings say "Manage Server"; discord.py's attribute is manage_guild.
    body = await fake_discord.invoke(
        "reload", permissions=MEMBER_PERMISSIONS, check_permissions=False
    )
    assert refusal(body) == "You need the Manage Server permission to use /reload."


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("feeds add", {"url": "https://example.org/feed.xml"}),
        ("feeds list", {}),
        ("feeds remove", {"url": "https://example.org/feed.xml"}),
        ("feeds status", {}),
    ],
)
async def test_feeds_refusal_says_who_may(
    bot: BriefBot,
    fake_discord: FakeDiscord,
    editor: tuple[int, int],
    command: str,
    options: dict[str, str],
) -> None:
    body = await fake_discord.invoke(
        command, options, permissions=MEMBER_PERMISSIONS, check_permissions=False
    )
    # The role is named as a mention: members see its name; allowed_mentions pings nobody.
    assert refusal(body) == (
        f"You need the Manage Server permission or the editor role <@&{editor[0]}> "
        f"to use /{command}."
    )


async def test_brief_drafts_refusal_names_the_editor_role(
    bot: BriefBot, fake_discord: FakeDiscord, editor: tuple[int, int]
) -> None:
    body = await fake_discord.invoke("brief drafts", permissions=MEMBER_PERMISSIONS)
    assert body["data"]["flags"] & EPHEMERAL
    answer = await edited_answer(fake_discord)
    shown = str(answer["embeds"])
    assert f"the editor role <@&{editor[0]}> to draft, review or publish briefs" in shown
    assert answer["allowed_mentions"] == {"parse": []}


async def test_refusals_without_an_editor_role_say_how_an_admin_sets_one(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    settings = Settings(
        briefs_dir=BRIEFS,
        dev_guild_id=fake_discord.guild_id,
        reload_seconds=0,
        database=tmp_path / "db.sqlite3",
    )
    async with await Store.open(settings.database) as store:
        client = BriefBot(settings=settings, library=LiveLibrary(Path(BRIEFS)), store=store)
        async with run_client(client, fake_discord):
            await fake_discord.invoke("brief drafts", permissions=MEMBER_PERMISSIONS)
            # As Discord shows it: the markdown escape of "_" is not seen.
            answer = await edited_answer(fake_discord)
            shown = answer["embeds"][0]["description"].replace("\\_", "_")
            assert "this server has no editor role yet" in shown
            assert "/brief settings editor_role:@Role" in shown
            body = await fake_discord.invoke(
                "feeds list", permissions=MEMBER_PERMISSIONS, check_permissions=False
            )
            assert refusal(body) == (
                "You need the Manage Server permission to use /feeds list: this server has no "
                "editor role yet. Someone with Manage Server can name one with "
                "/brief settings editor_role:@Role."
            )


async def edited_answer(fake: FakeDiscord) -> dict[str, Any]:
    """The bot's edit of its deferred "thinking…" answer to the latest interaction."""
    token = fake.interactions()[-1].token
    request = await fake.wait_for_request(
        lambda r: token in r.path and r.method == "PATCH" and r.path.startswith("/webhooks"), 10
    )
    return dict(request.json or {})


async def test_a_member_with_the_editor_role_is_not_refused(
    bot: BriefBot, fake_discord: FakeDiscord, editor: tuple[int, int]
) -> None:
    body = await fake_discord.invoke("feeds list", member=editor[1], check_permissions=False)
    assert body["type"] == 4
    assert "need" not in str(body["data"].get("content", ""))
