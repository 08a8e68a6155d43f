"""What each /digest command does, renderer-neutral: one method per command, a Reply back.

The cog (bot/commands/digest.py) hands over what Discord gave it and sends what comes back.
"""

from __future__ import annotations

from collections.abc import Callable

from bot import limits
from bot.briefs.library import Library
from bot.digest import replies
from bot.digest.schedule import (
    TIME_EXAMPLES,
    ZONE_EXAMPLES,
    ScheduleError,
    TopicError,
    parse_time,
    parse_timezone,
    parse_topics,
    time_suggestions,
    timezone_suggestions,
)
from bot.digest.scheduler import DigestScheduler
from bot.reply import Choice, Reply
from bot.store import Store


class DigestService:
    """The digest's commands over one store, scheduler and (live) library."""

    def __init__(
        self, store: Store, scheduler: DigestScheduler, library: Callable[[], Library]
    ) -> None:
        self.store = store
        self.scheduler = scheduler
        self._library = library

    def _labels(self) -> dict[str, str]:
        return dict(self._library().topic_names)

    async def subscribe(
        self,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        time: str,
        timezone: str,
        topics: str | None,
    ) -> Reply:
        """Subscribe a channel, or change its schedule; a bad time, zone or topic says why."""
        try:
            at = parse_time(time)
        except ScheduleError as exc:
            return replies.schedule_error(exc.message, exc.suggestions, TIME_EXAMPLES)
        try:
            zone = parse_timezone(timezone)
        except ScheduleError as exc:
            return replies.schedule_error(exc.message, exc.suggestions, ZONE_EXAMPLES)
        try:
            chosen = parse_topics(self._library(), topics)
        except TopicError as exc:
            return replies.unknown_topic(exc.message, exc.suggestions)
        sub = await self.store.upsert_subscription(
            guild_id=guild_id,
            channel_id=channel_id,
            local_time=at,
            timezone=zone,
            topics=chosen,
            created_by=user_id,
        )
        self.scheduler.poke()
        next_run = await self.scheduler.next_run(sub.channel_id)
        return replies.subscribed(sub, next_run, self._labels())

    async def unsubscribe(self, channel_id: int) -> Reply:
        """Stop a channel's digest."""
        removed = await self.store.remove(channel_id)
        self.scheduler.poke()
        return replies.unsubscribed(removed)

    async def server_list(self, guild_id: int) -> Reply:
        """Every subscription in a server, paused ones with their reason."""
        return replies.server_list(await self.store.list_guild(guild_id), self._labels())

    async def status(self, channel_id: int) -> Reply:
        """A channel's schedule, next and last post, a newer skipped day, and any pause."""
        sub = await self.store.get(channel_id)
        if sub is None:
            return replies.status(None, None, None, {})
        next_run = await self.scheduler.next_run(channel_id)
        last = await self.store.last_sent(channel_id)
        skipped = await self.store.last_skipped(channel_id)
        return replies.status(sub, next_run, last, self._labels(), skipped)

    async def preview(self, channel_id: int) -> Reply:
        """The digest a channel would get next, privately."""
        reply = await self.scheduler.preview(channel_id)
        return reply if reply is not None else replies.status(None, None, None, {})

    @staticmethod
    def time_choices(typed: str) -> list[Choice]:
        """Autocomplete for the time of day."""
        return [Choice(t, t) for t in time_suggestions(typed)]

    @staticmethod
    def zone_choices(typed: str) -> list[Choice]:
        """Autocomplete for the time zone."""
        return [Choice(z, z) for z in timezone_suggestions(typed[: limits.CHOICE_VALUE])]
