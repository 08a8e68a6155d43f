"""Turning what a user typed into a brief, speaker or topic, with did-you-mean on failure."""

from __future__ import annotations

import difflib

from bot.briefs.library import Library, fold
from bot.briefs.models import Brief, Topic
from bot.queries.reply import Item, Reply, Section, Status

MAX_SUGGESTIONS = 5


def shown(text: str, limit: int = 80) -> str:
    """User input echoed back: quoted, on one line, and clipped (it can be thousands long)."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def close_matches(text: str, labels: list[str], limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Labels that look like `text` (typos, missing letters), best first."""
    # Clip: option values can be thousands of characters, and matching cost grows with length.
    return difflib.get_close_matches(fold(text)[:100], labels, n=limit, cutoff=0.6)


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
    labels = [label for label, _ in library.brief_labels]
    ids = dict(library.brief_labels)
    guesses = list(dict.fromkeys(ids[m] for m in close_matches(text, labels)))
    latest = [b.id for b in library.briefs[:MAX_SUGGESTIONS]]
    return _not_found(
        "Brief", f"No brief is called {shown(text)}.", guesses, "Latest briefs", latest
    )


def resolve_topic(library: Library, text: str) -> Topic | Reply:
    """The topic a user named by id, label or alias, or a reply saying what exists."""
    topic = library.topic(text)
    if topic is not None:
        return topic
    labels = library.topic_labels
    guesses = list(dict.fromkeys(labels[m].id for m in close_matches(text, list(labels))))
    in_use = [t.id for t in library.topics_ranked[:MAX_SUGGESTIONS]]
    return _not_found(
        "Topic", f"No topic is called {shown(text)}.", guesses, "Topics in use", in_use
    )


def resolve_speaker(library: Library, text: str) -> str | Reply:
    """The canonical name of the person a user named, or a reply saying who exists."""
    names = library.speakers_named(text)
    if len(names) == 1:
        return names[0]
    if len(names) > 1:
        return Reply(
            "Which person?",
            Status.INVALID,
            description=f"{shown(text)} could mean more than one person.",
            sections=(_listing("Choose one", list(names)),),
            suggestions=names,
            private=True,
        )
    matches = close_matches(text, library.speaker_labels)
    guesses = list(dict.fromkeys(n for m in matches for n in library.speakers_named(m)))
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
