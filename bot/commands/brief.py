"""/brief: draft a brief from an article, list your drafts, the publish history, settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.respond import send_reply, to_choices
from bot.adapters.discord.review import (
    PasteModal,
    deliver_preview,
    member_of,
    preview_embed,
    preview_view,
)
from bot.queries import complete
from bot.queries.spec import BRIEF_HISTORY
from bot.review.service import history

if TYPE_CHECKING:
    from bot.app import BriefBot
    from bot.review.service import ReviewService


@app_commands.guild_only()
class BriefCommands(
    commands.GroupCog, group_name="brief", group_description="Draft, review and publish briefs"
):
    """Editors draft, review and publish briefs without leaving Discord."""

    def __init__(self, bot: BriefBot, review: ReviewService) -> None:
        self.bot = bot
        self.review = review
        super().__init__()

    @app_commands.command(
        name="draft", description="Draft a brief from an article (.txt/.html, or paste it)"
    )
    @app_commands.describe(
        file="The article as .txt or .html, at most 1 MiB; leave out to paste text"
    )
    async def draft(
        self, interaction: discord.Interaction, file: discord.Attachment | None = None
    ) -> None:
        """Draft from an attachment, or open the paste form."""
        if file is None:
            refused = await self.review.refuse(member_of(interaction))
            if refused is not None:
                await send_reply(interaction, refused, ephemeral=True)
                return
            await interaction.response.send_modal(PasteModal())
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.review.draft_upload(
            member_of(interaction), file.url, file.filename, file.size
        )
        await deliver_preview(interaction, outcome)

    @app_commands.command(name="drafts", description="Your open drafts, with their previews")
    async def drafts(self, interaction: discord.Interaction) -> None:
        """List the member's drafts and reopen their previews."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply, previews = await self.review.my_drafts(member_of(interaction))
        await send_reply(interaction, reply, ephemeral=True)
        for preview in previews:
            message = await interaction.followup.send(
                embed=preview_embed(preview),
                view=preview_view(preview),
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
                wait=True,
            )
            await self.review.store.add_preview(preview.draft.id, message.channel.id, message.id)

    @app_commands.command(name="history", description=BRIEF_HISTORY.description)
    @app_commands.describe(brief=BRIEF_HISTORY.options[0].description)
    async def history(self, interaction: discord.Interaction, brief: str | None = None) -> None:
        """The audit trail."""
        library = self.bot.library.current()
        reply = await history(self.review.store, brief, library=library)
        await send_reply(interaction, reply, ephemeral=True)

    @history.autocomplete("brief")
    async def _brief_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return to_choices(complete.briefs(self.bot.library.current(), current))

    @app_commands.command(name="settings", description="Editor role, review and notices channels")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def settings(
        self,
        interaction: discord.Interaction,
        editor_role: discord.Role | None = None,
        review_channel: discord.TextChannel | None = None,
        notices_channel: discord.TextChannel | None = None,
    ) -> None:
        """Change (or, with no options, show) the review settings."""
        member = member_of(interaction)
        if editor_role is None and review_channel is None and notices_channel is None:
            reply = await self.review.show_settings(member)
        else:
            reply = await self.review.update_settings(
                member,
                editor_role_id=editor_role.id if editor_role else None,
                review_channel_id=review_channel.id if review_channel else None,
                notices_channel_id=notices_channel.id if notices_channel else None,
            )
        await send_reply(interaction, reply, ephemeral=True)


async def setup(bot: BriefBot) -> None:
    """Extension entry point (loaded only when the bot has a store)."""
    assert bot.review is not None
    await bot.add_cog(BriefCommands(bot, bot.review))
