"""Deliver digests to Discord channels: the scheduler's Poster, in discord.py terms."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

import aiohttp
import discord

from bot import limits
from bot.adapters.discord.embeds import render_pages
from bot.adapters.discord.respond import NO_MENTIONS
from bot.digest.scheduler import (
    Delivery,
    DeliveryError,
    DeliveryForbidden,
    DeliveryGone,
    Notice,
)
from bot.store.records import ChannelKind

log = logging.getLogger(__name__)

# Discord allows a bot 50 requests/s in all. discord.py does not pace itself against that
# global limit: it sends until Discord answers 429, then sleeps. A fan-out to thousands of
# channels then draws a 429 for almost every other request (Discord bans an IP for an hour after
# 10,000 invalid requests in 10 minutes), and a send that meets five 429s in a row fails.
# Pacing digests a little under the limit leaves room for the bot's other requests and for
# jitter in when requests reach Discord, and costs nothing in throughput.
DIGEST_REQUESTS_PER_SECOND = 48.0


class Pacer:
    """Spaces callers evenly at `per_second`: each `wait()` returns one interval after the last."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`clock` and `sleep` default to the event loop's; tests pass fakes."""
        if per_second <= 0:
            raise ValueError(f"per_second must be positive, got {per_second}")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0  # clock time of the next free slot

    async def wait(self) -> None:
        """Return at this caller's turn (at once when the pacer has been idle)."""
        now = self._clock() if self._clock is not None else asyncio.get_running_loop().time()
        # Reserve the slot before sleeping, so concurrent callers queue up behind each other.
        turn = max(now, self._next)
        self._next = turn + self.interval
        if turn > now:
            await self._sleep(turn - now)


# Set while a digest is being posted: HTTP 429s met in that context are the digest's.
_POSTING_DIGEST: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "posting_digest", default=False
)


def digest_rate_limit_trace(count: Callable[[], None]) -> aiohttp.TraceConfig:
    """An aiohttp trace (discord.py's `http_trace`) calling `count` per 429 met by a digest."""
    # discord.py sleeps and retries 429s inside its HTTP client, so the poster never sees
    # them; the trace runs in the sending task's context, where the flag tells digests apart.
    trace = aiohttp.TraceConfig()

    async def on_end(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        del session, context
        if params.response.status == 429 and _POSTING_DIGEST.get():
            count()

    trace.on_request_end.append(on_end)
    return trace


# Discord's JSON error codes the poster acts on (developers/topics/opcodes-and-status-codes).
ARCHIVED_THREAD = 50083
LOCKED_THREAD = 160005
CANNOT_DM = 50007
ALREADY_CROSSPOSTED = 40033
# How many of a forum's most recently archived posts a resumed forum claim looks through.
FORUM_SEARCH = 50


def _mentions(delivery: Delivery) -> tuple[str | None, discord.AllowedMentions]:
    """The content and allowed_mentions of a digest: no one, or exactly the subscription's role."""
    role = delivery.mention_role_id
    if role is None:
        return None, NO_MENTIONS
    return f"<@&{role}>", discord.AllowedMentions(
        everyone=False, users=False, roles=[discord.Object(role)], replied_user=False
    )


def _refused(exc: discord.HTTPException) -> DeliveryError:
    """A send Discord refused for good, as the reason the subscription is paused."""
    what = f"{exc.text} ({exc.status})"
    if isinstance(exc, discord.NotFound):
        return DeliveryGone(what, "the channel was deleted: subscribe another channel")
    return DeliveryForbidden(
        what,
        "give the bot View Channel, Send Messages (in a thread: Send Messages in Threads) and "
        "Embed Links in that channel",
    )


class DiscordPoster:
    """Posts digests with a nonce Discord deduplicates; names failures the scheduler acts on."""

    def __init__(
        self,
        client: discord.Client,
        *,
        per_second: float | None = None,
        shared: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`per_second` defaults to DIGEST_REQUESTS_PER_SECOND; 0 sends unpaced. `shared`
        waits for a turn in the budget every process on the database shares (SharedPacer)."""
        self.client = client
        rate = DIGEST_REQUESTS_PER_SECOND if per_second is None else per_second
        self.pacer = Pacer(rate) if rate > 0 else None
        self.shared = shared

    async def _pace(self) -> None:
        # Every request to Discord takes a turn: this process's own pacer, then the budget
        # shared with the other processes on the same database.
        if self.pacer is not None:
            await self.pacer.wait()
        if self.shared is not None:
            await self.shared()

    async def post(self, delivery: Delivery) -> int:
        """Send the digest; return the id of its (first) message."""
        flag = _POSTING_DIGEST.set(True)
        try:
            return await self._post(delivery)
        finally:
            _POSTING_DIGEST.reset(flag)

    async def _post(self, delivery: Delivery) -> int:
        try:
            if delivery.kind is ChannelKind.FORUM:
                return await self._post_forum(delivery)
            try:
                return await self._send_pages(delivery.channel_id, delivery)
            except discord.HTTPException as exc:
                if exc.code == LOCKED_THREAD:
                    # A moderator locked the thread: only they (or Manage Threads) can reopen
                    # it, so a retry cannot help.
                    raise DeliveryError(
                        f"the thread is locked ({exc.text})",
                        "unlock the thread, or give the bot Manage Threads",
                    ) from exc
                if exc.code != ARCHIVED_THREAD:
                    raise
            await self._unarchive(delivery.channel_id)
            return await self._send_pages(delivery.channel_id, delivery)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise _refused(exc) from exc

    async def _send_pages(
        self, channel_id: int, delivery: Delivery, *, skip_first: bool = False
    ) -> int:
        # No fetch first: a partial messageable costs no request, and a missing channel
        # shows up as the send's own 404.
        channel = self.client.get_partial_messageable(channel_id)
        pages = render_pages(delivery.reply)
        content, mentions = _mentions(delivery)
        first: int | None = None
        for number, page in enumerate(pages, start=1):
            if skip_first and number == 1:
                continue
            # Each page is its own idempotent send: page 1 uses the slot's nonce, later pages a
            # suffix of it, so a retried digest never duplicates any page.
            nonce = delivery.nonce if number == 1 else f"{delivery.nonce}/{number}"[-limits.NONCE :]
            await self._pace()
            message = await channel.send(
                content=content if number == 1 else None,
                embed=page,
                nonce=nonce,
                allowed_mentions=mentions if number == 1 else NO_MENTIONS,
            )
            if number == 1 and delivery.publish:
                await self._publish(message)
            first = first if first is not None else message.id
        return first if first is not None else channel_id

    async def _publish(self, message: discord.Message) -> None:
        """Crosspost to the following servers; a failure is logged: the digest is posted."""
        await self._pace()
        try:
            await message.publish()
        except discord.HTTPException as exc:
            if exc.code != ALREADY_CROSSPOSTED:
                log.warning("channel %d: digest not published: %s", message.channel.id, exc)

    async def _unarchive(self, thread_id: int) -> None:
        """Unarchive a thread the digest goes to, or say why the bot may not."""
        await self._pace()
        try:
            await self.client.http.edit_channel(thread_id, archived=False)
        except discord.Forbidden as exc:
            raise DeliveryError(
                f"the thread is archived and the bot may not unarchive it ({exc.text})",
                "unarchive the thread (a locked thread needs Manage Threads for the bot)",
            ) from exc
        log.info("thread %d: unarchived for its digest", thread_id)

    async def _post_forum(self, delivery: Delivery) -> int:
        """A new post in the forum, titled with the slot and its number of briefs."""
        await self._pace()
        forum = await self.client.fetch_channel(delivery.channel_id)
        if not isinstance(forum, discord.ForumChannel):
            raise DeliveryError(
                "the channel is no longer a forum", "subscribe again in that channel"
            )
        title = delivery.title or delivery.reply.title
        if delivery.resumed:
            # Forum posts carry no nonce: an interrupted attempt may have created the post.
            found = await self._find_post(forum, title)
            if found is not None:
                log.info("forum %d: post %r already made (%d)", forum.id, title, found)
                return found
        tags: list[discord.ForumTag] = []
        if forum.flags.require_tag:
            usable = [t for t in forum.available_tags if not t.moderated]
            if not usable:
                raise DeliveryError(
                    "the forum requires a tag and has none the bot may apply",
                    "add a tag that is not moderator-only, or turn off Require Tags",
                )
            tags = usable[:1]
        pages = render_pages(delivery.reply)
        content, mentions = _mentions(delivery)
        await self._pace()
        created = await forum.create_thread(
            name=title[:100],
            content=content or discord.utils.MISSING,
            embed=pages[0],
            allowed_mentions=mentions,
            applied_tags=tags or discord.utils.MISSING,
        )
        if len(pages) > 1:
            await self._send_pages(created.thread.id, delivery, skip_first=True)
        return created.message.id

    async def _find_post(self, forum: discord.ForumChannel, title: str) -> int | None:
        """The bot's post titled `title` in the forum, live or archived (None: not made)."""
        me = self.client.user

        def ours(thread: discord.Thread) -> bool:
            return (
                thread.parent_id == forum.id
                and thread.name == title[:100]
                and (me is None or thread.owner_id == me.id)
            )

        await self._pace()
        for thread in await forum.guild.active_threads():
            if ours(thread):
                return thread.id
        # A forum may auto-archive posts after an hour, well within the grace window: the
        # newest archived posts are searched too (the slot's post is among the latest).
        await self._pace()
        async for thread in forum.archived_threads(limit=FORUM_SEARCH):
            if ours(thread):
                return thread.id
        return None

    async def notify(self, notice: Notice) -> str:
        """Tell the notices channel, else the member who subscribed; never raises for Discord."""
        embed = render_pages(notice.reply)[0]
        if notice.notices_channel_id is not None:
            channel = self.client.get_partial_messageable(notice.notices_channel_id)
            try:
                await channel.send(embed=embed, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                log.warning(
                    "notices channel %d refused the pause notice: %s",
                    notice.notices_channel_id,
                    exc,
                )
            else:
                return f"told in channel {notice.notices_channel_id}"
        if notice.dm_user_id is None:
            return "nobody to tell (no notices channel; direct messages turned off)"
        try:
            user = await self.client.fetch_user(notice.dm_user_id)
            dm = await user.create_dm()
            await dm.send(embed=embed, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            if exc.code == CANNOT_DM:
                # Nobody else is told: the operator's log is where this pause is seen.
                log.warning(
                    "member %d does not accept direct messages: the pause notice for "
                    "channel %d was not delivered",
                    notice.dm_user_id,
                    notice.channel_id,
                )
                return f"member {notice.dm_user_id} blocks direct messages"
            log.warning("could not DM member %d: %s", notice.dm_user_id, exc)
            return f"direct message failed: {exc}"
        return f"told member {notice.dm_user_id} by direct message"
