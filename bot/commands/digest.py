"""/digest: per-channel daily digest subscriptions (subscribe, unsubscribe, list, status, preview).

`default_permissions` hides the group from members without Manage Channels, but server admins
can override that per role or channel, and Discord applies it to the group only. So the
commands that change things check Manage Channels again when they run; status and preview are
read-only and open to anyone the server lets see the group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.respond import send_reply
from bot.queries.complete import MAX_CHOICES
from bot.queries.complete import topics as complete_topics
from bot.queries.reply import Reply, Status
from bot.services import status as replies
from bot.services.schedule import (
    ScheduleError,
    format_time,
    parse_time,
    parse_timezone,
    timezone_suggestions,
)

if TYPE_CHECKING:
    from bot.app import BriefBot

manage_channels = app_commands.checks.has_permissions(manage_channels=True)


@app_commands.guild_only()
@app_commands.default_permissions(manage_channels=True)
class Digest(
    commands.GroupCog, group_name="digest", group_description="Daily digest of new briefs"
):
    """Daily digest subscriptions for channels."""

    def __init__(self, bot: BriefBot) -> None:
        self.bot = bot
        assert bot.store is not None and bot.scheduler is not None
        self.store = bot.store
        self.scheduler = bot.scheduler
        super().__init__()

    def _labels(self) -> dict[str, str]:
        return {t.id: t.label for t in self.bot.library.current().vocabulary.topics}

    def _topics(self, text: str | None) -> tuple[str, ...] | Reply:
        """Comma-separated topic names or aliases → vocabulary ids, or a reply listing them."""
        if not text or not text.strip():
            return ()
        library = self.bot.library.current()
        ids: list[str] = []
        for name in (part.strip() for part in text.split(",")):
            if not name:
                continue
            topic = library.topic(name)
            if topic is None:
                return Reply(
                    "Unknown topic",
                    Status.NOT_FOUND,
                    description=f"No topic is called {name[:80]!r}. Separate topics with commas.",
                    suggestions=tuple(library.vocabulary.suggest(name)),
                    private=True,
                )
            ids.append(topic.id)
        return tuple(dict.fromkeys(ids))

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
        try:
            at = parse_time(time)
        except ScheduleError as exc:
            reply = replies.schedule_error(exc.message, exc.suggestions, replies.TIME_EXAMPLES)
            await send_reply(interaction, reply)
            return
        try:
            zone = parse_timezone(timezone)
        except ScheduleError as exc:
            reply = replies.schedule_error(exc.message, exc.suggestions, replies.ZONE_EXAMPLES)
            await send_reply(interaction, reply)
            return
        chosen = self._topics(topics)
        if isinstance(chosen, Reply):
            await send_reply(interaction, chosen)
            return
        sub = await self.store.upsert_subscription(
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            local_time=at,
            timezone=zone.key,
            topics=chosen,
            created_by=interaction.user.id,
        )
        self.scheduler.poke()
        next_run = await self.scheduler.next_run(sub.channel_id)
        await send_reply(interaction, replies.subscribed(sub, next_run, self._labels()))

    @app_commands.command(name="unsubscribe", description="Stop the daily digest in this channel")
    @manage_channels
    async def unsubscribe(self, interaction: discord.Interaction) -> None:
        """Remove this channel's subscription."""
        assert interaction.channel_id is not None
        removed = await self.store.remove(interaction.channel_id)
        self.scheduler.poke()
        await send_reply(interaction, replies.unsubscribed(removed))

    @app_commands.command(name="list", description="Every digest subscription in this server")
    @manage_channels
    async def list_(self, interaction: discord.Interaction) -> None:
        """List this server's subscriptions, paused ones with their reason."""
        assert interaction.guild_id is not None
        subs = await self.store.list_guild(interaction.guild_id)
        await send_reply(interaction, replies.server_list(subs, self._labels()))

    @app_commands.command(
        name="status", description="This channel's digest: schedule, next and last post"
    )
    async def status(self, interaction: discord.Interaction) -> None:
        """Show this channel's schedule, next and last post, and why it is paused if it is."""
        assert interaction.channel_id is not None
        channel = interaction.channel_id
        sub = await self.store.get(channel)
        next_run = await self.scheduler.next_run(channel) if sub is not None else None
        last = await self.store.last_post(channel) if sub is not None else None
        skipped = await self.store.last_skip(channel) if sub is not None else None
        reply = replies.status(sub, next_run, last, self._labels(), skipped)
        await send_reply(interaction, reply)

    @app_commands.command(
        name="preview", description="See the next digest for this channel (only you)"
    )
    async def preview(self, interaction: discord.Interaction) -> None:
        """Show the digest this channel would get next, privately."""
        assert interaction.channel_id is not None
        reply = await self.scheduler.preview(interaction.channel_id)
        if reply is None:
            reply = replies.status(None, None, None, {})
        await send_reply(interaction, reply, ephemeral=True)

    @subscribe.autocomplete("timezone")
    async def _timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in timezone_suggestions(current[:100])]

    @subscribe.autocomplete("time")
    async def _time_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            typed = [format_time(parse_time(current))] if current.strip() else []
        except ScheduleError:
            typed = []
        common = [f"{h:02d}:00" for h in (7, 8, 9, 12, 17, 18)]
        return [app_commands.Choice(name=t, value=t) for t in dict.fromkeys(typed + common)]

    @subscribe.autocomplete("topics")
    async def _topics_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        # Complete the last comma-separated topic, keeping those already typed.
        done, _, last = current.rpartition(",")
        prefix = f"{done}, " if done else ""
        choices = []
        for choice in complete_topics(self.bot.library.current(), last.strip()):
            value = f"{prefix}{choice.value}"
            if len(value) <= 100:
                choices.append(app_commands.Choice(name=value, value=value))
        return choices[:MAX_CHOICES]


async def setup(bot: BriefBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Digest(bot))
