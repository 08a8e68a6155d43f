"""Feed drafts into review: each becomes a stored draft whose preview goes to the review channel.

The same store rows, preview and controls as `/brief draft` (origin `feed`, naming the feed and
the story's link); how a preview or a notice reaches Discord is handed in, so this is tested
without it. Nothing here publishes: an editor does, with the preview's Publish.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Iterator

from bot.briefs.library import Library
from bot.feeds.draft import FeedDraft
from bot.reply import Reply, Status
from bot.review.preview import Preview
from bot.review.service import ReviewService
from bot.store.feeds import Feed
from bot.store.records import DraftOrigin, NewDraft
from bot.text import clip

log = logging.getLogger(__name__)

# Posts a preview (with its controls) to a channel and remembers the message on the draft.
ShowPreview = Callable[[int, Preview], Awaitable[None]]
# Posts a notice for staff to a channel, pinging nobody.
TellStaff = Callable[[int, Reply], Awaitable[None]]


class PublishedLinks:
    """The canonical source links of the live library's briefs: a story whose link is one of
    them was published already (by a feed draft, an upload, or by hand) and is not drafted."""

    def __init__(self, current: Callable[[], Library]) -> None:
        """`current` gives the live library (a publish reloads it at once)."""
        self.current = current

    def __call__(self) -> Collection[str]:
        """The links, looked up in the live library's index one story at a time (never all of
        them in memory)."""
        return _LiveLinks(self.current)


class _LiveLinks(Collection[str]):
    """Published links asked of the library live at each question: a poll awaits between its
    questions, and a reload meanwhile closes the library it replaces."""

    def __init__(self, current: Callable[[], Library]) -> None:
        self._current = current

    def __contains__(self, link: object) -> bool:
        return link in self._current().published_links()

    def __len__(self) -> int:
        return len(self._current().published_links())

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._current().published_links()))


def origin_name(feed: Feed, draft: FeedDraft) -> str:
    """What the preview says the draft came from: the feed, and the story's link."""
    name = draft.feed_title or feed.title
    where = f"{clip(name, 150)} ({feed.url})" if name else feed.url
    return clip(f"{where}: {draft.link}", 1000)


def pause_notice(feed: Feed, message: str) -> Reply:
    """What the editors are told, once, when a feed is paused."""
    return Reply("Feed paused", Status.ERROR, message)


class ReviewQueue:
    """The bot's draft sink: stored drafts, previews in the guild's review channel."""

    def __init__(self, review: ReviewService, show: ShowPreview, tell: TellStaff) -> None:
        """`show` and `tell` reach the chat (Discord, or a test's list)."""
        self.review = review
        self.show = show
        self.tell = tell

    async def submit(self, feed: Feed, draft: FeedDraft) -> str:
        """Store the draft for review, then post its preview; the draft's id."""
        preview = await self.review.queue_draft(
            NewDraft(
                guild_id=feed.guild_id,
                # The member who added the feed: /brief drafts lists its drafts for them.
                requester_id=feed.created_by,
                brief_id=draft.brief_id,
                brief_yaml=draft.brief_yaml,
                source_text=draft.source_text,
                origin=DraftOrigin.FEED,
                origin_name=origin_name(feed, draft),
                notes=draft.drafted.notes,
            )
        )
        channel = await self.review.review_channel(feed.guild_id)
        if channel is None:
            log.warning(
                "draft %d from feed %s: no review channel set; /brief drafts shows it",
                preview.draft.id,
                feed.url,
            )
        else:
            try:
                await self.show(channel, preview)
            except Exception:  # the draft is kept either way; /brief drafts reopens it
                log.exception("could not post draft %d to channel %d", preview.draft.id, channel)
        return str(preview.draft.id)

    async def notify(self, feed: Feed, message: str) -> None:
        """Tell the guild's staff once (a paused feed): notices channel, else review channel."""
        log.warning("%s", message)
        channel = await self.review.notices_channel(feed.guild_id)
        if channel is None:
            return
        try:
            await self.tell(channel, pause_notice(feed, message))
        except Exception:
            log.exception("could not tell channel %d that feed %s paused", channel, feed.url)
