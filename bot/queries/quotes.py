"""/quotes: a person's own direct quotes, each with its context."""

from __future__ import annotations

from bot.briefs.format import brief_ref
from bot.briefs.library import Library, QuoteRef
from bot.briefs.models import Quote, QuoteKind
from bot.queries.resolve import resolve_brief, resolve_speaker
from bot.reply import Item, Reply, Section, Status
from bot.text import plural


def quote_item(ref: QuoteRef, *, with_speaker: bool = False) -> Item:
    """A quote as an item: the words, who said them, where."""
    quote = ref.quote
    partial = " (partial quote)" if quote.kind is QuoteKind.PARTIAL else ""
    return Item(
        text=f"“{quote.text}”",
        label=_speaker_label(quote) if with_speaker else None,
        detail=f"{quote.context}{partial} · {brief_ref(ref.brief)}",
    )


def _speaker_label(quote: Quote) -> str:
    """Who said it: the name, or an unnamed speaker's description marked as such."""
    if quote.speaker_name is None:
        return f"{quote.said_by} (not named in the source)"
    return quote.said_by


def quotes(library: Library, speaker: str, brief: str | None = None) -> Reply:
    """Every direct quote by one speaker, newest brief first, optionally within one brief."""
    name = resolve_speaker(library, speaker)
    if isinstance(name, Reply):
        return name
    refs = library.quotes_by(name)
    about = library.quotes_about(name)
    brief = brief if brief is not None and brief.strip() else None
    if brief is not None:
        chosen = resolve_brief(library, brief)
        if isinstance(chosen, Reply):
            return chosen
        refs = tuple(r for r in refs if r.brief.id == chosen.id)
        about = tuple(r for r in about if r.brief.id == chosen.id)
    person = library.speakers[name]
    sections: list[Section] = []
    if refs:
        sections.append(Section(f"Quotes by {name}", tuple(quote_item(r) for r in refs)))
    if about and not refs:
        # Someone never quoted directly (a readout speaks about them) gets the quotes that name
        # them, shown apart under their real speaker: never blur whose words they are.
        sections.append(
            Section(
                f"Not {name}'s words: quotes by others that mention {name}",
                tuple(quote_item(r, with_speaker=True) for r in about),
            )
        )
    if not refs:
        quoted = [s.name for s in library.speakers_ranked if s.quote_count][:5]
        return Reply(
            f"No direct quotes by {name}",
            Status.NOT_FOUND,
            description=f"{name} appears in the briefs but is not directly quoted"
            + (" in that brief." if brief else "."),
            sections=tuple(sections),
            suggestions=tuple(quoted),
            private=not about,
        )
    return Reply(
        f"Quotes by {name}",
        description=person.role,
        sections=tuple(sections),
        footer=plural(len(refs), "quote"),
    )
