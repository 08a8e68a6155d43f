"""Pure functions that turn a Reply into pages of embeds within Discord's limits.

Nothing is dropped silently: long text is split across fields and pages, and every page says
where it stands ("Page 2/3").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import discord

from bot import limits
from bot.reply import Item, Reply, Section, Status
from bot.text import clip

COLOURS = {
    Status.OK: discord.Colour.blurple(),
    Status.NOT_FOUND: discord.Colour.orange(),
    Status.INVALID: discord.Colour.orange(),
    Status.ERROR: discord.Colour.red(),
}
# Title (256) + footer (clipped to 300 with the counter) + description and fields stay under
# the 6000 total with room to spare.
_FOOTER = 300
_PAGE_BUDGET = limits.EMBED_TOTAL - limits.EMBED_TITLE - _FOOTER - 400
_FIELD_BUDGET = limits.FIELD_VALUE
_FIELDS_PER_PAGE = 10
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# Every pattern escape_markdown and escape_mentions act on needs one of these characters, or a
# line starting with "-"; text without any (most prose) skips their costly regexes unchanged.
_NEEDS_ESCAPE = re.compile(r"[_\\~|*`@>\[#]")
_DASH_LINE = re.compile(r"^\s*-", re.MULTILINE)


def clean(text: str) -> str:
    """Text safe to show: no control or bidi-override characters, markdown and mentions inert."""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    if _NEEDS_ESCAPE.search(text) is None and ("-" not in text or not _DASH_LINE.search(text)):
        return text
    # Mentions never ping (allowed_mentions is none everywhere); escaping also stops them
    # rendering as pings, so a quote reading "@everyone" looks like what it is.
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def _chunks(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit`, at line or word breaks where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _item_text(item: Item) -> str:
    lines = []
    if item.label:
        lines.append(f"**{clean(item.label)}**")
    lines.append(_marked(item.text, item.marks) if item.marks else clean(item.text))
    if item.detail:
        lines.append(f"*— {clean(item.detail)}*")
    return "\n".join(lines)


def _marked(text: str, marks: tuple[tuple[int, int], ...]) -> str:
    """Text with its marked spans in bold; every piece escaped on its own, so no text (even
    asterisks in the match) can open or close the bold."""
    out, at = [], 0
    for start, end in marks:
        out.append(clean(text[at:start]))
        out.append(f"**{clean(text[start:end])}**")
        at = end
    out.append(clean(text[at:]))
    return "".join(out)


@dataclass
class _Field:
    name: str
    value: str


def _section_fields(section: Section) -> list[_Field]:
    """A section as fields of at most 1024 characters, items never split unless huge."""
    heading = clip(clean(section.heading), limits.FIELD_NAME - 12)
    blocks = []
    if section.body:
        blocks.append(clean(section.body))
    blocks += [_item_text(item) for item in section.items]
    values: list[str] = []
    current = ""
    for block in blocks:
        for piece in _chunks(block, _FIELD_BUDGET):
            joined = f"{current}\n\n{piece}" if current else piece
            if len(joined) <= _FIELD_BUDGET:
                current = joined
            else:
                values.append(current)
                current = piece
    if current:
        values.append(current)
    return [
        _Field(heading if i == 0 else f"{heading} (cont.)", value) for i, value in enumerate(values)
    ] or [_Field(heading, "—")]


def _show_roles(embed: discord.Embed, roles: tuple[int, ...]) -> None:
    """Let the roles the bot named itself show as roles: `clean` made every mention inert."""
    escaped = {f"<@\u200b&{r}>": f"<@&{r}>" for r in roles}

    def show(text: str) -> str:
        for inert, role in escaped.items():
            text = text.replace(inert, role)
        return text

    if embed.description:
        embed.description = show(embed.description)
    for index, field in enumerate(embed.fields):
        embed.set_field_at(
            index, name=field.name or "", value=show(field.value or ""), inline=field.inline
        )


def render_pages(reply: Reply) -> list[discord.Embed]:
    """Every page of a reply, each one embed within Discord's limits."""
    colour = COLOURS[reply.status]
    title = clip(clean(reply.title), limits.EMBED_TITLE)
    description = clean(reply.description) if reply.description else ""
    desc_pages = _chunks(description, limits.EMBED_DESCRIPTION - 100) or [""]
    fields = [f for section in reply.sections for f in _section_fields(section)]
    if reply.status is not Status.OK and reply.suggestions:
        text = ", ".join(clean(s) for s in reply.suggestions)
        fields += [_Field("Suggestions", v) for v in _chunks(text, _FIELD_BUDGET)]

    pages: list[tuple[str, list[_Field]]] = [(d, []) for d in desc_pages]
    size = len(title) + len(pages[-1][0])
    for field in fields:
        last = pages[-1][1]
        cost = len(field.name) + len(field.value)
        if last and (size + cost > _PAGE_BUDGET or len(last) >= _FIELDS_PER_PAGE):
            pages.append(("", []))
            size = len(title)
        pages[-1][1].append(field)
        size += cost

    footer = clip(clean(reply.footer), _FOOTER - 20) if reply.footer else ""
    embeds = []
    for number, (desc, page_fields) in enumerate(pages, start=1):
        embed = discord.Embed(title=title, description=desc or None, colour=colour, url=reply.url)
        for field in page_fields:
            embed.add_field(name=field.name, value=field.value, inline=False)
        counter = f"Page {number}/{len(pages)}" if len(pages) > 1 else ""
        text = " · ".join(x for x in (footer, counter) if x)
        if text:
            embed.set_footer(text=text)
        if reply.roles:
            _show_roles(embed, reply.roles)
        embeds.append(embed)
    return embeds
