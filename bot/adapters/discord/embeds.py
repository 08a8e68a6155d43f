"""Pure functions that turn a Reply into pages of embeds within Discord's limits.

Nothing is dropped silently: long text is split across fields and pages, and every page says
where it stands ("Page 2/3").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import overload

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
# Text in NFC with none of these (a character `clean` strips, or one an escape needs) and no line
# starting with "-" is its own clean form. Tested with `in` one by one: on a long text that is
# ~15 times faster than a character-class regex (which tries every position).
_UNSAFE = (
    [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, 0x200E, 0x200F)]
    + [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
    + list("_\\~|*`@>[#")
)
# `^\s*-` in MULTILINE mode, as a search that starts only at a newline (fast on long text).
_DASH_AFTER_NEWLINE = re.compile(r"\n\s*-")


def _plain(text: str) -> bool:
    """Whether `clean(text) == text` holds for sure (False: it may or may not)."""
    return (
        not any(c in text for c in _UNSAFE)
        and unicodedata.is_normalized("NFC", text)
        and (
            "-" not in text
            or (_DASH_AFTER_NEWLINE.search(text) is None and not text.lstrip().startswith("-"))
        )
    )


def _same(text: str) -> str:
    return text


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


def _item_text(item: Item, clean: Callable[[str], str] = clean) -> str:
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


def _section_fields(section: Section, *, batch: bool = True) -> list[_Field]:
    """A section as fields of at most 1024 characters, items never split unless huge."""
    heading = clip(clean(section.heading), limits.FIELD_NAME - 12)
    # One check over all of the section's text instead of a clean() per piece (~3 µs each, a
    # list of 500 briefs: 1,500 of them): a line that starts a piece starts a line of the
    # joined text, so if the whole is plain every piece is. Marked text is cleaned piece by
    # piece either way (a slice may start with "-").
    pieces = [section.body or ""]
    pieces += [x for i in section.items for x in (i.label or "", i.detail or "", i.text)]
    clean_piece = _same if batch and _plain("\n".join(pieces)) else clean
    blocks = []
    if section.body:
        blocks.append(clean_piece(section.body))
    blocks += [_item_text(item, clean_piece) for item in section.items]
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


class Pages(Sequence[discord.Embed]):
    """The pages of a reply, each embed drawn when it is first asked for.

    Laying out (cleaning the text and cutting it into fields and pages) is done once, up front:
    it fixes how many pages there are, so every page can say "Page 2/3". Drawing page N from that
    layout is cheap, so a pager keeps this, not N embeds, and draws a page when it is shown.
    """

    def __init__(self, reply: Reply) -> None:
        self._reply = reply
        self._title = clip(clean(reply.title), limits.EMBED_TITLE)
        self._footer = clip(clean(reply.footer), _FOOTER - 20) if reply.footer else ""
        self._layout = _layout(reply, self._title)
        self._drawn: dict[int, discord.Embed] = {}

    def __len__(self) -> int:
        return len(self._layout)

    @overload
    def __getitem__(self, index: int) -> discord.Embed: ...
    @overload
    def __getitem__(self, index: slice) -> list[discord.Embed]: ...
    def __getitem__(self, index: int | slice) -> discord.Embed | list[discord.Embed]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        embed = self._drawn.get(index)
        if embed is None:
            embed = self._drawn[index] = self._draw(index)
        return embed

    def _draw(self, index: int) -> discord.Embed:
        reply = self._reply
        desc, page_fields = self._layout[index]
        embed = discord.Embed(
            title=self._title,
            description=desc or None,
            colour=COLOURS[reply.status],
            url=reply.url,
        )
        for field in page_fields:
            embed.add_field(name=field.name, value=field.value, inline=False)
        count = len(self._layout)
        counter = f"Page {index + 1}/{count}" if count > 1 else ""
        text = " · ".join(x for x in (self._footer, counter) if x)
        if text:
            embed.set_footer(text=text)
        if reply.roles:
            _show_roles(embed, reply.roles)
        return embed


def _layout(reply: Reply, title: str) -> list[tuple[str, list[_Field]]]:
    """The description and fields of every page (what drawing page N needs)."""
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
    return pages


def paginate(reply: Reply) -> Pages:
    """A reply's pages, laid out now and drawn as they are shown (see `Pages`)."""
    return Pages(reply)


def render_pages(reply: Reply) -> list[discord.Embed]:
    """Every page of a reply, each one embed within Discord's limits."""
    return list(Pages(reply))
