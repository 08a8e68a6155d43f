"""/feeds: the sources a server watches (add, list, remove, status).

Manage Server or the guild's editor role (its guild setting, else BRIEFBOT_EDITOR_ROLE_ID),
checked when the command runs (Discord's default permissions alone can be overridden per
role). Each command is one `FeedService` call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.respond import Refused, send_reply, to_choices
from bot.feeds.service import EVERY_DESCRIPTION, FeedService
from bot.queries import complete
from bot.review.service import ReviewService, who_may_edit

if TYPE_CHECKING:
    from bot.app import BriefBot


async def _is_editor(interaction: discord.Interaction) -> bool:
    """Manage Server, or the guild's editor role (its own setting, else the environment's)."""
    if interaction.permissions.manage_guild:
        return True
    review = getattr(interaction.client, "review", None)
    if not isinstance(review, ReviewService) or interaction.guild_id is None:
        return False
    role_id = (await review.settings_for(interaction.guild_id)).editor_role_id
    roles = getattr(interaction.user, "roles", [])
    if role_id is not None and any(r.id == role_id for r in roles):
        return True
    command = interaction.command.qualified_name if interaction.command else "feeds"
    raise Refused(who_may_edit(role_id, f"use /{command}"))


editors_only = app_commands.check(_is_editor)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class FeedsCog(
    commands.GroupCog, group_name="feeds", group_description="Feeds the bot drafts from"
):
    """RSS and Atom feeds whose new stories become drafts for review."""

    def __init__(self, bot: BriefBot) -> None:
        self.bot = bot
        assert bot.feeds is not None
        self.service: FeedService = bot.feeds
        super().__init__()

    @app_commands.command(name="add", description="Watch a feed; new stories become drafts")
    @app_commands.describe(
        url="The RSS or Atom feed's address",
        topics="Topics to suggest to its drafts, comma-separated (none: no topics)",
        every=EVERY_DESCRIPTION,
    )
    @editors_only
    async def add(
        self,
        interaction: discord.Interaction,
        url: str,
        topics: str | None = None,
        every: str | None = None,
    ) -> None:
        """Watch a feed, or change one."""
        assert interaction.guild_id is not None
        reply = await self.service.add(
            interaction.guild_id, interaction.user.id, url, topics, every
        )
        await send_reply(interaction, reply)

    @app_commands.command(name="list", description="Every feed this server watches")
    @editors_only
    async def list_(self, interaction: discord.Interaction) -> None:
        """List the feeds with how each stands."""
        assert interaction.guild_id is not None
        await send_reply(interaction, await self.service.list(interaction.guild_id))

    @app_commands.command(name="remove", description="Stop watching a feed")
    @app_commands.describe(url="The feed's address, as listed")
    @editors_only
    async def remove(self, interaction: discord.Interaction, url: str) -> None:
        """Stop watching a feed."""
        assert interaction.guild_id is not None
        await send_reply(interaction, await self.service.remove(interaction.guild_id, url))

    @app_commands.command(name="status", description="How a feed's polling stands")
    @app_commands.describe(url="The feed's address (default: every feed)")
    @editors_only
    async def status(self, interaction: discord.Interaction, url: str | None = None) -> None:
        """Last poll, last error, next poll, what it drafted."""
        assert interaction.guild_id is not None
        await send_reply(interaction, await self.service.status(interaction.guild_id, url))

    @add.autocomplete("topics")
    async def _topics_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return to_choices(complete.topic_list(self.bot.library.current(), current))

    @remove.autocomplete("url")
    @status.autocomplete("url")
    @editors_only  # the command's checks do not cover its autocomplete: none for non-editors
    async def _url_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        assert interaction.guild_id is not None
        return to_choices(await self.service.url_choices(interaction.guild_id, current))


async def setup(bot: BriefBot) -> None:
    """Load the cog."""
    await bot.add_cog(FeedsCog(bot))
