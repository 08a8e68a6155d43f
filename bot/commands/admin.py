"""Admin commands: /reload picks up edited briefs now and reports what is broken; /about."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.respond import send_reply
from bot.queries import reload

if TYPE_CHECKING:
    from bot.app import BriefBot


class Admin(commands.Cog):
    """Commands for server managers."""

    def __init__(self, bot: BriefBot) -> None:
        self.bot = bot

    @app_commands.command(name="reload", description="Reload briefs from disk and report errors")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    # Checked again at run time: admins can widen who sees the command.
    @app_commands.checks.has_permissions(manage_guild=True)
    async def reload(self, interaction: discord.Interaction) -> None:
        """Reload every brief now."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        await send_reply(interaction, await reload.reload(self.bot.library), ephemeral=True)

    @app_commands.command(
        name="about", description="Version, uptime, briefs, digests and database of this bot"
    )
    async def about(self, interaction: discord.Interaction) -> None:
        """How the bot is doing."""
        # It reads every subscription and each one's next slot: over a slow database (up to
        # BRIEFBOT_DB_TIMEOUT per call) that can outlast Discord's 3 s.
        await interaction.response.defer(ephemeral=True, thinking=True)
        await send_reply(interaction, await self.bot.about(), ephemeral=True)


async def setup(bot: BriefBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Admin(bot))
