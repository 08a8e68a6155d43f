"""DMs, identity routes for `briefbot doctor`, allowed_mentions and the message rate."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands

from tests.fakediscord import FakeDiscord, run_client


def guild_bot() -> discord.Client:
    """A client with the guilds intent only, as briefbot runs."""
    return discord.Client(intents=discord.Intents(guilds=True))


async def test_direct_messages_and_closed_dms(fake_discord: FakeDiscord) -> None:
    subscriber = fake_discord.add_member("sam")
    closed = fake_discord.add_member("cleo", blocks_dms=True)
    async with run_client(guild_bot(), fake_discord) as client:
        user = await client.fetch_user(subscriber.id)
        await user.send("Digest paused in #general: the bot lost Send Messages")
        await user.send("second notice")
        assert [m["content"] for m in fake_discord.dms(subscriber.id)] == [
            "Digest paused in #general: the bot lost Send Messages",
            "second notice",
        ]
        assert len(fake_discord.requests("POST", "/users/@me/channels")) == 1  # cached DM
        dm = fake_discord.dm_channel(subscriber.id)
        assert dm is not None and dm.recipient_id == subscriber.id

        blocked = await client.fetch_user(closed.id)
        with pytest.raises(discord.Forbidden) as refused:
            await blocked.send("notice")
        assert refused.value.code == 50007
        assert fake_discord.dms(closed.id) == []
        outsider = fake_discord.add_user("olga")
        await (await client.fetch_user(outsider.id)).send("hello")
        assert len(fake_discord.dms(outsider.id)) == 1


@app_commands.command(name="ping", description="Pong")
async def ping(interaction: discord.Interaction) -> None:
    """Answer pong."""
    await interaction.response.send_message("pong")


async def test_identity_routes_for_doctor(fake_discord: FakeDiscord) -> None:
    client = guild_bot()
    tree = app_commands.CommandTree(client)
    tree.add_command(ping)
    async with run_client(client, fake_discord):
        me = await client.http.get_user(fake_discord.application_id)
        assert me["bot"] is True
        current = await client.http.request(discord.http.Route("GET", "/users/@me"))
        assert current["id"] == str(fake_discord.application_id)
        app = await client.http.request(discord.http.Route("GET", "/applications/@me"))
        assert app["id"] == str(fake_discord.application_id)
        info = await client.application_info()
        assert info.id == fake_discord.application_id
        assert await tree.fetch_commands() == []
        await tree.sync()
        assert [c.name for c in await tree.fetch_commands()] == ["ping"]


async def test_allowed_mentions_are_recorded_per_message(fake_discord: FakeDiscord) -> None:
    desk = fake_discord.add_role("Policy desk", mentionable=True)
    other = fake_discord.add_role("Other")
    reader = fake_discord.add_member("rita", roles=[desk])
    async with run_client(guild_bot(), fake_discord) as client:
        channel = client.get_channel(fake_discord.channel_id)
        assert isinstance(channel, discord.TextChannel)
        content = f"<@&{desk.id}> <@&{other.id}> <@{reader.id}> @everyone: today's digest"
        only_desk = discord.AllowedMentions(
            everyone=False, users=False, roles=[discord.Object(desk.id)]
        )
        sent = await channel.send(content, allowed_mentions=only_desk)
        assert fake_discord.allowed_mentions(sent.id) == {
            "parse": [],
            "roles": [desk.id],
            "replied_user": True,
        }
        pings = fake_discord.pings(sent.id)
        assert pings.roles == {desk.id} and not pings.users and not pings.everyone
        assert [r.id for r in sent.role_mentions] == [desk.id]
        assert not sent.mention_everyone

        loud = await channel.send(content)  # no allowed_mentions: Discord parses everything
        assert fake_discord.allowed_mentions(loud.id) is None
        assert fake_discord.pings(loud.id).everyone
        assert fake_discord.pings(loud.id).roles == {desk.id, other.id}

        edited = await sent.edit(content=content, allowed_mentions=discord.AllowedMentions.none())
        assert fake_discord.pings(edited.id).roles == frozenset()


async def test_message_creates_per_second(fake_discord: FakeDiscord) -> None:
    muted = fake_discord.add_channel("muted", bot_denied=discord.Permissions(send_messages=True))
    async with run_client(guild_bot(), fake_discord) as client:
        channel = client.get_channel(fake_discord.channel_id)
        refused = client.get_channel(muted.id)
        assert isinstance(channel, discord.TextChannel)
        assert isinstance(refused, discord.TextChannel)
        await asyncio.gather(*(channel.send(f"m{i}") for i in range(12)))
        with pytest.raises(discord.Forbidden):
            await refused.send("not created")
        await asyncio.sleep(1.0)
        await channel.send("a second later")
        per_second = fake_discord.message_creates_per_second()
        assert sum(per_second.values()) == 13  # the refused send created nothing
        assert max(per_second.values()) <= 12  # buckets are whole seconds since the start
        assert fake_discord.peak_message_rate() == 12
        assert fake_discord.peak_message_rate(window=5.0) == 13
