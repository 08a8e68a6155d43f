"""`briefbot doctor` against the fake Discord: a checklist naming what is wrong and its fix."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import discord

from bot import limits
from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.clock import Zone
from bot.doctor import Check, _Doctor, channel_permissions, diagnose, render
from bot.settings import Settings
from bot.store.sqlite import Store, read_schema_version
from tests.conftest import REPO
from tests.fakediscord import FakeDiscord, patched_endpoints, run_client
from tests.store.test_sqlite import make_version_1_database


def settings(tmp_path: Path, briefs: Path, fake: FakeDiscord) -> Settings:
    return Settings(
        token="fake-token",
        dev_guild_id=fake.guild_id,
        briefs_dir=briefs,
        database=tmp_path / "data" / "briefbot.sqlite3",
        data_dir=tmp_path / "data",  # the index too: never the repository's data/
        reload_seconds=0,
    )


async def subscribe(db: Path, guild_id: int, *channels: int) -> None:
    async with await Store.open(db) as store:
        for channel in channels:
            await store.upsert_subscription(
                guild_id=guild_id,
                channel_id=channel,
                local_time=dt.time(8, 30),
                timezone=Zone.named("UTC"),
                created_by=1,
            )


async def sync_commands(config: Settings, fake: FakeDiscord) -> None:
    """Run the bot once: it syncs its commands to the dev guild at start."""
    async with await Store.open(config.database) as store:
        bot = BriefBot(settings=config, library=LiveLibrary(config.briefs_dir), store=store)
        async with run_client(bot, fake):
            pass


async def checklist(config: Settings, fake: FakeDiscord) -> dict[str, list[Check]]:
    with patched_endpoints(fake):
        checks = await diagnose(config)
    found: dict[str, list[Check]] = {}
    for check in checks:
        found.setdefault(check.name, []).append(check)
    return found


async def test_a_healthy_setup_passes_every_check(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    config = settings(tmp_path, briefs_dir, fake_discord)
    await subscribe(config.database, fake_discord.guild_id, fake_discord.channel_id)
    await sync_commands(config, fake_discord)
    found = await checklist(config, fake_discord)
    assert list(found) == ["database", "token", "commands", "permissions", "briefs", "watcher"]
    assert "off (BRIEFBOT_RELOAD_SECONDS=0)" in found["watcher"][0].detail
    assert all(c.ok for checks in found.values() for c in checks), found
    assert fake_discord.requests("GET", path_contains="/users/@me")
    assert "All checks passed." in render([c for cs in found.values() for c in cs])


async def test_a_channel_without_embed_links_is_named_with_the_fix(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    denied = fake_discord.add_channel(
        "no-embeds", bot_denied=discord.Permissions(embed_links=True)
    ).id
    config = settings(tmp_path, briefs_dir, fake_discord)
    await subscribe(config.database, fake_discord.guild_id, fake_discord.channel_id, denied)
    await sync_commands(config, fake_discord)
    found = await checklist(config, fake_discord)
    (problem,) = found["permissions"]
    assert not problem.ok
    assert problem.detail == f"#no-embeds ({denied}) lacks Embed Links"
    assert "give the bot Embed Links in #no-embeds" in problem.fix
    assert "/digest resume" in problem.fix
    # Everything else is fine: only the channel is reported.
    assert all(c.ok for name, cs in found.items() if name != "permissions" for c in cs)


async def test_commands_never_synced_are_listed_with_the_fix(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    config = settings(tmp_path, briefs_dir, fake_discord)
    found = await checklist(config, fake_discord)
    (commands,) = found["commands"]
    assert not commands.ok
    assert commands.detail.startswith(f"commands the dev guild {fake_discord.guild_id}: ")
    assert "not registered: " in commands.detail and "/about" in commands.detail
    assert "restart briefbot run" in commands.fix
    # The doctor looked, and registered nothing itself.
    assert fake_discord.commands(fake_discord.guild_id) == []


async def test_a_rejected_token_is_a_failed_check_not_a_crash(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    fake_discord.fail_next("GET", r"^/users/@me$", 401)
    config = settings(tmp_path, briefs_dir, fake_discord)
    found = await checklist(config, fake_discord)
    (token,) = found["token"]
    assert not token.ok and "rejected the token" in token.detail
    assert "Reset Token" in token.fix
    assert "commands" not in found  # nothing more can be asked of Discord
    assert found["briefs"][0].ok and found["database"][0].ok


async def test_an_old_database_and_broken_briefs_fail_with_their_fixes(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    (briefs_dir / "broken.yaml").write_text("id: broken\ntitle: [x]\n")
    config = settings(tmp_path, briefs_dir, fake_discord)
    make_version_1_database(config.database)
    found = await checklist(config, fake_discord)
    (database,) = found["database"]
    assert not database.ok and "schema version 1" in database.detail
    assert "migrates" in database.fix
    (briefs,) = found["briefs"]
    assert not briefs.ok and "broken.yaml" in briefs.detail
    assert f"briefbot check {briefs_dir}" in briefs.fix
    # The doctor only looked: the database was not migrated behind the operator's back.
    assert await read_schema_version(config.database) == 1


def test_permissions_follow_discords_overwrite_order() -> None:
    guild, role, me = 1, 2, 3
    roles = {guild: limits.VIEW_CHANNEL | limits.SEND_MESSAGES, role: limits.EMBED_LINKS}
    base = channel_permissions(
        guild_id=guild, owner_id=9, user_id=me, roles=roles, member_roles=[role], overwrites=[]
    )
    assert limits.missing_permissions("text", base) == []
    # @everyone denies Send Messages, the bot's role allows it back, the member denies Embed.
    overwrites = [
        {"id": str(guild), "type": 0, "allow": "0", "deny": str(limits.SEND_MESSAGES)},
        {"id": str(role), "type": 0, "allow": str(limits.SEND_MESSAGES), "deny": "0"},
        {"id": str(me), "type": 1, "allow": "0", "deny": str(limits.EMBED_LINKS)},
    ]
    granted = channel_permissions(
        guild_id=guild,
        owner_id=9,
        user_id=me,
        roles=roles,
        member_roles=[role],
        overwrites=overwrites,
    )
    assert limits.missing_permissions("text", granted) == ["Embed Links"]
    admin = {**roles, role: limits.ADMINISTRATOR}
    assert (
        limits.missing_permissions(
            "text",
            channel_permissions(
                guild_id=guild,
                owner_id=9,
                user_id=me,
                roles=admin,
                member_roles=[role],
                overwrites=overwrites,
            ),
        )
        == []
    )


async def test_briefbot_doctor_prints_the_checklist_and_exits_1(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    denied = fake_discord.add_channel(
        "no-embeds", bot_denied=discord.Permissions(embed_links=True)
    ).id
    db = tmp_path / "data" / "briefbot.sqlite3"
    await subscribe(db, fake_discord.guild_id, denied)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "DISCORD_"))},
        "PYTHONPATH": str(REPO),
        "BOTPROC_BASE_URL": fake_discord.base_url,
        "BOTPROC_GATEWAY_URL": fake_discord.gateway_url,
        "DISCORD_TOKEN": "fake-token",
        "BRIEFBOT_DATABASE": str(db),
        "BRIEFBOT_BRIEFS_DIR": str(briefs_dir),
        "BRIEFBOT_DEV_GUILD_ID": str(fake_discord.guild_id),
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tests.robustness.runcli", "doctor"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert out.startswith("briefbot doctor\n")
    assert "  [ok] token: logged in as" in out
    assert f"  [FAIL] permissions: #no-embeds ({denied}) lacks Embed Links\n" in out
    assert "         fix: give the bot Embed Links in #no-embeds" in out
    assert out.rstrip().endswith("problem(s) found.")


def test_the_watcher_check_says_how_edits_go_live(tmp_path: Path, briefs_dir: Path) -> None:
    doctor = _Doctor(Settings(briefs_dir=briefs_dir, data_dir=tmp_path, reload_seconds=5))
    doctor.watcher()
    (check,) = doctor.checks
    assert check.ok and f"edits to {briefs_dir} go live at once: file events" in check.detail


async def test_a_channel_discord_cannot_answer_for_is_one_failed_line(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    other = fake_discord.add_channel("flaky").id
    config = settings(tmp_path, briefs_dir, fake_discord)
    await subscribe(config.database, fake_discord.guild_id, fake_discord.channel_id, other)
    await sync_commands(config, fake_discord)
    fake_discord.fail_next("GET", rf"^/channels/{other}$", 503)
    found = await checklist(config, fake_discord)
    (problem,) = found["permissions"]
    assert not problem.ok
    assert problem.detail == f"channel {other}: not checked (Discord answered 503)"
    assert "run briefbot doctor again" in problem.fix
    # The other channel was still checked, and the checks after it still ran.
    assert list(found) == ["database", "token", "commands", "permissions", "briefs", "watcher"]
