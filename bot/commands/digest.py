"""/digest: per-channel digest subscriptions (subscribe, pause, resume, log, notices …).

`default_permissions` hides the group from members without Manage Channels, but server admins
can override that per role or channel, and Discord applies it to the group only. So the
commands that change things check Manage Channels again when they run (Manage Server for the
server's notices channel); status, preview and log are read-only and open to anyone the server
lets see the group.

Each command hands its options to one `DigestService` method (bot/digest/service.py); the only
translating done here is where the command ran (`where`) and who may mention a role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.respond import send_reply, to_choices
from bot.digest.service import DigestService, Mention, Where
from bot.queries import complete
from bot.store.records import ChannelKind

if TYPE_CHECKING:
    from bot.app import BriefBot

manage_channels = app_commands.checks.has_permissions(manage_channels=True)


def where(interaction: discord.Interaction) -> Where:
    """The guild and channel a command ran in, with the channel's kind and a thread's parent."""
    assert interaction.guild_id is not None and interaction.channel_id is not None
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        return Where(
            interaction.guild_id,
            channel.id,
            ChannelKind.THREAD,
            channel.parent_id,
            isinstance(channel.parent, discord.ForumChannel),
        )
    if isinstance(channel, discord.TextChannel) and channel.is_news():
        return Where(interaction.guild_id, channel.id, ChannelKind.ANNOUNCEMENT)
    return Where(interaction.guild_id, interaction.channel_id)


def mention_of(interaction: discord.Interaction, role: discord.Role) -> Mention:
    """The role asked for, and what decides whether this member may have it mentioned."""
    member = interaction.user
    top = member.top_role.position if isinstance(member, discord.Member) else 0
    guild = interaction.guild
    owner = guild is not None and guild.owner_id == member.id
    return Mention(
        role_id=role.id,
        role_position=role.position,
        role_mentionable=role.mentionable,
        member_top_position=top,
        member_mention_everyone=interaction.permissions.mention_everyone,
        member_is_admin=owner or interaction.permissions.administrator,
    )


@app_commands.guild_only()
@app_commands.default_permissions(manage_channels=True)
class DigestCog(commands.GroupCog, group_name="digest", group_description="Digest of new briefs"):
    """Digest subscriptions for channels."""

    def __init__(self, bot: BriefBot) -> None:
        self.bot = bot
        assert bot.store is not None and bot.scheduler is not None
        self.digests = DigestService(bot.store, bot.scheduler, bot.library.current)
        super().__init__()

    @app_commands.command(name="subscribe", description="Post a digest of new briefs here")
    @app_commands.describe(
        time="Local time(s), up to three: 08:30 or 08:00,17:30 (default 08:00)",
        timezone="IANA time zone, e.g. Europe/London (default UTC)",
        topics="Only these topics, comma-separated; all: every topic (the default)",
        days="daily (default), weekdays, weekends or mon,wed,fri",
        quiet="false: on a day with nothing new, say so instead of skipping",
        mention="A role to mention in each digest (only roles you may mention)",
        publish="Announcement channel: crosspost each digest to following servers",
        forum="Run in a forum post: subscribe the forum, a new post per digest",
    )
    @manage_channels
    async def subscribe(
        self,
        interaction: discord.Interaction,
        time: str | None = None,
        timezone: str | None = None,
        topics: str | None = None,
        days: str | None = None,
        quiet: bool | None = None,
        mention: discord.Role | None = None,
        publish: bool | None = None,
        forum: bool = False,
    ) -> None:
        """Subscribe this channel, or change the options given (others are kept)."""
        reply = await self.digests.subscribe(
            where=where(interaction),
            user_id=interaction.user.id,
            time=time,
            timezone=timezone,
            topics=topics,
            days=days,
            quiet=quiet,
            mention=mention_of(interaction, mention) if mention is not None else None,
            publish=publish,
            forum=forum,
        )
        await send_reply(interaction, reply)

    @app_commands.command(name="unsubscribe", description="Stop the digest in this channel")
    @app_commands.describe(channel="A deleted channel's digest to remove (see /digest list)")
    @manage_channels
    async def unsubscribe(
        self, interaction: discord.Interaction, channel: str | None = None
    ) -> None:
        """Remove this channel's subscription, or a deleted channel's."""
        reply = await self.digests.unsubscribe(where(interaction), channel)
        await send_reply(interaction, reply)

    @app_commands.command(name="list", description="Every digest subscription in this server")
    @manage_channels
    async def list_(self, interaction: discord.Interaction) -> None:
        """List this server's subscriptions, paused ones with their reason."""
        assert interaction.guild_id is not None
        await send_reply(interaction, await self.digests.server_list(interaction.guild_id))

    @app_commands.command(
        name="status", description="This channel's digest: schedule, next three, last post"
    )
    async def status(self, interaction: discord.Interaction) -> None:
        """Show this channel's schedule, next slots and last post, and why it is paused."""
        await send_reply(interaction, await self.digests.status(where(interaction)))

    @app_commands.command(
        name="preview", description="See the next digest for this channel (only you)"
    )
    async def preview(self, interaction: discord.Interaction) -> None:
        """Show the digest this channel would get next, privately."""
        reply = await self.digests.preview(where(interaction))
        await send_reply(interaction, reply, ephemeral=True)

    @app_commands.command(name="pause", description="Pause this channel's digest, keeping it")
    @app_commands.describe(until="Resume on this date, e.g. 2026-03-20 (default: until resumed)")
    @manage_channels
    async def pause(self, interaction: discord.Interaction, until: str | None = None) -> None:
        """Pause the digest here; every setting is kept."""
        reply = await self.digests.pause(where(interaction), interaction.user.id, until)
        await send_reply(interaction, reply)

    @app_commands.command(name="resume", description="Resume this channel's paused digest")
    @manage_channels
    async def resume(self, interaction: discord.Interaction) -> None:
        """Resume the digest here once the bot has the permissions it needs."""
        reply = await self.digests.resume(where(interaction), interaction.app_permissions.value)
        await send_reply(interaction, reply)

    @app_commands.command(name="unmention", description="Stop mentioning a role in this digest")
    @manage_channels
    async def unmention(self, interaction: discord.Interaction) -> None:
        """The digest here stops mentioning the role set with subscribe mention:."""
        await send_reply(interaction, await self.digests.unmention(where(interaction)))

    @app_commands.command(name="log", description="This channel's last 20 digest slots")
    async def log(self, interaction: discord.Interaction) -> None:
        """Posted, skipped (and why), failed and retried: the last 20 slots, newest first."""
        await send_reply(interaction, await self.digests.delivery_log(where(interaction)))

    @app_commands.command(name="notices", description="Where the bot says it paused a digest")
    @app_commands.describe(
        channel="(Manage Server) the server's channel for pause notices",
        dm="false: no direct message to the subscriber when this channel's digest pauses",
    )
    @manage_channels
    async def notices(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | None = None,
        dm: bool | None = None,
    ) -> None:
        """Set the server's notices channel, or this channel's DM preference."""
        reply = await self.digests.notices(
            where(interaction),
            channel_id=channel.id if channel is not None else None,
            dm=dm,
            can_manage_server=interaction.permissions.manage_guild,
        )
        await send_reply(interaction, reply)

    @unsubscribe.autocomplete("channel")
    async def _gone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        assert interaction.guild_id is not None
        return to_choices(await self.digests.gone_choices(interaction.guild_id, current))

    @subscribe.autocomplete("timezone")
    async def _timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return to_choices(self.digests.zone_choices(current))

    @subscribe.autocomplete("time")
    async def _time_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return to_choices(self.digests.time_choices(current))

    @subscribe.autocomplete("topics")
    async def _topics_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return to_choices(complete.topic_list(self.bot.library.current(), current))


async def setup(bot: BriefBot) -> None:
    """Extension entry point."""
    await bot.add_cog(DigestCog(bot))
