"""/search: full text over titles, summaries, key points, quotes and claims, best match first."""

from __future__ import annotations

import datetime as dt
import re

from bot.briefs.format import brief_ref
from bot.briefs.library import Hit, Library, SearchHits
from bot.queries.resolve import resolve_speaker, resolve_topic, shown
from bot.reply import Item, Reply, Section, Status
from bot.text import plural

# Hits shown (paged by the renderers): beyond this, a narrower query serves better.
MAX_HITS = 50
# Words a query may hold: each more is one more list of entries to intersect (a pasted page
# of common words took seconds at 10,000 briefs); a search stopped for time says so too.
MAX_WORDS = 32
_KINDS = {
    "title": "Title",
    "summary": "Summary",
    "point": "Key point",
    "quote": "Quote",
    "claim": "Claim",
}
START, END = "\x02", "\x03"


def marked(text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Text with START…END marks → the plain text and the spans that were marked."""
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    at, opened = 0, -1
    for piece in text.replace(END, START).split(START):
        if opened == -1 and plain:
            opened = at
        elif opened != -1:
            if at > opened:
                spans.append((opened, at))
            opened = -1
        plain.append(piece)
        at += len(piece)
    text = "".join(plain)
    # Neighbouring matches (the words of a phrase) read as one bold run.
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and not text[merged[-1][1] : start].strip():
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return text, tuple(merged)


def _who(hit: Hit) -> str | None:
    """Who said or claimed it: the name, or an unnamed speaker's description marked as such."""
    if hit.speaker is None and hit.unnamed is not None:
        return f"{hit.unnamed} (not named in the source)"
    return hit.speaker


def _date(text: str | None, option: str) -> dt.date | Reply | None:
    if text is None or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return Reply(
            f"/search: {option} must be a date",
            Status.INVALID,
            description=f"{shown(text)} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-05.",
            private=True,
        )


def _too_many_words(query: str) -> Reply | None:
    """A private reply when the query holds more than MAX_WORDS words (operators aside)."""
    count = sum(1 for w in re.findall(r"\w+", query) if w not in ("AND", "OR", "NOT", "NEAR"))
    if count <= MAX_WORDS:
        return None
    return Reply(
        "/search: too many words",
        Status.INVALID,
        description=f"A search takes at most {MAX_WORDS} words; {shown(query)} has "
        f'{count:,}. Keep the few that matter most, or a short "phrase".',
        private=True,
    )


def _nothing(query: str, hits: SearchHits, scope: str, narrowed: str) -> Reply:
    """The private reply when no hit is shown: stopped for time, or nothing matched."""
    if hits.stopped:
        return Reply(
            "/search: stopped, too slow",
            Status.INVALID,
            description=f"Searching {shown(query)} took too long and was stopped. Use fewer or "
            "rarer words, or narrow it with a speaker, a topic or dates.",
            private=True,
        )
    return Reply(
        "No matches",
        Status.NOT_FOUND,
        description=f"Nothing in the briefs matches {shown(query)}"
        + (f" {scope}." if scope else ".")
        + narrowed
        + ' Try fewer words, a prefix (minera*) or a "phrase".',
        private=True,
    )


def search(
    library: Library,
    query: str,
    speaker: str | None = None,
    topic: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Reply:
    """Entries matching the query (words, "phrases", prefix*), best first, each with its match
    in bold, its speaker, brief and date."""
    name = resolve_speaker(library, speaker) if speaker and speaker.strip() else None
    found = resolve_topic(library, topic) if topic and topic.strip() else None
    start, end = _date(since, "since"), _date(until, "until")
    for bad in (_too_many_words(query), name, found, start, end):
        if isinstance(bad, Reply):
            return bad
    assert not isinstance(name, Reply) and not isinstance(found, Reply)
    assert not isinstance(start, Reply) and not isinstance(end, Reply)
    hits = library.search(
        query,
        speaker=name,
        topic=found.id if found is not None else None,
        since=start,
        until=end,
        limit=MAX_HITS,
    )
    scope = " ".join(
        x
        for x in (
            f"by {name}" if name else "",
            f"on {found.label}" if found else "",
            f"since {start}" if start else "",
            f"until {end}" if end else "",
        )
        if x
    )
    narrowed = "".join(
        f" {shown(typed)} starts {total:,} words: only the {len(words)} in the most entries "
        f"were searched ({', '.join(words)}); type more of the word to reach the others."
        for typed, words, total in dict.fromkeys(hits.narrowed)  # a prefix typed twice: once
    )
    if not hits:
        return _nothing(query, hits, scope, narrowed)
    items = []
    for head, hit in hits:
        text, spans = marked(hit.marked)
        if hit.kind == "quote":
            text, spans = f"“{text}”", tuple((a + 1, b + 1) for a, b in spans)
        where = [_KINDS.get(hit.kind, hit.kind)]
        if hit.context:
            where.append(hit.context)
        where.append(brief_ref(head))
        where.append(f"/summary brief:{head.id}")
        items.append(
            Item(
                text,
                label=_who(hit) if hit.kind in ("quote", "claim") else None,
                detail=" · ".join(where),
                marks=spans,
            )
        )
    more = " (the best)" if len(hits) >= MAX_HITS and not hits.ranked else ""
    order = "best first"
    bounded = ""
    if hits.ranked:
        # Ranking every match of a word found everywhere would cost more than the answer.
        more, order = "", "the most recently added first"
        bounded = (
            f" More than {hits.ranked:,} entries match, too many to rank: add words, a "
            "speaker, a topic or dates to narrow it."
        )
    return Reply(
        f"Search: {query.strip()}"[:200],
        description=f"{plural(len(hits), 'match', 'matches')}{more}, {order}"
        + (f", {scope}." if scope else ".")
        + bounded
        + narrowed,
        sections=(Section("Matches", tuple(items)),),
        footer='Words, "phrases" and prefixes (minera*) work; options narrow the search.',
    )
