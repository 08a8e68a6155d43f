"""What each /digest command does, renderer-neutral: one method per command, a Reply back.

The cog (bot/commands/digest.py) hands over what Discord gave it and sends what comes back.
A forum's subscription lives on the forum; its commands are run in any of its posts, so a
command in a thread falls back to the parent forum's subscription (`Where.parent_id`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot import limits
from bot.briefs.library import Library
from bot.clock import Zone
from bot.digest import replies
from bot.digest.schedule import (
    DATE_EXAMPLES,
    DAYS_EXAMPLES,
    MAX_TIMES,
    TIMES_EXAMPLES,
    ZONE_EXAMPLES,
    ScheduleError,
    TopicError,
    parse_date,
    parse_days,
    parse_times,
    parse_timezone,
    parse_topics,
    time_suggestions,
    timezone_suggestions,
)
from bot.digest.scheduler import DigestScheduler, is_gone
from bot.reply import Choice, Reply
from bot.store.records import ChannelKind, StoreUnavailable, Subscription, Weekdays
from bot.store.sqlite import DATABASE_ERRORS, Store

DEFAULT_TIME = "08:00"
DEFAULT_ZONE = "UTC"


@dataclass(frozen=True, slots=True)
class Where:
    """Where a command was run: the channel, its kind, and a thread's parent."""

    guild_id: int
    channel_id: int
    kind: ChannelKind = ChannelKind.TEXT
    parent_id: int | None = None  # a thread's channel (a forum, for a forum post)
    parent_is_forum: bool = False


@dataclass(frozen=True, slots=True)
class Mention:
    """A role a member asks the digest to mention, and what decides whether they may."""

    role_id: int
    role_position: int
    role_mentionable: bool
    member_top_position: int  # the position of the member's highest role
    member_mention_everyone: bool  # the member has Mention @everyone, @here and All Roles
    member_is_admin: bool  # owner or Administrator: any role


def mention_refusal(guild_id: int, mention: Mention) -> str | None:
    """Why the member may not have the digest mention this role (None: they may).

    The rule (as Discord lets members ping): the role is mentionable, or the member has Mention
    @everyone; and the role is below the member's highest role. Owners and Administrators may
    pick any role. @everyone can never be chosen (and @here is not a role).
    """
    if mention.role_id == guild_id:
        return "A digest never mentions @everyone or @here. Pick a role."
    if mention.member_is_admin:
        return None
    if not (mention.role_mentionable or mention.member_mention_everyone):
        return (
            f"<@&{mention.role_id}> is not mentionable and you lack the Mention @everyone, @here "
            "and All Roles permission, so you cannot have the digest mention it."
        )
    if mention.role_position >= mention.member_top_position:
        return (
            f"<@&{mention.role_id}> is not below your highest role, so you cannot have the digest "
            "mention it. Pick a lower role, or ask someone above it."
        )
    return None


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

    async def _find(self, where: Where) -> Subscription | None:
        sub = await self.store.get(where.channel_id)
        if sub is None and where.parent_id is not None:
            parent = await self.store.get(where.parent_id)
            if parent is not None and parent.kind is ChannelKind.FORUM:
                return parent
        return sub

    async def subscribe(
        self,
        *,
        where: Where,
        user_id: int,
        time: str | None = None,
        timezone: str | None = None,
        topics: str | None = None,
        days: str | None = None,
        quiet: bool | None = None,
        mention: Mention | None = None,
        publish: bool | None = None,
        forum: bool = False,
    ) -> Reply:
        """Subscribe a channel, or change the options given (others are kept) and resume it."""
        kind, channel_id = where.kind, where.channel_id
        if not forum and where.parent_is_forum and await self.store.get(channel_id) is None:
            # In a post of a subscribed forum (one of its digests, say) subscribe changes the
            # forum's digest, as the other commands there do: not a second one into this post.
            parent = await self._find(where)
            forum = parent is not None and parent.kind is ChannelKind.FORUM
        if forum:
            if not where.parent_is_forum or where.parent_id is None:
                return replies.refused(
                    "Not in a forum",
                    "forum:true subscribes a forum channel: run it inside any post of that forum.",
                )
            kind, channel_id = ChannelKind.FORUM, where.parent_id
        old = await self.store.get(channel_id)
        parsed = self._parse(old, time, timezone, days, topics)
        if isinstance(parsed, Reply):
            return parsed
        at, zone, on, chosen = parsed
        if mention is not None and (why := mention_refusal(where.guild_id, mention)):
            # Shown as the role (never @everyone, which would read as a ping even unpinged).
            named = (mention.role_id,) if mention.role_id != where.guild_id else ()
            return replies.refused("That role cannot be mentioned", why, named)
        if publish and kind is not ChannelKind.ANNOUNCEMENT:
            return replies.refused(
                "Nothing to publish to",
                "publish:true crossposts digests from an announcement channel to the servers "
                "following it; this is not an announcement channel.",
            )
        sub = await self.store.upsert_subscription(
            guild_id=where.guild_id,
            channel_id=channel_id,
            times=at,
            timezone=zone,
            topics=chosen if chosen is not None else (old.topics if old else ()),
            created_by=user_id,
            days=on,
            quiet=quiet if quiet is not None else (old.quiet if old else True),
            mention_role_id=mention.role_id if mention else (old.mention_role_id if old else None),
            publish=publish if publish is not None else (old.publish if old else False),
            kind=kind,
        )
        self.scheduler.poke()
        upcoming = await self.scheduler.upcoming(sub.channel_id)
        return replies.subscribed(sub, upcoming, self._labels())

    def _parse(
        self,
        old: Subscription | None,
        time: str | None,
        timezone: str | None,
        days: str | None,
        topics: str | None,
    ) -> tuple[tuple[dt.time, ...], Zone, Weekdays, tuple[str, ...] | None] | Reply:
        """The schedule options given (a missing one: as it was, or the default), or why not."""
        try:
            at = parse_times(time if time is not None else _times(old))
        except ScheduleError as exc:
            return replies.schedule_error(exc.message, exc.suggestions, TIMES_EXAMPLES)
        try:
            zone = parse_timezone(timezone or (old.timezone.key if old else DEFAULT_ZONE))
        except ScheduleError as exc:
            return replies.schedule_error(exc.message, exc.suggestions, ZONE_EXAMPLES)
        try:
            on = parse_days(days) if days is not None else (old.days if old else Weekdays(127))
        except ScheduleError as exc:
            return replies.schedule_error(exc.message, exc.suggestions, DAYS_EXAMPLES)
        try:
            chosen = parse_topics(self._library(), topics) if topics is not None else None
        except TopicError as exc:
            return replies.unknown_topic(exc.message, exc.suggestions)
        return at, zone, on, chosen

    async def unsubscribe(self, where: Where, channel: str | None = None) -> Reply:
        """Stop a channel's digest: this one's, or (`channel`) that of a deleted channel of
        this server, where no command can run any more."""
        if channel is not None:
            sub = await self._gone(where.guild_id, channel)
            if sub is not None and not is_gone(sub.disabled_reason):
                return replies.still_there(sub.channel_id)
        else:
            sub = await self._find(where)
        removed = sub is not None and await self.store.remove(sub.channel_id)
        self.scheduler.poke()
        return replies.unsubscribed(removed)

    async def _gone(self, guild_id: int, channel: str) -> Subscription | None:
        """This server's subscription of the channel named by id (or <#id>), if any."""
        digits = channel.strip().removeprefix("<#").removesuffix(">").split(" ", 1)[0]
        if not digits.isascii() or not digits.isdigit() or len(digits) > 20:
            return None
        sub = await self.store.get(int(digits))
        return sub if sub is not None and sub.guild_id == guild_id else None

    async def gone_choices(self, guild_id: int, typed: str) -> list[Choice]:
        """Autocomplete for unsubscribe channel:: this server's deleted channels' digests."""
        subs = [s for s in await self.store.list_guild(guild_id) if is_gone(s.disabled_reason)]
        wanted = typed.strip().casefold()
        return [
            Choice(replies.gone_choice(s), str(s.channel_id))
            for s in subs
            if wanted in replies.gone_choice(s).casefold()
        ][: limits.AUTOCOMPLETE_CHOICES]

    async def server_list(self, guild_id: int) -> Reply:
        """Every subscription in a server, paused ones with their reason."""
        return replies.server_list(await self.store.list_guild(guild_id), self._labels())

    async def status(self, where: Where) -> Reply:
        """A channel's schedule, next three slots and last post, a newer skip, and any pause;
        when the database cannot be read (or the last pass met a fault), it says so."""
        try:
            sub = await self._find(where)
            if sub is None:
                return replies.not_subscribed()
            upcoming = await self.scheduler.upcoming(sub.channel_id)
            last = await self.store.last_sent(sub.channel_id)
            skipped = await self.store.last_skipped(sub.channel_id)
        except StoreUnavailable as exc:
            return replies.database_unavailable(" ".join(f"{exc}".split()))
        except DATABASE_ERRORS as exc:
            return replies.database_problem(" ".join(f"{exc}".split()))
        reply = replies.status(sub, upcoming, last, self._labels(), skipped)
        problem = self.scheduler.database_problem
        return replies.with_database_problem(reply, problem) if problem else reply

    async def preview(self, where: Where) -> Reply:
        """The digest a channel would get next, privately."""
        sub = await self._find(where)
        reply = await self.scheduler.preview(sub.channel_id) if sub else None
        return reply if reply is not None else replies.not_subscribed()

    async def pause(self, where: Where, user_id: int, until: str | None) -> Reply:
        """Pause a channel's digest, keeping every setting; `until` a date, or until resumed."""
        sub = await self._find(where)
        if sub is None:
            return replies.not_subscribed()
        end: dt.date | None = None
        if until:
            tz = sub.timezone.rules or dt.UTC
            today = self.scheduler.now().astimezone(tz).date()
            try:
                end = parse_date(until, today)
            except ScheduleError as exc:
                return replies.schedule_error(exc.message, exc.suggestions, DATE_EXAMPLES)
        paused = await self.store.pause(sub.channel_id, user_id, end)
        self.scheduler.poke()
        return replies.paused(paused) if paused else replies.not_subscribed()

    async def resume(self, where: Where, bot_permissions: int | None) -> Reply:
        """Resume a paused digest once the bot has every permission the channel kind needs."""
        sub = await self._find(where)
        if sub is None:
            return replies.not_subscribed()
        if bot_permissions is not None:
            missing = limits.missing_permissions(sub.kind.value, bot_permissions)
            if missing:
                return replies.resume_blocked(sub.kind, missing)
        was_paused = not sub.enabled
        resumed = await self.store.resume(sub.channel_id) if was_paused else sub
        self.scheduler.poke()
        if resumed is None:
            return replies.not_subscribed()
        upcoming = await self.scheduler.upcoming(resumed.channel_id)
        return replies.resumed(resumed, upcoming, was_paused)

    async def unmention(self, where: Where) -> Reply:
        """The digest stops mentioning its role (anyone who may change the digest may)."""
        sub = await self._find(where)
        if sub is None:
            return replies.not_subscribed()
        role = sub.mention_role_id
        cleared = await self.store.clear_mention(sub.channel_id)
        return replies.unmentioned(role) if cleared else replies.not_subscribed()

    async def delivery_log(self, where: Where) -> Reply:
        """The channel's last 20 slots, newest first."""
        sub = await self._find(where)
        if sub is None:
            return replies.not_subscribed()
        return replies.delivery_log(sub, await self.store.slot_log(sub.channel_id, 20))

    async def notices(
        self,
        where: Where,
        *,
        channel_id: int | None,
        dm: bool | None,
        can_manage_server: bool,
    ) -> Reply:
        """Where pause notices go: a server channel (Manage Server), and DMs for this channel."""
        if channel_id is not None and not can_manage_server:
            return replies.refused(
                "Manage Server needed",
                "Choosing the server's notices channel needs the Manage Server permission.",
            )
        # Both checks before any change: a refusal never leaves half the command done.
        sub = await self._find(where) if dm is not None else None
        if dm is not None and sub is None:
            return replies.not_subscribed()
        if channel_id is not None:
            await self.store.set_notices_channel(where.guild_id, channel_id)
        if sub is not None and dm is not None:
            await self.store.set_notice_dm(sub.channel_id, dm)
        return replies.notices_set(channel_id, dm)

    @staticmethod
    def time_choices(typed: str) -> list[Choice]:
        """Autocomplete for the time(s) of day: the last one typed, after any before it."""
        before, comma, last = typed.rpartition(",")
        if len([p for p in before.split(",") if p.strip()]) >= MAX_TIMES:
            return []  # a fourth time would be refused
        prefix = f"{before}," if comma else ""
        return [
            Choice(prefix + t, prefix + t)
            for t in time_suggestions(last)
            # Discord refuses the whole answer if one choice is longer than it takes.
            if len(prefix + t) <= min(limits.CHOICE_NAME, limits.CHOICE_VALUE)
        ]

    @staticmethod
    def zone_choices(typed: str) -> list[Choice]:
        """Autocomplete for the time zone."""
        return [Choice(z, z) for z in timezone_suggestions(typed[: limits.CHOICE_VALUE])]


def _times(old: Subscription | None) -> str:
    if old is None:
        return DEFAULT_TIME
    return ",".join(f"{t:%H:%M}" for t in old.slot_times)
