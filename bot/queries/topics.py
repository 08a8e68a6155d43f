"""/topic: everything on a topic across all briefs, newest first."""

from __future__ import annotations

from itertools import islice

from bot.briefs.format import brief_ref
from bot.briefs.library import Library
from bot.briefs.models import Claim
from bot.queries.quotes import quote_item
from bot.queries.resolve import resolve_topic
from bot.reply import Item, Reply, Section, Status
from bot.text import plural

# /topic shows this many of each kind (key points, claims, quotes), newest first, and says how
# many older ones there are: building every entry of a big topic grew with the corpus.
TOPIC_LIMIT = 50


def _claimant(claim: Claim) -> str:
    """Who claimed it: the name, or an unnamed claimant's description marked as such."""
    if claim.claimant_name is None:
        return f"{claim.claimed_by} (not named in the source)"
    return claim.claimed_by


def topic(library: Library, name: str) -> Reply:
    """Key points, claims and quotes filed under a topic (by name or alias)."""
    found = resolve_topic(library, name)
    if isinstance(found, Reply):
        return found
    entries = library.on_topic(found.id, TOPIC_LIMIT)
    sections: list[Section] = []
    if entries.points:
        sections.append(
            Section(
                "Key points", tuple(Item(p.text, detail=brief_ref(b)) for b, p in entries.points)
            )
        )
    if entries.claims:
        claims = []
        for brief, claim in entries.claims:
            figures = "; ".join(f"{f.value}: {f.description}" for f in claim.figures)
            where = f" ({claim.context})" if claim.context else ""
            claims.append(
                Item(
                    claim.text,
                    label=f"Claimed by {_claimant(claim)}{where}",
                    detail=" · ".join(
                        x for x in (f"Figures: {figures}" if figures else "", brief_ref(brief)) if x
                    ),
                )
            )
        sections.append(Section("Claims", tuple(claims)))
    if entries.quotes:
        sections.append(
            Section("Quotes", tuple(quote_item(r, with_speaker=True) for r in entries.quotes))
        )
    left = [
        plural(total - len(shown), what)
        for total, shown, what in (
            (entries.point_count, entries.points, "older key point"),
            (entries.claim_count, entries.claims, "older claim"),
            (entries.quote_count, entries.quotes, "older quote"),
        )
        if total > len(shown)
    ]
    if left:
        sections.append(
            Section(
                "More",
                body=f"… and {', '.join(left)}: find them with /search topic:{found.id} "
                "and a word or a date.",
            )
        )
    aliases = ", ".join(found.aliases)
    description = " ".join(
        x for x in (found.description or "", f"Also: {aliases}." if aliases else "") if x
    )
    if not sections:
        in_use = (t for t in library.topics_ranked if library.topic_usage(t.id))
        return Reply(
            f"Topic: {found.label}",
            Status.NOT_FOUND,
            description=(description + "\n\n" if description else "")
            + "No brief covers this topic yet.",
            # Topics that do have briefs (never the one just asked for).
            suggestions=tuple(islice((t.id for t in in_use if t != found), 5)),
            private=True,
        )
    count = entries.brief_count
    return Reply(
        f"Topic: {found.label}",
        description=description or None,
        sections=tuple(sections),
        footer=f"{plural(count, 'brief')} · newest first",
    )
