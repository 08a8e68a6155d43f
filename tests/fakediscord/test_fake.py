"""End-to-end tests of the fake Discord with a small real commands.Bot and unmodified discord.py."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route, handle_message_parameters

from tests.fakediscord import CommandNotVisible, FakeDiscord, RateLimits, run_client
from tests.fakediscord.fixtures import require_spec
from tests.fakediscord.payloads import MANAGE_GUILD, MEMBER_PERMISSIONS
from tests.fakediscord.spec import default_spec_path

TOPICS = ["markets", "maritime", "weather", "elections"]


@app_commands.command(name="echo", description="Repeat some text")
@app_commands.describe(text="What to repeat", times="How many times")
async def echo(
    interaction: discord.Interaction, text: str, times: app_commands.Range[int, 1, 3] = 1
) -> None:
    """Answer with the text, repeated."""
    await interaction.response.send_message(" ".join([text] * times))


@app_commands.command(name="pick", description="Pick a topic")
async def pick(interaction: discord.Interaction, topic: str) -> None:
    """Answer with an embed naming the topic."""
    await interaction.response.send_message(embed=discord.Embed(title=topic, description="ok"))


@pick.autocomplete("topic")
async def pick_topic(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Topics containing what the user typed."""
    return [app_commands.Choice(name=t.title(), value=t) for t in TOPICS if current in t]


admin = app_commands.Group(
    name="admin",
    description="Administration",
    default_permissions=discord.Permissions(manage_guild=True),
)


@admin.command(name="reload", description="Reload everything")
async def reload(interaction: discord.Interaction) -> None:
    """Defer privately, then edit the deferred response."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    await interaction.edit_original_response(content="reloaded 3 briefs")


@app_commands.command(name="report", description="A long report in parts")
async def report(interaction: discord.Interaction) -> None:
    """Defer, then answer with followups and edit one of them."""
    await interaction.response.defer(thinking=True)
    await interaction.followup.send("part 1")  # edits the loading message (deprecated path)
    part2 = await interaction.followup.send("part 2", ephemeral=True, wait=True)
    await part2.edit(content="part 2 (edited)")


class DemoBot(commands.Bot):
    """A minimal bot: guilds intent only, a few app commands."""

    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(command_prefix=commands.when_mentioned, intents=intents)

    async def setup_hook(self) -> None:
        """Register the app commands (syncing is up to the test)."""
        self.tree.add_command(echo)
        self.tree.add_command(pick)
        self.tree.add_command(admin)
        self.tree.add_command(report)


@pytest.fixture
async def bot(fake_discord: FakeDiscord) -> AsyncIterator[DemoBot]:
    """A ready DemoBot connected to the fake, closed after the test."""
    async with run_client(DemoBot(), fake_discord) as client:
        yield client


async def synced(bot: DemoBot, fake: FakeDiscord) -> list[app_commands.AppCommand]:
    """Sync the tree to the fake's guild (as the real bot does with a dev guild)."""
    guild = discord.Object(fake.guild_id)
    bot.tree.copy_global_to(guild=guild)
    return await bot.tree.sync(guild=guild)


async def test_login_identify_and_ready(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    assert bot.is_ready()
    assert bot.user is not None and bot.user.id == fake_discord.application_id
    assert bot.application_id == fake_discord.application_id
    guild = bot.get_guild(fake_discord.guild_id)
    assert guild is not None and guild.get_channel(fake_discord.channel_id) is not None
    assert guild.default_role.id == guild.id
    identify = next(f for f in fake_discord.gateway_received if f["op"] == 2)
    assert identify["d"]["intents"] == discord.Intents(guilds=True).value
    assert any(f["op"] == 1 for f in fake_discord.gateway_received)  # heartbeat, ACKed
    assert [r.path for r in fake_discord.requests("GET")] == [
        "/users/@me",
        "/oauth2/applications/@me",
    ]


async def test_run_client_restores_patches(fake_discord: FakeDiscord) -> None:
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    client = DemoBot()
    async with run_client(client, fake_discord):
        assert fake_discord.base_url == Route.BASE
    assert client.is_closed()
    assert (base, gateway) == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)


async def test_bad_token_fails_fast() -> None:
    async with FakeDiscord(token="right") as fake:
        with pytest.raises(discord.LoginFailure):
            async with run_client(DemoBot(), fake, token="wrong"):
                pass


async def test_json_content_type_is_exact(fake_discord: FakeDiscord) -> None:
    headers = {"Authorization": "Bot fake-token"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake_discord.base_url}/users/@me", headers=headers) as response,
    ):
        assert response.headers["Content-Type"] == "application/json"
        assert (await response.json())["mfa_enabled"] is False


async def test_tree_sync_is_stored_and_valid(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    commands_ = await synced(bot, fake_discord)
    assert sorted(c.name for c in commands_) == ["admin", "echo", "pick", "report"]
    assert all(c.id for c in commands_)
    stored = {c["name"]: c for c in fake_discord.commands(fake_discord.guild_id)}
    assert stored["admin"]["default_member_permissions"] == str(MANAGE_GUILD)
    (put,) = fake_discord.requests("PUT", "/commands")
    assert put.route == "/applications/{application_id}/guilds/{guild_id}/commands"
    assert put.violations == []
    if fake_discord.spec_active:
        assert fake_discord.validator is not None
        assert fake_discord.validator.route_for("PUT", put.path) == put.route

    again = await synced(bot, fake_discord)
    assert {c.name: c.id for c in again} == {c.name: c.id for c in commands_}


async def test_slash_command_callback(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    await synced(bot, fake_discord)
    body = await fake_discord.invoke("echo", {"text": "hi", "times": 2})
    assert body["type"] == 4
    assert body["data"]["content"] == "hi hi"
    (interaction,) = fake_discord.interactions()
    assert interaction.original is not None and interaction.original["content"] == "hi hi"
    callback = fake_discord.requests("POST", "/callback")[0]
    assert callback.query == {"with_response": "1"}


async def test_autocomplete_callback(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    await synced(bot, fake_discord)
    body = await fake_discord.autocomplete("pick", {"topic": "mar"})
    assert body == {
        "type": 8,
        "data": {
            "choices": [
                {"name": "Markets", "value": "markets"},
                {"name": "Maritime", "value": "maritime"},
            ]
        },
    }
    picked = await fake_discord.invoke("pick", {"topic": "weather"})
    assert picked["data"]["embeds"][0]["title"] == "weather"


async def test_subcommand_permissions_and_deferred_edit(
    bot: DemoBot, fake_discord: FakeDiscord
) -> None:
    await synced(bot, fake_discord)
    with pytest.raises(CommandNotVisible):
        fake_discord.interaction("admin reload")
    body = await fake_discord.invoke("admin reload", permissions=MEMBER_PERMISSIONS | MANAGE_GUILD)
    assert body == {"type": 5, "data": {"flags": 64}}
    edit = await fake_discord.wait_for_request(lambda r: r.path.endswith("/@original"))
    assert edit.method == "PATCH" and edit.status == 200
    original = fake_discord.interactions()[-1].original
    assert original is not None
    assert original["content"] == "reloaded 3 briefs"
    assert original["flags"] == 64  # ephemeral, no longer loading


async def test_send_survives_one_429(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    channel = bot.get_channel(fake_discord.channel_id)
    assert isinstance(channel, discord.TextChannel)
    rule = fake_discord.fail_next("POST", r"^/channels/\d+/messages$", 429)
    sent = await channel.send("hello")
    assert rule.hits == 1
    assert len(fake_discord.requests("POST", "/messages")) == 2
    messages = fake_discord.messages(fake_discord.channel_id)
    assert len(messages) == 1
    assert messages[0]["id"] == str(sent.id)


async def test_send_survives_one_500(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    channel = bot.get_channel(fake_discord.channel_id)
    assert isinstance(channel, discord.TextChannel)
    fake_discord.fail_next("POST", r"^/channels/\d+/messages$", 500)
    await channel.send("hello")  # discord.py sleeps 1 s before retrying a 500
    assert len(fake_discord.messages(fake_discord.channel_id)) == 1


async def test_nonce_dedupes_resends(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    channel = bot.get_channel(fake_discord.channel_id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("digest", nonce="digest-2026-03-05")
    second = await channel.send("digest", nonce="digest-2026-03-05")
    other = await channel.send("digest", nonce="digest-2026-03-06")
    assert first.id == second.id != other.id
    assert len(fake_discord.messages(fake_discord.channel_id)) == 2
    assert len(fake_discord.deduplicated()) == 1


async def test_unknown_and_forbidden_channels(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    channel = bot.get_channel(fake_discord.channel_id)
    assert isinstance(channel, discord.TextChannel)
    fake_discord.unknown_channels.add(channel.id)
    with pytest.raises(discord.NotFound) as missing:
        await channel.send("x")
    assert missing.value.code == 10003
    fake_discord.unknown_channels.clear()
    fake_discord.forbidden_channels.add(channel.id)
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.send("x")
    assert forbidden.value.code == 50001


async def test_oversized_content_is_a_violation(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    require_spec()
    params = handle_message_parameters(content="x" * 2001)
    await bot.http.send_message(fake_discord.channel_id, params=params)
    violations = fake_discord.take_violations()
    assert [(v.source, v.rule) for v in violations] == [("docs", "content-length")]


async def test_gateway_resume_replays_and_continues(
    bot: DemoBot, fake_discord: FakeDiscord
) -> None:
    await synced(bot, fake_discord)
    resumed = asyncio.ensure_future(bot.wait_for("resumed", timeout=5))
    await fake_discord.request_reconnect()
    await resumed
    resume = [f for f in fake_discord.gateway_received if f["op"] == 6]
    assert len(resume) == 1 and fake_discord.identifies == 1
    assert (await fake_discord.invoke("echo", {"text": "still here"}))["type"] == 4


async def test_rate_limit_mode_paces_the_bot(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    channel = bot.get_channel(fake_discord.channel_id)
    assert isinstance(channel, discord.TextChannel)
    limiter = fake_discord.enable_rate_limits(
        RateLimits(routes={"POST /channels/{channel_id}/messages": (2, 0.2)})
    )
    await asyncio.gather(*(channel.send(f"m{i}") for i in range(5)))
    assert len(fake_discord.messages(fake_discord.channel_id)) == 5
    assert limiter.hits == 0  # discord.py read the X-RateLimit-* headers and waited
    arrivals = [r.at for r in fake_discord.requests("POST", "/messages") if r.status == 200]
    # Two per 0.2 s window: the fifth message cannot go out before the third window opens.
    assert arrivals[-1] - arrivals[0] >= 0.39


class Buttons(discord.ui.View):
    """A view with a link button and a regular button."""

    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.add_item(discord.ui.Button(label="Source", url="https://example.org/brief"))
        self.add_item(discord.ui.Button(label="More", custom_id="brief:more"))


async def test_rich_messages_round_trip(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    channel = bot.get_channel(fake_discord.channel_id)
    assert isinstance(channel, discord.TextChannel)
    embed = discord.Embed(
        title="Council approves budget",
        description="Summary",
        url="https://example.org/budget",
        colour=0x2F3136,
        timestamp=discord.utils.utcnow(),
    )
    embed.add_field(name="Outlet", value="Example Gazette").set_footer(text="briefbot")
    first = await channel.send(
        "Digest",
        embed=embed,
        view=Buttons(),
        allowed_mentions=discord.AllowedMentions(users=[discord.Object(42)], everyone=False),
        silent=True,
    )
    assert first.embeds[0].title == "Council approves budget"
    reply = await first.reply("Details", file=discord.File(io.BytesIO(b"text"), "brief.txt"))
    assert reply.attachments[0].filename == "brief.txt"
    (upload,) = [r for r in fake_discord.requests("POST", "/messages") if r.files]
    assert upload.files == ["brief.txt"] and upload.json["content"] == "Details"

    edited = await first.edit(content="Digest (updated)")
    assert edited.edited_at is not None
    fetched = await channel.fetch_message(first.id)
    assert fetched.content == "Digest (updated)"
    history = [m.id async for m in channel.history(limit=10)]
    assert history == [reply.id, first.id]
    await reply.delete()
    assert [m["id"] for m in fake_discord.messages(channel.id)] == [str(first.id)]
    assert (await bot.fetch_channel(channel.id)).id == channel.id


async def test_followups_after_defer(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    await synced(bot, fake_discord)
    assert await fake_discord.invoke("report") == {"type": 5}
    await fake_discord.wait_for_request(lambda r: r.method == "PATCH" and "/messages/" in r.path)
    (interaction,) = fake_discord.interactions()
    assert interaction.original is not None and interaction.original["content"] == "part 1"
    assert [m["content"] for m in interaction.followups] == ["part 2 (edited)"]
    assert interaction.followups[0]["flags"] == 64
    assert len(fake_discord.messages(fake_discord.channel_id, include_interactions=True)) == 1
    assert fake_discord.warnings and "deprecated" in fake_discord.warnings[0]


async def test_late_initial_response_is_a_violation(
    bot: DemoBot, fake_discord: FakeDiscord
) -> None:
    await synced(bot, fake_discord)
    fake_discord.callback_deadline = 0.0  # stands in for a handler that took over 3 s
    await fake_discord.invoke("echo", {"text": "late"})
    (violation,) = fake_discord.take_violations()
    assert violation.rule == "callback-deadline"
    (callback,) = fake_discord.requests("POST", "/callback")
    assert callback.status == 404  # Unknown interaction, as Discord answers


async def test_global_429_and_cloudflare_ban(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    channel = bot.get_channel(fake_discord.channel_id)
    assert isinstance(channel, discord.TextChannel)
    fake_discord.fail_next("POST", r"/messages$", 429, scope="global")
    await channel.send("after a global limit")
    fake_discord.fail_next("POST", r"/messages$", 429, headers={"Via": None})
    with pytest.raises(discord.HTTPException) as banned:
        await channel.send("never")
    assert banned.value.status == 429
    assert len(fake_discord.messages(channel.id)) == 1


async def test_unknown_routes_are_recorded(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    with pytest.raises(discord.NotFound):
        await bot.http.request(
            Route("GET", "/guilds/{guild_id}/bans", guild_id=fake_discord.guild_id)
        )
    (unhandled,) = fake_discord.unhandled
    assert unhandled.path == f"/guilds/{fake_discord.guild_id}/bans"
    fake_discord.unhandled.clear()


async def test_payloads_cover_the_docs_examples(fake_discord: FakeDiscord) -> None:
    examples = default_spec_path().parent / "examples"
    if not examples.is_dir():
        pytest.skip(f"{examples} is absent")

    def keys(name: str) -> dict[str, Any]:
        return dict(json.loads((examples / name).read_text(encoding="utf-8")))

    slash = fake_discord.interaction("echo", {"text": "x"})
    docs = keys("interaction_slash_command.json")
    assert set(docs) <= set(slash)
    assert set(docs["member"]) - {"is_pending"} <= set(slash["member"])  # is_pending: legacy
    assert set(docs["member"]["user"]) <= set(slash["member"]["user"])
    assert set(docs["data"]) <= set(slash["data"])
    assert set(docs["data"]["options"][0]) <= set(slash["data"]["options"][0])

    auto = fake_discord.interaction("pick", {"topic": "ma"}, kind=4, focused="topic")
    docs = keys("interaction_autocomplete.json")
    assert auto["type"] == docs["type"] == 4
    assert set(docs["data"]["options"][0]) <= set(auto["data"]["options"][0])
    assert auto["data"]["options"][0]["focused"] is True

    docs = keys("derived/gateway_ready.json")
    async with run_client(DemoBot(), fake_discord):
        ready = next(f for f in fake_discord.gateway_sent if f["t"] == "READY")
    assert set(docs) <= set(ready) and ready["s"] == 1
    assert set(docs["d"]) <= set(ready["d"])
    assert set(docs["d"]["user"]) <= set(ready["d"]["user"])


async def test_other_endpoints_answer_like_discord(bot: DemoBot, fake_discord: FakeDiscord) -> None:
    """Responses of the remaining routes are checked against the spec by the fixture."""
    assert bot.user is not None
    await synced(bot, fake_discord)
    fetched = await bot.tree.fetch_commands(guild=discord.Object(fake_discord.guild_id))
    assert sorted(c.name for c in fetched) == ["admin", "echo", "pick", "report"]
    assert (await bot.fetch_user(bot.user.id)).bot
    shards, url, _ = await bot.http.get_bot_gateway()
    assert (shards, url) == (1, fake_discord.gateway_url)
    channel = bot.get_channel(fake_discord.channel_id)
    assert isinstance(channel, discord.TextChannel)
    async with channel.typing():
        pass
    await fake_discord.invoke("echo", {"text": "hi"})
    (interaction,) = fake_discord.interactions()
    webhook = discord.Webhook.from_url(
        f"https://discord.com/api/webhooks/{bot.application_id}/{interaction.token}", client=bot
    )
    original = await webhook.fetch_message(int(interaction.original["id"]))  # type: ignore[index]
    assert original.content == "hi"
    await webhook.delete_message(original.id)
    assert fake_discord.message(original.id) is None


@app_commands.command(name="where", description="Echo typed options")
async def where(
    interaction: discord.Interaction,
    channel: discord.TextChannel,
    who: discord.Member,
    count: int,
    ratio: float = 0.5,
    loud: bool = False,
) -> None:
    """Answer with what discord.py parsed from the options."""
    parsed = [channel.id, who.id, count, ratio, loud, interaction.permissions.manage_guild]
    await interaction.response.send_message(" ".join(map(str, parsed)))


async def test_option_types_follow_the_synced_command(fake_discord: FakeDiscord) -> None:
    bot = DemoBot()
    bot.tree.add_command(where)
    async with run_client(bot, fake_discord):
        await synced(bot, fake_discord)
        options = {"channel": fake_discord.channel_id, "who": 555, "count": 3, "ratio": 2.5}
        body = await fake_discord.invoke("where", options | {"loud": True})
        assert body["data"]["content"] == f"{fake_discord.channel_id} 555 3 2.5 True False"
        with pytest.raises(ValueError, match="no option 'colour'"):
            fake_discord.interaction("where", {"colour": "red"})


class Pager(discord.ui.View):
    """Two pages behind a Next button."""

    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Next", custom_id="pager:next")
    async def next_page(
        self, interaction: discord.Interaction, button: discord.ui.Button[Pager]
    ) -> None:
        """Show page 2 in place."""
        await interaction.response.edit_message(content="page 2/2", view=None)


@app_commands.command(name="pages", description="A paged answer")
async def pages(interaction: discord.Interaction) -> None:
    """Answer with page 1 and a Next button."""
    await interaction.response.send_message("page 1/2", view=Pager())


async def test_component_click_updates_the_message(fake_discord: FakeDiscord) -> None:
    bot = DemoBot()
    bot.tree.add_command(pages)
    async with run_client(bot, fake_discord):
        await synced(bot, fake_discord)
        await fake_discord.invoke("pages")
        sent = fake_discord.interactions()[-1].original
        assert sent is not None and sent["components"][0]["components"][0]["label"] == "Next"
        with pytest.raises(ValueError, match="no component"):
            fake_discord.component_interaction(int(sent["id"]), "pager:prev")
        body = await fake_discord.click(int(sent["id"]), "pager:next")
        assert body["type"] == 7 and body["data"]["content"] == "page 2/2"
        assert fake_discord.message(int(sent["id"])) == sent
        assert sent["content"] == "page 2/2" and sent["components"] == []
