"""Metrics, readiness and logs of a real BriefBot run against the fake Discord."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import discord
import pytest
from discord import app_commands
from prometheus_client.parser import text_string_to_metric_families

from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.ops.logs import REDACTED, configure_logging
from bot.settings import Settings
from bot.store.sqlite import Store
from tests.fakediscord import FakeDiscord, patched_endpoints, run_client
from tests.fakediscord.payloads import MANAGE_GUILD, MEMBER_PERMISSIONS

# Shaped like a real bot token (id . timestamp . hmac); not one.
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


@app_commands.command(name="boom", description="Fails, quoting the token in its error")
async def boom(interaction: discord.Interaction) -> None:
    """Raise with the token in the message, as a careless library might."""
    raise RuntimeError(f"request failed: Authorization: Bot {TOKEN}")


def settings(briefs_dir: Path, fake: FakeDiscord) -> Settings:
    return Settings(
        briefs_dir=briefs_dir,
        dev_guild_id=fake.guild_id,
        reload_seconds=0,
        metrics_addr=("127.0.0.1", 0),
    )


async def get(bot: BriefBot, path: str) -> tuple[int, str]:
    assert bot.ops is not None
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
        session.get(f"http://127.0.0.1:{bot.ops.port}{path}") as response,
    ):
        return response.status, await response.text()


async def settled() -> None:
    """Wait (bounded) until discord.py has finished every command it was running."""
    async with asyncio.timeout(5):
        while running := [
            t for t in asyncio.all_tasks() if t.get_name() == "CommandTree-invoker" and not t.done()
        ]:
            await asyncio.wait(running)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def test_scraped_counters_match_what_discord_saw(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    (briefs_dir / "broken.yaml").write_text("id: broken\ntitle: [x]\n")
    bot = BriefBot(settings=settings(briefs_dir, fake_discord), library=LiveLibrary(briefs_dir))
    async with run_client(bot, fake_discord):
        bot.tree.add_command(boom, guild=discord.Object(fake_discord.guild_id))
        await bot.tree.sync(guild=discord.Object(fake_discord.guild_id))
        await fake_discord.invoke("quotes", {"speaker": "mayor doe"})
        await fake_discord.invoke("quotes", {"speaker": "Jnae Doe"})
        await fake_discord.invoke("summary")
        await fake_discord.invoke("boom")
        await fake_discord.invoke("reload", permissions=MEMBER_PERMISSIONS, check_permissions=False)
        await fake_discord.autocomplete("quotes", {"speaker": "do"}, focused="speaker")
        await fake_discord.autocomplete("topic", {"name": "bu"}, focused="name")
        await fake_discord.autocomplete("topic", {"name": "bus"}, focused="name")
        await settled()
        status, text = await get(bot, "/metrics")
        latency = bot.latency
    assert status == 200
    scraped = samples(text)
    seen = Counter((i.payload["data"]["name"], i.type) for i in fake_discord.interactions())
    assert seen[("quotes", 2)] == 2
    # Every command Discord delivered is counted once, under the outcome the user saw.
    assert value(scraped, "briefbot_commands_total", command="quotes", outcome="ok") == 2
    assert value(scraped, "briefbot_commands_total", command="summary", outcome="ok") == 1
    assert value(scraped, "briefbot_commands_total", command="boom", outcome="error") == 1
    assert value(scraped, "briefbot_commands_total", command="reload", outcome="denied") == 1
    counted = sum(v for (name, _), v in scraped.items() if name == "briefbot_commands_total")
    assert counted == sum(n for (_, kind), n in seen.items() if kind == 2) == 5
    assert value(scraped, "briefbot_command_latency_seconds_count", command="quotes") == 2
    assert (
        value(
            scraped, "briefbot_autocomplete_latency_seconds_count", command="topic", option="name"
        )
        == seen[("topic", 4)]
        == 2
    )
    assert (
        value(
            scraped,
            "briefbot_autocomplete_latency_seconds_count",
            command="quotes",
            option="speaker",
        )
        == 1
    )
    assert value(scraped, "briefbot_briefs_loaded") == 1
    assert value(scraped, "briefbot_briefs_broken") == len(bot.library.current().errors) > 0
    gateway = value(scraped, "briefbot_gateway_latency_seconds")
    assert gateway == pytest.approx(latency, abs=0.5) and gateway >= 0


async def test_readyz_is_503_until_the_gateway_is_up_then_200(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        bot = BriefBot(
            settings=settings(briefs_dir, fake_discord),
            library=LiveLibrary(briefs_dir),
            store=store,
        )
        bot._connection.guild_ready_timeout = 0.1
        connecting: asyncio.Task[None] | None = None
        with patched_endpoints(fake_discord):
            try:
                await bot.login("fake-token")  # runs setup_hook: the ops server is up
                status, text = await get(bot, "/readyz")
                assert status == 503
                body = json.loads(text)
                assert body["failed"] == ["gateway"]
                assert body["checks"] == {
                    "gateway": "not connected yet",
                    "briefs": "ok",
                    "database": "ok",
                }
                assert (await get(bot, "/healthz"))[0] == 200
                connecting = asyncio.create_task(bot.connect())
                async with asyncio.timeout(10):
                    await bot.wait_until_ready()
                status, text = await get(bot, "/readyz")
                assert (status, json.loads(text)["status"]) == (200, "ready")
            finally:
                await bot.close()
                if connecting is not None:
                    await asyncio.wait_for(asyncio.gather(connecting, return_exceptions=True), 5)
        assert bot.ops is not None and bot.ops._runner is None  # stopped with the bot


async def test_readyz_says_why_no_briefs_loaded(tmp_path: Path, fake_discord: FakeDiscord) -> None:
    empty = tmp_path / "empty"
    bot = BriefBot(settings=settings(empty, fake_discord), library=LiveLibrary(empty))
    async with run_client(bot, fake_discord):
        status, text = await get(bot, "/readyz")
    assert status == 503
    assert json.loads(text)["checks"]["briefs"] == (
        f"no briefs loaded: {empty}: (file): briefs directory does not exist"
    )


@pytest.fixture
def debug_log(restore_logging: None) -> Iterator[io.StringIO]:
    del restore_logging
    output = io.StringIO()
    configure_logging("DEBUG", "json", secrets=[TOKEN], stream=output)
    yield output


async def test_the_token_never_reaches_the_logs(
    briefs_dir: Path, fake_discord: FakeDiscord, debug_log: io.StringIO
) -> None:
    bot = BriefBot(settings=settings(briefs_dir, fake_discord), library=LiveLibrary(briefs_dir))
    async with run_client(bot, fake_discord, token=TOKEN):
        bot.tree.add_command(boom, guild=discord.Object(fake_discord.guild_id))
        await bot.tree.sync(guild=discord.Object(fake_discord.guild_id))
        await fake_discord.invoke("quotes", {"speaker": "mayor doe"})
        await fake_discord.invoke("boom")
        await fake_discord.invoke("reload", permissions=MANAGE_GUILD)
        await settled()
    records = [json.loads(line) for line in debug_log.getvalue().splitlines()]
    assert TOKEN not in debug_log.getvalue()
    # The run was really logged at DEBUG, by discord.py and by the bot...
    loggers = {r["logger"] for r in records}
    assert {"discord.client", "discord.gateway", "discord.http", "bot.app"} <= loggers
    (answered,) = [r for r in records if r.get("command") == "quotes"]
    assert answered["outcome"] == "ok" and answered["latency_ms"] >= 0
    # ...and the failing command's traceback was kept, with the token cut out of it.
    (failure,) = [r for r in records if r["event"] == "error in /boom"]
    assert f"Authorization: Bot {REDACTED}" in failure["exception"]
    assert logging.getLevelName(failure["level"]) == logging.ERROR
