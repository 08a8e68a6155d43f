"""Draft previews on Discord: the embed, persistent review controls, and the paste modal.

Every control is a `discord.ui.DynamicItem` whose custom id encodes the draft id, registered at
start, so a preview drawn before a restart still works after it; the draft itself is in the
store. Each press defers at once (a publish may take a moment), is judged by the review service
for the member pressing *now*, and answers privately.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, Protocol, Self, cast

import discord

from bot import limits
from bot.adapters.discord.embeds import paginate, render_pages
from bot.adapters.discord.respond import NO_MENTIONS, send_reply, send_text
from bot.reply import Reply
from bot.review.preview import DESCRIBE, Preview
from bot.review.service import DESCRIPTION_LIMIT, Member, Outcome, ReviewService
from bot.text import clip

log = logging.getLogger(__name__)

PREFIX = "briefbot:draft"
# Discord's text inputs hold at most 4,000 characters.
PASTE_LIMIT = 4000


class ReviewHost(Protocol):
    """The client a review control runs in: it carries the review service."""

    review: ReviewService | None


# What each kind of speaker option is, under its label.
_KINDS = {
    "person": "a person of the draft",
    "organisation": "an organisation of the draft",
    "unnamed": "unnamed: as the source describes them",
    "describe": "the source does not name them: type its description",
}


def _service(interaction: discord.Interaction[Any]) -> ReviewService | None:
    return cast(ReviewHost, interaction.client).review


def member_of(interaction: discord.Interaction[Any]) -> Member:
    """The acting member as the review service judges them: roles and Manage Server, now."""
    user = interaction.user
    roles = frozenset(r.id for r in user.roles) if isinstance(user, discord.Member) else frozenset()
    return Member(
        user_id=user.id,
        guild_id=interaction.guild_id,
        role_ids=roles,
        manage_guild=interaction.permissions.manage_guild,
    )


def _page(preview: Preview, page: int) -> tuple[Sequence[discord.Embed], int]:
    pages = paginate(preview.reply)  # only the page shown is drawn
    return pages, max(0, min(page, len(pages) - 1))


def preview_embed(preview: Preview, page: int = 0) -> discord.Embed:
    """One page of the preview (a page past the end shows the last)."""
    pages, page = _page(preview, page)
    return pages[page]


def preview_view(preview: Preview, page: int = 0) -> discord.ui.View:
    """Publish, Discard, Previous/Next for a long preview, and a Fix-speaker select per
    uncertain quote; never times out."""
    view = discord.ui.View(timeout=None)
    draft_id = preview.draft.id
    view.add_item(DraftButton(draft_id, "publish", disabled=not preview.publishable))
    view.add_item(DraftButton(draft_id, "discard"))
    pages, page = _page(preview, page)
    if len(pages) > 1:
        # The same Previous/Next as every paged reply, but persistent: the page is in the id.
        view.add_item(PageButton(draft_id, page - 1, "prev", disabled=page == 0))
        view.add_item(PageButton(draft_id, page + 1, "next", disabled=page >= len(pages) - 1))
    options = [
        discord.SelectOption(
            label=clip(choice.label, 100), value=choice.key, description=_KINDS[choice.kind]
        )
        for choice in preview.speakers
    ]
    if options:
        for quote, label in preview.uncertain:
            view.add_item(SpeakerSelect(draft_id, quote, options, placeholder=label))
    return view


async def deliver_preview(interaction: discord.Interaction[Any], outcome: Outcome) -> None:
    """Show a new draft's preview: in the review channel if the guild has one, else privately."""
    service = _service(interaction)
    preview = outcome.preview
    if preview is None or service is None:
        await send_reply(interaction, outcome.reply, ephemeral=True)
        return
    channel_id = await service.review_channel(preview.draft.guild_id)
    channel = interaction.client.get_channel(channel_id) if channel_id else None
    embed, view = preview_embed(preview), preview_view(preview)
    refused: str | None = None
    if isinstance(channel, discord.abc.Messageable):
        try:
            message = await channel.send(embed=embed, view=view, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            # The draft is stored either way: show it here rather than lose the preview.
            log.warning("review channel %s refused draft %d: %s", channel_id, preview.draft.id, exc)
            refused = _refused_note(channel, channel_id, exc)
        else:
            await service.store.add_preview(preview.draft.id, message.channel.id, message.id)
            await send_text(
                interaction,
                f"Draft #{preview.draft.id} ({preview.draft.brief_id}) is in "
                f"<#{message.channel.id}> for editors to review.",
            )
            return
    message = await interaction.edit_original_response(
        embed=embed, view=view, allowed_mentions=NO_MENTIONS
    )
    await service.store.add_preview(preview.draft.id, message.channel.id, message.id)
    if refused is not None:
        await interaction.followup.send(refused, ephemeral=True, allowed_mentions=NO_MENTIONS)


def _refused_note(channel: object, channel_id: int | None, exc: discord.HTTPException) -> str:
    """Why the review channel did not get a preview, naming the permissions the bot lacks."""
    missing: list[str] = []
    if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        me = channel.guild.me
        if me is not None:
            granted = channel.permissions_for(me).value
            kind = "thread" if isinstance(channel, discord.Thread) else "text"
            missing = limits.missing_permissions(kind, granted)
    why = f"I lack {', '.join(missing)} there" if missing else f"Discord said: {exc.text or exc}"
    return clip(
        f"The review channel <#{channel_id}> refused the preview ({why}), so it is shown here, "
        "to you only; the draft is saved (/brief drafts reopens it). Someone with Manage "
        "Server can fix the channel's permissions or pick another with /brief settings.",
        2000,
    )


async def _after_press(interaction: discord.Interaction[Any], outcome: Outcome) -> None:
    """Redraw or retire the pressed preview, then tell the presser privately."""
    if outcome.preview is not None:
        await interaction.edit_original_response(
            embed=preview_embed(outcome.preview), view=preview_view(outcome.preview)
        )
    elif outcome.closed:
        await interaction.edit_original_response(view=None)
    if outcome.closed:
        pressed = interaction.message.id if interaction.message else None
        await _retire(interaction.client, outcome, pressed)
    if outcome.notice is not None:
        await _tell_staff(interaction.client, *outcome.notice)
    view = discord.utils.MISSING
    if outcome.confirm_replace is not None:
        view = discord.ui.View(timeout=None)
        view.add_item(DraftButton(outcome.confirm_replace, "replace"))
    if outcome.preview is not None and outcome.reply is outcome.preview.reply:
        return  # the redrawn preview is the answer
    pages = render_pages(outcome.reply)
    await interaction.followup.send(
        embed=pages[0], view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
    )


async def _retire(client: discord.Client, outcome: Outcome, pressed: int | None) -> None:
    """Take the controls off the draft's other previews, so nobody presses a dead Publish.

    A preview in a channel is edited through the channel; a private (ephemeral) one can only
    be edited by the interaction that made it, so a press there is refused with why instead.
    """
    note = clip(f"{outcome.reply.title}: this preview is closed.", 200)
    for channel_id, message_id in outcome.retire:
        if message_id == pressed:
            continue
        channel = client.get_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            continue
        try:
            await channel.get_partial_message(message_id).edit(
                content=note, view=None, allowed_mentions=NO_MENTIONS
            )
        except discord.HTTPException as exc:  # private, deleted, or no access: nothing to retire
            log.debug("could not retire preview %d: %s", message_id, exc)


async def _tell_staff(client: discord.Client, channel_id: int, reply: Reply) -> None:
    """Post a notice for staff, pinging nobody; a channel that refuses it is only logged."""
    channel = client.get_partial_messageable(channel_id)
    try:
        await channel.send(embed=render_pages(reply)[0], allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("notices channel %d refused the review notice: %s", channel_id, exc)


async def _page_to(interaction: discord.Interaction[Any], draft_id: int, page: int) -> None:
    """Show another page of the preview, drawn from the stored draft as it is now."""
    await interaction.response.defer()
    service = _service(interaction)
    if service is None:
        await interaction.followup.send(
            "Reviewing drafts is not available: the bot runs without a database.", ephemeral=True
        )
        return
    outcome = await service.show(member_of(interaction), draft_id)
    if outcome.preview is None:
        await _after_press(interaction, outcome)
        return
    await interaction.edit_original_response(
        embed=preview_embed(outcome.preview, page), view=preview_view(outcome.preview, page)
    )


async def _press(
    interaction: discord.Interaction[Any], action: str, draft_id: int, **kw: Any
) -> None:
    """Run one control: defer now, act, answer; an error is a clear private reply."""
    await interaction.response.defer()  # an update of the pressed message, shown to nobody
    service = _service(interaction)
    if service is None:
        await interaction.followup.send(
            "Reviewing drafts is not available: the bot runs without a database.", ephemeral=True
        )
        return
    member = member_of(interaction)
    try:
        if action == "publish":
            outcome = await service.publish(member, draft_id, replace=False)
        elif action == "replace":
            outcome = await service.publish(member, draft_id, replace=True)
        elif action == "discard":
            outcome = await service.discard(member, draft_id)
        elif action == "unnamed":
            outcome = await service.fix_unnamed(member, draft_id, kw["quote"], kw["description"])
        else:
            outcome = await service.fix_speaker(member, draft_id, kw["quote"], kw["key"])
        await _after_press(interaction, outcome)
    except Exception:
        log.exception("review control %s on draft %d failed", action, draft_id)
        await interaction.followup.send(
            "Something went wrong; it has been logged. The draft is unchanged unless a "
            "message said otherwise.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


# Each action's button: its label and style. The custom id (`briefbot:draft:<id>:<action>`)
# is what a preview posted before a restart still carries, so it never changes.
_ACTIONS: dict[str, tuple[str, discord.ButtonStyle]] = {
    "publish": ("Publish", discord.ButtonStyle.success),
    "replace": ("Replace the published brief", discord.ButtonStyle.danger),
    "discard": ("Discard", discord.ButtonStyle.secondary),
}


class DraftButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"{PREFIX}:(?P<id>[0-9]+):(?P<action>publish|replace|discard)",
):
    """Publish, replace (confirm publishing over the same id) or discard a draft."""

    def __init__(self, draft_id: int, action: str, *, disabled: bool = False) -> None:
        label, style = _ACTIONS[action]
        super().__init__(
            discord.ui.Button(
                label=label,
                style=style,
                custom_id=f"{PREFIX}:{draft_id}:{action}",
                disabled=disabled,
            )
        )
        self.draft_id = draft_id
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from its custom id (after a restart too)."""
        return cls(int(match["id"]), match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Run the action, if the presser may."""
        await _press(interaction, self.action, self.draft_id)


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"{PREFIX}:(?P<id>[0-9]+):page:(?P<page>-?[0-9]+):(?P<way>prev|next)",
):
    """Previous or Next page of a long preview; the target page is in the custom id."""

    def __init__(self, draft_id: int, page: int, way: str, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Previous" if way == "prev" else "Next",
                style=discord.ButtonStyle.secondary
                if way == "prev"
                else discord.ButtonStyle.primary,
                custom_id=f"{PREFIX}:{draft_id}:page:{page}:{way}",
                disabled=disabled,
            )
        )
        self.draft_id, self.page = draft_id, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the button from its custom id (after a restart too)."""
        return cls(int(match["id"]), int(match["page"]), match["way"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Turn the page (editors only, like every control of a draft)."""
        await _page_to(interaction, self.draft_id, self.page)


class SpeakerSelect(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]],
    template=rf"{PREFIX}:(?P<id>[0-9]+):speaker:(?P<quote>[0-9]+)",
):
    """Pick the speaker of one uncertain quote."""

    def __init__(
        self,
        draft_id: int,
        quote: int,
        options: list[discord.SelectOption],
        *,
        placeholder: str | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"{PREFIX}:{draft_id}:speaker:{quote}",
                placeholder=clip(placeholder or f"Speaker of quote {quote + 1}", 150),
                options=options[:25],
                min_values=1,
                max_values=1,
            )
        )
        self.draft_id, self.quote = draft_id, quote

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        """Rebuild the select from its custom id and the options on the message."""
        options = item.options if isinstance(item, discord.ui.Select) else []
        return cls(int(match["id"]), int(match["quote"]), list(options))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Give the quote the chosen speaker, or ask for an unnamed speaker's description."""
        values = self.item.values
        if not values:
            await interaction.response.send_message(
                "Pick one speaker from the list.", ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        if values[0] == DESCRIBE:
            await _ask_description(interaction, self.draft_id, self.quote)
            return
        await _press(interaction, "speaker", self.draft_id, quote=self.quote, key=values[0])


async def _ask_description(
    interaction: discord.Interaction[Any], draft_id: int, quote: int
) -> None:
    """Open the description form, unless the presser may not edit drafts (refused privately)."""
    service = _service(interaction)
    refused = await service.refuse(member_of(interaction)) if service is not None else None
    if service is None or refused is not None:
        text = "Reviewing drafts is not available: the bot runs without a database."
        if refused is not None:
            await send_reply(interaction, refused, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
        return
    await interaction.response.send_modal(UnnamedModal(draft_id, quote))


class UnnamedModal(discord.ui.Modal, title="Unnamed speaker"):
    """The source's own description of a speaker it does not name."""

    description: discord.ui.TextInput[UnnamedModal] = discord.ui.TextInput(
        label="How the source describes the speaker",
        max_length=DESCRIPTION_LIMIT,
        placeholder="e.g. a Singapore-based spokesman for Google (never a guessed name)",
    )

    def __init__(self, draft_id: int, quote: int) -> None:
        super().__init__(timeout=900)
        self.draft_id, self.quote = draft_id, quote

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Give the quote this unnamed speaker; the preview it came from is redrawn."""
        await _press(
            interaction,
            "unnamed",
            self.draft_id,
            quote=self.quote,
            description=self.description.value,
        )

    async def on_error(  # type: ignore[override] # discord.py stubs disagree with themselves
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        """Never silent: log it and say so privately."""
        log.error("setting an unnamed speaker failed", exc_info=error)
        await send_text(interaction, "That failed; it has been logged. Please try again.")


REVIEW_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    DraftButton,
    PageButton,
    SpeakerSelect,
)


class PasteModal(discord.ui.Modal, title="Draft a brief from pasted text"):
    """Headline and article text; longer articles go through the file option."""

    headline: discord.ui.TextInput[PasteModal] = discord.ui.TextInput(
        label="Headline", max_length=300
    )
    text: discord.ui.TextInput[PasteModal] = discord.ui.TextInput(
        label="Article text (at most 4,000 characters)",
        style=discord.TextStyle.paragraph,
        max_length=PASTE_LIMIT,
        placeholder="Paste the story. Longer articles: /brief draft file:<.txt or .html>",
    )

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Draft from the pasted text and show the preview."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        service = _service(interaction)
        if service is None:
            await send_text(interaction, "Drafting is not available: the bot has no database.")
            return
        outcome = await service.draft_paste(
            member_of(interaction), self.headline.value, self.text.value
        )
        await deliver_preview(interaction, outcome)

    async def on_error(  # type: ignore[override] # discord.py stubs disagree with themselves
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        """Never silent: log it and say so privately."""
        log.error("drafting from a paste failed", exc_info=error)
        await send_text(interaction, "Drafting failed; it has been logged. Please try again.")
