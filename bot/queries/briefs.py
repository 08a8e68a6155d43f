"""/summary and /briefs: one brief in full, or the list of all of them."""

from __future__ import annotations

from bot.briefs.format import brief_date
from bot.briefs.library import Library
from bot.briefs.models import Brief, DateStatus
from bot.queries.resolve import resolve_brief
from bot.reply import Item, Reply, Section, Status
from bot.text import first_sentences, plural


def summary(library: Library, brief: str | None = None) -> Reply:
    """Summary, key points and provenance of the chosen brief (default: the latest)."""
    found = resolve_brief(library, brief)
    if isinstance(found, Reply):
        return found
    labels = library.topic_names
    points = tuple(
        Item(
            p.text,
            detail="Topics: " + ", ".join(labels.get(t, t) for t in p.topics) if p.topics else None,
        )
        for p in found.key_points
    )
    return Reply(
        title=found.title,
        description=found.summary,
        sections=(Section("Key points", points), Section("Source", body=_provenance(found))),
        footer=f"Brief {found.id} · {brief_date(found)}",
        url=found.source.url,
    )


def _provenance(brief: Brief) -> str:
    source = brief.source
    lines = [
        f"Outlet: {source.outlet or 'not stated in the source'}",
        f"Link: {source.url or 'not stated in the source'}",
    ]
    if source.headline:
        lines.append(f"Headline: {source.headline}")
    date = brief.date
    if date.status is DateStatus.INFERRED:
        lines.append(f"Date: {brief_date(brief)}: {date.basis}")
    elif date.status is DateStatus.UNKNOWN:
        lines.append("Date: unknown" + (f": {date.basis}" if date.basis else ""))
    else:
        lines.append(f"Date: {brief_date(brief)}")
    lines.append(
        f"{plural(len(brief.quotes), 'quote')}, {plural(len(brief.claims), 'claim')}, "
        f"{plural(len(brief.people), 'person', 'people')}"
    )
    return "\n".join(lines)


def list_briefs(library: Library) -> Reply:
    """Every brief, newest first."""
    heads = library.heads()
    if not heads:
        return Reply(
            "Briefs",
            Status.NOT_FOUND,
            description="No briefs are loaded. Add YAML files to the briefs directory.",
        )
    items = tuple(
        Item(
            first_sentences(summary, 200),
            label=head.title,
            detail=f"{head.id} · {brief_date(head)} · {quotes} quotes",
        )
        for head, summary, quotes in heads
    )
    return Reply(
        f"Briefs ({len(items)})",
        sections=(Section("Newest first", items),),
        footer="Use /summary brief:<id> for one brief in full.",
    )
