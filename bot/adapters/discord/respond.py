"""Send a Reply to an interaction: embeds, paging, privacy, never pinging anyone."""

from __future__ import annotations

import discord
from discord import app_commands

from bot import limits
from bot.adapters.discord.embeds import render_pages
from bot.adapters.discord.views import Pager
from bot.reply import Choice, Reply
from bot.text import clip

NO_MENTIONS = discord.AllowedMentions.none()
# How long page buttons stay live; well inside the 15 minutes an interaction token lasts.
PAGER_TIMEOUT = 300.0
# Set in interaction.extras once a deferred "thinking…" message has been replaced by an answer:
# anything after that is a follow-up, so it cannot overwrite the answer.
_ANSWERED = "briefbot.answered"


class Refused(app_commands.CheckFailure):
    """A check's refusal worded for the member; the tree's error handler shows it as it is."""


async def send_reply(
    interaction: discord.Interaction, reply: Reply, *, ephemeral: bool | None = None
) -> None:
    """Answer with a reply, first response or follow-up, whichever is still possible."""
    pages = render_pages(reply)
    private = reply.private if ephemeral is None else ephemeral
    view = Pager(pages, interaction.user.id, timeout=PAGER_TIMEOUT) if len(pages) > 1 else None
    if _thinking(interaction):
        # Replace the "thinking…" message; its visibility was set by the defer.
        edited = await interaction.edit_original_response(
            embed=pages[0], allowed_mentions=NO_MENTIONS, view=view
        )
        interaction.extras[_ANSWERED] = True
        if view is not None:
            view.message = edited
        return
    if interaction.response.is_done():
        message = await interaction.followup.send(
            embed=pages[0],
            ephemeral=private,
            allowed_mentions=NO_MENTIONS,
            view=view or discord.utils.MISSING,
            wait=True,
        )
        if view is not None:
            view.message = message
        return
    callback = await interaction.response.send_message(
        embed=pages[0],
        ephemeral=private,
        allowed_mentions=NO_MENTIONS,
        view=view or discord.utils.MISSING,
    )
    if view is not None and isinstance(callback.resource, discord.InteractionMessage):
        view.message = callback.resource


async def send_text(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """A short plain-text answer (errors, confirmations)."""
    text = clip(text, limits.CONTENT)
    if _thinking(interaction):
        await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)
        interaction.extras[_ANSWERED] = True
    elif interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(
            text, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS
        )


def _thinking(interaction: discord.Interaction) -> bool:
    """Whether the interaction was deferred with "thinking…" and not answered since."""
    # Discord wants that message edited: a follow-up in its place is the deprecated route.
    return (
        interaction.response.type is discord.InteractionResponseType.deferred_channel_message
        and not interaction.extras.get(_ANSWERED, False)
    )


def to_choices(choices: list[Choice]) -> list[app_commands.Choice[str]]:
    """Autocomplete suggestions in discord.py's terms."""
    return [app_commands.Choice(name=c.name, value=c.value) for c in choices]
