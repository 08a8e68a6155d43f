"""/quotes: a person's own direct quotes, each with its context."""

from __future__ import annotations

from bot.briefs.format import brief_ref
from bot.briefs.library import Library, QuoteRef
from bot.briefs.models import Quote, QuoteKind
from bot.queries.resolve import resolve_brief, resolve_speaker
from bot.reply import Item, Reply, Section, Status
from bot.text import plural

# /quotes shows this many, newest first, and says how many older ones there are: past a few
# pages a list is not read, and building all of it grew with the corpus (docs/benchmarks.md).
QUOTES_LIMIT = 100


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
    brief = brief if brief is not None and brief.strip() else None
    brief_id = None
    if brief is not None:
        chosen = resolve_brief(library, brief)
        if isinstance(chosen, Reply):
            return chosen
        brief_id = chosen.id
    refs = library.quotes_by(name, brief_id, QUOTES_LIMIT)
    total = library.count_quotes_by(name, brief_id) if len(refs) >= QUOTES_LIMIT else len(refs)
    about = () if refs else library.quotes_about(name, brief_id, QUOTES_LIMIT)
    about_total = (
        library.count_quotes_about(name, brief_id) if len(about) >= QUOTES_LIMIT else len(about)
    )
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
        sections += _more(about_total - len(about), "older quote that mentions them", name)
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
    sections += _more(total - len(refs), "older quote", name)
    return Reply(
        f"Quotes by {name}",
        description=person.role,
        sections=tuple(sections),
        footer=plural(total, "quote"),
    )


def _more(left: int, what: str, name: str) -> list[Section]:
    """Never drop quotes silently: say how many are not shown, and how to find them."""
    if left <= 0:
        return []
    body = (
        f"… and {plural(left, what)}: narrow with brief:, or /search with speaker:{name} "
        "and a word or a date."
    )
    return [Section("More", body=body)]
