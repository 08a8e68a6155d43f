"""The Discord bot around the commands: failures answered privately, the invite link, startup logs.

Missing permissions at run time, and which commands are synced, are tested end to end in
tests/commands/test_briefs_e2e.py and tests/commands/test_digest_e2e.py.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest
from discord import app_commands

from bot.app import BriefBot, invite_url, load_briefs
from bot.briefs.reloader import LiveLibrary
from bot.settings import Settings
from tests.conftest import REPO
from tests.fakediscord import FakeDiscord, run_client

EPHEMERAL = 1 << 6


@app_commands.command(name="boom", description="Fails before answering")
async def boom(interaction: discord.Interaction) -> None:
    """Raise at once."""
    raise RuntimeError("kaboom")


@app_commands.command(name="boom-later", description="Fails after deferring")
async def boom_later(interaction: discord.Interaction) -> None:
    """Think, then raise."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    raise RuntimeError("kaboom")


@app_commands.command(name="denied", description="A check refuses it")
@app_commands.check(lambda interaction: False)
async def denied(interaction: discord.Interaction) -> None:
    """Never runs."""
    raise AssertionError("the check must stop this")


@pytest.mark.parametrize(
    ("command", "message", "logged"),
    [
        ("boom", "Something went wrong running /boom. It has been logged; please try again.", True),
        (
            "boom-later",
            "Something went wrong running /boom-later. It has been logged; please try again.",
            True,
        ),
        ("denied", "You cannot use /denied here.", False),
    ],
)
async def test_a_failing_command_gets_a_private_answer(
    briefs_dir: Path,
    fake_discord: FakeDiscord,
    caplog: pytest.LogCaptureFixture,
    command: str,
    message: str,
    logged: bool,
) -> None:
    settings = Settings(briefs_dir=briefs_dir, reload_seconds=0)
    bot = BriefBot(settings=settings, library=LiveLibrary(briefs_dir), extensions=())
    async with run_client(bot, fake_discord):
        for extra in (boom, boom_later, denied):
            bot.tree.add_command(extra)
        await bot.tree.sync()
        body = await fake_discord.invoke(command)
        # Private from the start: the answer itself, or the "thinking…" it replaces.
        assert body["data"]["flags"] & EPHEMERAL
        if body["type"] == 5:  # deferred: the answer replaces "thinking…"
            request = await fake_discord.wait_for_request(
                lambda r: r.method in {"POST", "PATCH"} and "/webhooks/" in r.path
            )
            assert request.path.endswith("/messages/@original")
            data = request.json
        else:
            data = body["data"]
    assert data["content"] == message
    assert not fake_discord.warnings
    assert data["allowed_mentions"] == {"parse": []}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "bot.app"]
    if logged:
        (record,) = errors
        assert record.getMessage() == f"error in /{command}"
        assert record.exc_info is not None and "kaboom" in str(record.exc_info[1])
    else:
        assert errors == []


def test_invite_link_asks_for_the_bot_and_its_commands_and_the_digest_permissions() -> None:
    url = urlsplit(invite_url(123456789012345678))
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    query = parse_qs(url.query)
    assert query["client_id"] == ["123456789012345678"]
    assert sorted(query["scope"][0].split()) == ["applications.commands", "bot"]
    granted = discord.Permissions(int(query["permissions"][0]))
    # The README's list: what a digest needs in a text channel, thread, forum or announcement
    # channel, and nothing more.
    assert granted == discord.Permissions(
        view_channel=True,
        send_messages=True,
        embed_links=True,
        send_messages_in_threads=True,
        read_message_history=True,
    )


def test_startup_logs_each_broken_brief_and_still_loads_the_rest(
    briefs_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (briefs_dir / "broken.yaml").write_text("id: broken\ntitle: [unclosed\n", encoding="utf-8")
    caplog.set_level(logging.INFO, logger="bot.app")
    live = load_briefs(Settings(briefs_dir=briefs_dir, data_dir=briefs_dir.parent / "data"))
    assert [b.id for b in live.current().briefs] == ["council-budget"]
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
    assert logged[0].startswith(f"brief error: {briefs_dir / 'broken.yaml'}:3: (file): YAML")
    assert logged[-1] == f"1 briefs loaded from {briefs_dir}"


@pytest.mark.parametrize("command", ["run", "sync"])
def test_discord_out_of_reach_is_one_line_not_a_traceback(tmp_path: Path, command: str) -> None:
    """No network or a firewall: the operator reads why it stopped, in one line, exit 1."""
    with socket.socket() as probe:  # a port nothing listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "DISCORD_"))},
        "PYTHONPATH": str(REPO),
        "BOTPROC_BASE_URL": f"http://127.0.0.1:{port}/api/v10",
        "BOTPROC_GATEWAY_URL": f"ws://127.0.0.1:{port}/",
        "DISCORD_TOKEN": "fake-token",
        "BRIEFBOT_DATABASE": str(tmp_path / "data" / "briefbot.sqlite3"),
        "BRIEFBOT_BRIEFS_DIR": str(REPO / "briefs"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.robustness.runcli", command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"briefbot: cannot reach Discord (127.0.0.1:{port}: " in result.stderr
