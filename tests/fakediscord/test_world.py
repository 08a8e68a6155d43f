"""Guild roles, members and channel overwrites: permissions as the bot and Discord compute them."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from tests.fakediscord import FakeDiscord, run_client
from tests.fakediscord.payloads import MEMBER_PERMISSIONS


def guild_bot() -> discord.Client:
    """A client with the guilds intent only (no members intent), as briefbot runs."""
    return discord.Client(intents=discord.Intents(guilds=True))


async def test_bot_sees_roles_overwrites_and_its_own_permissions(
    fake_discord: FakeDiscord,
) -> None:
    no_embeds = fake_discord.add_channel(
        "no-embeds", bot_denied=discord.Permissions(embed_links=True)
    )
    hidden = fake_discord.add_channel(
        "staff-only", everyone_denied=discord.Permissions(view_channel=True)
    )
    editors = fake_discord.add_role("Editors", discord.Permissions(manage_messages=True))
    async with run_client(guild_bot(), fake_discord) as client:
        guild = client.get_guild(fake_discord.guild_id)
        assert guild is not None and guild.me is not None
        assert guild.get_role(editors.id) is not None
        assert any(r.managed for r in guild.me.roles)  # the bot's own integration role

        general = guild.get_channel(fake_discord.channel_id)
        blocked = guild.get_channel(no_embeds.id)
        staff = guild.get_channel(hidden.id)
        assert isinstance(general, discord.TextChannel)
        assert isinstance(blocked, discord.TextChannel)
        assert isinstance(staff, discord.TextChannel)
        # discord.py's own computation from GUILD_CREATE agrees with the fake's (it also
        # drops voice permissions in text channels).
        text_only = ~discord.Permissions.voice().value
        for channel in (general, blocked, staff):
            ours = channel.permissions_for(guild.me).value
            assert ours == fake_discord.bot_permissions(channel.id) & text_only, channel.name
        assert general.permissions_for(guild.me).embed_links
        assert not blocked.permissions_for(guild.me).embed_links
        assert blocked.permissions_for(guild.me).send_messages
        assert not staff.permissions_for(guild.me).view_channel

        # The same from REST, as `briefbot doctor` would look it up.
        fetched = await client.fetch_channel(no_embeds.id)
        assert isinstance(fetched, discord.TextChannel)
        (overwrite,) = fetched.overwrites.values()
        assert overwrite.embed_links is False
        roles = await guild.fetch_roles()
        assert {r.name for r in roles} >= {"@everyone", "Editors", "briefbot"}
        me = await guild.fetch_member(fake_discord.application_id)
        assert any(r.managed for r in me.roles)
        assert (await client.fetch_guild(guild.id)).name == guild.name

        # The bot cannot post where it cannot see.
        with pytest.raises(discord.Forbidden) as denied:
            await staff.send("hello")
        assert denied.value.code == 50001


async def test_send_messages_denied_is_missing_permissions(fake_discord: FakeDiscord) -> None:
    muted = fake_discord.add_channel(
        "read-only", bot_denied=discord.Permissions(send_messages=True)
    )
    async with run_client(guild_bot(), fake_discord) as client:
        channel = client.get_channel(muted.id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.Forbidden) as denied:
            await channel.send("digest")
        assert denied.value.code == 50013
        assert fake_discord.messages(muted.id) == []
        # Without Send Messages the embed and attach permissions are lost too.
        assert not discord.Permissions(fake_discord.bot_permissions(muted.id)).embed_links


@app_commands.command(name="whoami", description="Say what the invoker may do")
async def whoami(interaction: discord.Interaction) -> None:
    """Answer with the invoker's role names and two permission bits, and the bot's."""
    member = interaction.user
    assert isinstance(member, discord.Member)
    roles = ",".join(sorted(r.name for r in member.roles if not r.is_default()))
    perms = interaction.permissions
    text = (
        f"roles={roles} manage={perms.manage_messages} "
        f"embed={perms.embed_links} bot_embed={interaction.app_permissions.embed_links}"
    )
    await interaction.response.send_message(text, ephemeral=True)


async def test_interaction_as_a_member_with_a_role(fake_discord: FakeDiscord) -> None:
    editors = fake_discord.add_role("Editors", discord.Permissions(manage_messages=True))
    editor = fake_discord.add_member("erin", roles=[editors])
    reader = fake_discord.add_member("rudy")
    no_embeds = fake_discord.add_channel(
        "no-embeds",
        bot_denied=discord.Permissions(embed_links=True),
        everyone_denied=discord.Permissions(embed_links=True),
    )
    client = discord.Client(intents=discord.Intents(guilds=True))
    tree = app_commands.CommandTree(client)
    tree.add_command(whoami, guild=discord.Object(fake_discord.guild_id))
    async with run_client(client, fake_discord):
        await tree.sync(guild=discord.Object(fake_discord.guild_id))
        body = await fake_discord.invoke("whoami", member=editor)
        assert body["data"]["content"] == "roles=Editors manage=True embed=True bot_embed=True"
        body = await fake_discord.invoke("whoami", member=reader, channel_id=no_embeds.id)
        assert body["data"]["content"] == "roles= manage=False embed=False bot_embed=False"
        # Without a member, an explicit permission set as before.
        body = await fake_discord.invoke("whoami", permissions=MEMBER_PERMISSIONS)
        assert "manage=False embed=True" in body["data"]["content"]


def test_permission_hierarchy(fake_discord: FakeDiscord) -> None:
    mods = fake_discord.add_role("Mods", discord.Permissions(manage_threads=True))
    admins = fake_discord.add_role("Admins", discord.Permissions(administrator=True))
    mod = fake_discord.add_member("mo", roles=[mods])
    admin = fake_discord.add_member("ada", roles=[admins])
    plain = fake_discord.add_member("pat")
    from tests.fakediscord.models import MEMBER_OVERWRITE, ROLE_OVERWRITE, Overwrite

    send = discord.Permissions(send_messages=True).value
    channel = fake_discord.add_channel(
        "announcements-ish",
        overwrites=[
            Overwrite(fake_discord.guild_id, ROLE_OVERWRITE, deny=send),  # @everyone: no
            Overwrite(mods.id, ROLE_OVERWRITE, allow=send),  # a role allows it back
            Overwrite(plain.id, MEMBER_OVERWRITE, allow=send),  # and one member
        ],
    )
    thread = fake_discord.add_thread(channel, "a thread")

    def can_send(member_id: int, channel_id: int) -> bool:
        return bool(fake_discord.permissions_for(member_id, channel_id) & send)

    assert can_send(mod.id, channel.id) and can_send(plain.id, channel.id)
    assert not can_send(fake_discord.application_id, channel.id)
    assert can_send(admin.id, channel.id)  # administrator overrides overwrites
    assert can_send(mod.id, thread.id)  # threads use their parent's overwrites
    assert fake_discord.permissions_for(fake_discord.guild.owner_id, channel.id) == (
        discord.Permissions.all().value
    )
    fake_discord.set_everyone_permissions(0)
    assert fake_discord.permissions_for(mod.id, channel.id) == 0  # no View Channel left
