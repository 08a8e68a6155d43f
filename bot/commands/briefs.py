"""Slash commands over the briefs: /summary, /quotes, /topic, /briefs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.respond import send_reply, to_choices
from bot.briefs.library import Library
from bot.queries import briefs, complete, quotes, search, topics
from bot.queries.spec import BRIEFS, QUOTES, SEARCH, SUMMARY, TOPIC

if TYPE_CHECKING:
    from bot.app import BriefBot


class Briefs(commands.Cog):
    """Read the briefs: summaries, attributed quotes, topics."""

    def __init__(self, bot: BriefBot) -> None:
        self.bot = bot

    @property
    def _library(self) -> Library:
        return self.bot.library.current()

    @app_commands.command(name=SUMMARY.name, description=SUMMARY.description)
    @app_commands.describe(brief=SUMMARY.options[0].description)
    async def summary(self, interaction: discord.Interaction, brief: str | None = None) -> None:
        """Summary and key points of a brief."""
        await send_reply(
            interaction, await briefs.summary_published(self._library, self.bot.store, brief)
        )

    @app_commands.command(name=QUOTES.name, description=QUOTES.description)
    @app_commands.describe(
        speaker=QUOTES.options[0].description, brief=QUOTES.options[1].description
    )
    async def quotes(
        self, interaction: discord.Interaction, speaker: str, brief: str | None = None
    ) -> None:
        """Direct quotes by one person."""
        await send_reply(interaction, quotes.quotes(self._library, speaker, brief))

    @app_commands.command(name=TOPIC.name, description=TOPIC.description)
    @app_commands.describe(name=TOPIC.options[0].description)
    async def topic(self, interaction: discord.Interaction, name: str) -> None:
        """Everything on a topic."""
        await send_reply(interaction, topics.topic(self._library, name))

    @app_commands.command(name=BRIEFS.name, description=BRIEFS.description)
    async def list_briefs(self, interaction: discord.Interaction) -> None:
        """Every brief, newest first."""
        await send_reply(interaction, briefs.list_briefs(self._library))

    @app_commands.command(name=SEARCH.name, description=SEARCH.description)
    @app_commands.describe(**{o.name: o.description for o in SEARCH.options})
    async def search(
        self,
        interaction: discord.Interaction,
        query: str,
        speaker: str | None = None,
        topic: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        """Full-text search over the briefs."""
        reply = search.search(self._library, query, speaker, topic, since, until)
        await send_reply(interaction, reply)

    @search.autocomplete("since")
    @search.autocomplete("until")
    async def _date_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return to_choices(complete.dates(self._library, current))

    @summary.autocomplete("brief")
    @quotes.autocomplete("brief")
    async def _brief_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return to_choices(complete.briefs(self._library, current))

    @quotes.autocomplete("speaker")
    @search.autocomplete("speaker")
    async def _speaker_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return to_choices(complete.speakers(self._library, current))

    @topic.autocomplete("name")
    @search.autocomplete("topic")
    async def _topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return to_choices(complete.topics(self._library, current))


async def setup(bot: BriefBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Briefs(bot))
