"""Deliver digests to Discord channels: the scheduler's Poster, in discord.py terms."""

from __future__ import annotations

import logging

import discord

from bot.adapters.discord.embeds import render_pages
from bot.adapters.discord.respond import NO_MENTIONS
from bot.queries.reply import Reply
from bot.services.scheduler import NONCE_MAX, DeliveryForbidden, DeliveryGone

log = logging.getLogger(__name__)


class DiscordPoster:
    """Posts digests with a nonce Discord deduplicates; names failures the scheduler acts on."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def post(self, channel_id: int, reply: Reply, nonce: str) -> int:
        """Send the digest; return the id of its (first) message."""
        # No fetch first: a partial messageable costs no request, and a missing channel
        # shows up as the send's own 404.
        channel = self.client.get_partial_messageable(channel_id)
        pages = render_pages(reply)
        first: int | None = None
        for number, page in enumerate(pages, start=1):
            # Each page is its own idempotent send: page 1 uses the slot's nonce, later pages a
            # suffix of it, so a retried digest never duplicates any page.
            page_nonce = nonce if number == 1 else f"{nonce}/{number}"[-NONCE_MAX:]
            try:
                message = await channel.send(
                    embed=page, nonce=page_nonce, allowed_mentions=NO_MENTIONS
                )
            except discord.NotFound as exc:
                raise DeliveryGone(f"{exc.text} ({exc.status})") from exc
            except discord.Forbidden as exc:
                raise DeliveryForbidden(f"{exc.text} ({exc.status})") from exc
            first = first if first is not None else message.id
        assert first is not None
        return first
