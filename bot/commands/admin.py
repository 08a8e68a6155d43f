"""Admin commands: /reload picks up edited briefs now and reports what is broken."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.respond import send_reply
from bot.queries.format import plural
from bot.queries.reply import Item, Reply, Section, Status

if TYPE_CHECKING:
    from bot.app import BriefBot
    from bot.services.reloader import ReloadReport


def reload_reply(report: ReloadReport) -> Reply:
    """What a reload did, for the admin who asked."""
    changes = [
        Item(", ".join(ids), label=label)
        for label, ids in (
            ("Added", report.added),
            ("Removed", report.removed),
            ("Updated", report.updated),
        )
        if ids
    ]
    sections = [Section("Changes", tuple(changes))] if changes else []
    if report.errors:
        sections.append(
            Section(
                f"Errors ({len(report.errors)}): last good versions stay live",
                tuple(Item(str(e)) for e in report.errors),
            )
        )
    return Reply(
        "Briefs reloaded",
        Status.OK if not report.errors else Status.INVALID,
        description=f"{plural(report.total, 'brief')} live."
        + ("" if changes else " Nothing changed."),
        sections=tuple(sections),
    )


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
        report = await self.bot.library.reload()
        await send_reply(interaction, reload_reply(report), ephemeral=True)


async def setup(bot: BriefBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Admin(bot))
