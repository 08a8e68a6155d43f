"""Where the bot's feed drafts go: kept, then previewed in the review channel.

Until drafts are store rows (review), each draft is written through the same sink as
`briefbot feeds poll`, under the data folder, and its preview names the file.
"""

from __future__ import annotations

import logging

import discord

from bot.adapters.discord.embeds import render_pages
from bot.adapters.discord.respond import NO_MENTIONS
from bot.feeds.article import FeedDraft
from bot.feeds.files import DirectorySink
from bot.feeds.service import draft_preview, pause_notice
from bot.reply import Reply
from bot.store.feeds import Feed

log = logging.getLogger(__name__)


class ReviewChannelSink:
    """Keeps each draft, then posts its preview (and pause notices) to the review channel."""

    def __init__(
        self, client: discord.Client, files: DirectorySink, review_channel_id: int | None
    ) -> None:
        """No review channel: drafts are kept and logged, not posted."""
        self.client = client
        self.files = files
        self.review_channel_id = review_channel_id

    async def submit(self, feed: Feed, draft: FeedDraft) -> str:
        """Keep the draft, then show it for review; its id."""
        draft_id = await self.files.submit(feed, draft)
        await self._post(draft_preview(feed, draft.title, draft.link, draft.topics, draft_id))
        return draft_id

    async def notify(self, feed: Feed, message: str) -> None:
        """Tell the editors once (a paused feed)."""
        log.warning("%s", message)
        await self._post(pause_notice(feed, message))

    async def _post(self, reply: Reply) -> None:
        if self.review_channel_id is None:
            return
        channel = self.client.get_partial_messageable(self.review_channel_id)
        try:
            for page in render_pages(reply):
                await channel.send(embed=page, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            # The draft is kept either way; a missing post is logged, never fatal.
            log.exception("could not post to the review channel %s", self.review_channel_id)
