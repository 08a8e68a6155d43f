"""/digest: per-channel daily digest subscriptions (subscribe, unsubscribe, list, status, preview).

`default_permissions` hides the group from members without Manage Channels, but server admins
can override that per role or channel, and Discord applies it to the group only. So the
commands that change things check Manage Channels again when they run; status and preview are
read-only and open to anyone the server lets see the group.

Each command hands its options to one `DigestService` method (bot/digest/service.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.respond import send_reply, to_choices
from bot.digest.service import DigestService
from bot.queries import complete

if TYPE_CHECKING:
    from bot.app import BriefBot

manage_channels = app_commands.checks.has_permissions(manage_channels=True)


@app_commands.guild_only()
@app_commands.default_permissions(manage_channels=True)
class DigestCog(
    commands.GroupCog, group_name="digest", group_description="Daily digest of new briefs"
):
    """Daily digest subscriptions for channels."""

    def __init__(self, bot: BriefBot) -> None:
        self.bot = bot
        assert bot.store is not None and bot.scheduler is not None
        self.digests = DigestService(bot.store, bot.scheduler, bot.library.current)
        super().__init__()

    @app_commands.command(name="subscribe", description="Post a daily digest of new briefs here")
    @app_commands.describe(
        time="Local time to post, e.g. 08:30 or 6pm (default 08:00)",
        timezone="IANA time zone, e.g. Europe/London (default UTC)",
        topics="Only these topics, comma-separated (default: all)",
    )
    @manage_channels
    async def subscribe(
        self,
        interaction: discord.Interaction,
        time: str = "08:00",
        timezone: str = "UTC",
        topics: str | None = None,
    ) -> None:
        """Subscribe this channel, or change its schedule."""
        assert interaction.guild_id is not None and interaction.channel_id is not None
        reply = await self.digests.subscribe(
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            user_id=interaction.user.id,
            time=time,
            timezone=timezone,
            topics=topics,
        )
        await send_reply(interaction, reply)

    @app_commands.command(name="unsubscribe", description="Stop the daily digest in this channel")
    @manage_channels
    async def unsubscribe(self, interaction: discord.Interaction) -> None:
        """Remove this channel's subscription."""
        assert interaction.channel_id is not None
        await send_reply(interaction, await self.digests.unsubscribe(interaction.channel_id))

    @app_commands.command(name="list", description="Every digest subscription in this server")
    @manage_channels
    async def list_(self, interaction: discord.Interaction) -> None:
        """List this server's subscriptions, paused ones with their reason."""
        assert interaction.guild_id is not None
        await send_reply(interaction, await self.digests.server_list(interaction.guild_id))

    @app_commands.command(
        name="status", description="This channel's digest: schedule, next and last post"
    )
    async def status(self, interaction: discord.Interaction) -> None:
        """Show this channel's schedule, next and last post, and why it is paused if it is."""
        assert interaction.channel_id is not None
        await send_reply(interaction, await self.digests.status(interaction.channel_id))

    @app_commands.command(
        name="preview", description="See the next digest for this channel (only you)"
    )
    async def preview(self, interaction: discord.Interaction) -> None:
        """Show the digest this channel would get next, privately."""
        assert interaction.channel_id is not None
        reply = await self.digests.preview(interaction.channel_id)
        await send_reply(interaction, reply, ephemeral=True)

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
