"""Turning what a user typed into a brief, speaker or topic, with did-you-mean on failure."""

from __future__ import annotations

from bot.briefs.library import Library
from bot.briefs.models import Brief, Topic
from bot.reply import Item, Reply, Section, Status
from bot.text import clip, fold

MAX_SUGGESTIONS = 5


def shown(text: str, limit: int = 80) -> str:
    """User input echoed back: quoted, on one line, and clipped (it can be thousands long)."""
    return repr(clip(" ".join(text.split()), limit))


def typed(text: str) -> str:
    """What a user typed as a did-you-mean key: folded, and clipped."""
    # Clip: option values can be thousands of characters, and matching cost grows with length.
    return fold(text)[:100]


def resolve_brief(library: Library, text: str | None) -> Brief | Reply:
    """The brief a user named (default: the latest), or a reply saying what exists."""
    if text is None or not text.strip():
        if library.latest is None:
            return Reply(
                "No briefs", Status.NOT_FOUND, description="No briefs are loaded yet.", private=True
            )
        return library.latest
    brief = library.find_brief(text)
    if brief is not None:
        return brief
    matches = library.brief_index.like(typed(text), MAX_SUGGESTIONS)
    guesses = list(dict.fromkeys(library.brief_id_for_label(m) for m in matches))
    latest = [head.id for head, _, _ in library.heads(0, MAX_SUGGESTIONS)]
    return _not_found(
        "Brief", f"No brief is called {shown(text)}.", guesses, "Latest briefs", latest
    )


def resolve_topic(library: Library, text: str) -> Topic | Reply:
    """The topic a user named by id, label or alias, or a reply saying what exists."""
    topic = library.topic(text)
    if topic is not None:
        return topic
    # A unique prefix or whole word of one topic's label or alias names it ("india").
    partial = {t.id: t for t in library.topic_index.partial(typed(text))}
    if len(partial) == 1:
        return next(iter(partial.values()))
    matches = library.topic_index.like(typed(text), MAX_SUGGESTIONS)
    guesses = list(dict.fromkeys(library.topic_for_label(m).id for m in matches))
    in_use = [t.id for t in library.topics_ranked[:MAX_SUGGESTIONS]]
    return _not_found(
        "Topic", f"No topic is called {shown(text)}.", guesses, "Topics in use", in_use
    )


def resolve_speaker(library: Library, text: str) -> str | Reply:
    """The canonical name of the person a user named, or a reply saying who exists."""
    names = library.speakers_named(text)
    if len(names) == 1:
        return names[0]
    if not names:
        # A unique prefix or whole word of one person's name or alias names them. Not an
        # organisation's: its words are generic ("Ministry", "Bank"), and a quote must never be
        # given to a body the user did not name (by its name or an alias).
        partial = library.speaker_index.partial(typed(text))
        if len(partial) == 1 and not library.speakers[partial[0]].organisation:
            return partial[0]
    if len(names) > 1:
        return Reply(
            "Which person?",
            Status.INVALID,
            description=f"{shown(text)} could mean more than one person.",
            sections=(_listing("Choose one", list(names)),),
            suggestions=names,
            private=True,
        )
    matches = library.speaker_index.like(typed(text), MAX_SUGGESTIONS)
    guesses = list(dict.fromkeys(n for m in matches for n in library.speaker_index.get(m)))
    quoted = [s.name for s in library.speakers_ranked if s.quote_count][:MAX_SUGGESTIONS]
    message = f"No one called {shown(text)} appears in any brief."
    return _not_found("Speaker", message, guesses[:MAX_SUGGESTIONS], "Most quoted", quoted)


def _not_found(
    what: str, message: str, guesses: list[str], fallback_heading: str, fallback: list[str]
) -> Reply:
    """A private reply: what was not found, then close guesses or, failing those, what exists."""
    heading, names = ("Did you mean", guesses) if guesses else (fallback_heading, fallback)
    return Reply(
        f"{what} not found",
        Status.NOT_FOUND,
        description=message,
        sections=(_listing(heading, names),),
        suggestions=tuple(names),
        private=True,
    )


def _listing(heading: str, names: list[str]) -> Section:
    return Section(heading, tuple(Item(n) for n in names))
