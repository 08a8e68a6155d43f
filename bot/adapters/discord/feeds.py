"""Feed drafts on Discord: a preview with its review controls in the review channel, and
notices for staff; both ping nobody.

The review queue (bot/feeds/queue.py) decides what is posted where; this only posts it.
"""

from __future__ import annotations

import logging

import discord

from bot.adapters.discord.embeds import render_pages
from bot.adapters.discord.respond import NO_MENTIONS
from bot.adapters.discord.review import preview_embed, preview_view
from bot.feeds.queue import ReviewQueue
from bot.reply import Reply
from bot.review.preview import Preview
from bot.review.service import ReviewService

log = logging.getLogger(__name__)


def review_queue(client: discord.Client, review: ReviewService) -> ReviewQueue:
    """The bot's feed draft sink: stored drafts whose previews are posted to the review channel."""

    async def show(channel_id: int, preview: Preview) -> None:
        channel = client.get_partial_messageable(channel_id)
        message = await channel.send(
            embed=preview_embed(preview), view=preview_view(preview), allowed_mentions=NO_MENTIONS
        )
        # Remembered so Publish or Discard retires this preview's controls.
        await review.store.add_preview(preview.draft.id, channel_id, message.id)

    async def tell(channel_id: int, reply: Reply) -> None:
        channel = client.get_partial_messageable(channel_id)
        for page in render_pages(reply):
            await channel.send(embed=page, allowed_mentions=NO_MENTIONS)

    return ReviewQueue(review, show, tell)
