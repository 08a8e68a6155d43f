"""/summary and /briefs: one brief in full, or the list of all of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.briefs.format import brief_date
from bot.briefs.library import Library
from bot.briefs.models import Brief, DateStatus
from bot.queries.resolve import resolve_brief
from bot.reply import Item, Reply, Section, Status
from bot.store.records import AuditAction, AuditEntry
from bot.store.sqlite import Store
from bot.text import first_sentences, plural


def summary(
    library: Library, brief: str | None = None, published: Published | None = None
) -> Reply:
    """Summary, key points and provenance of the chosen brief (default: the latest).

    `published` looks up who published a brief from Discord (the audit trail), if anyone.
    """
    found = resolve_brief(library, brief)
    if isinstance(found, Reply):
        return found
    entry = published(found.id) if published is not None else None
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
        sections=(
            Section("Key points", points),
            Section("Source", body=_provenance(found) + _publication(entry)),
        ),
        footer=f"Brief {found.id} · {brief_date(found)}",
        url=found.source.url,
    )


# Who published a brief from Discord, and when (None: it came from the folder some other way).
Published = Callable[[str], "AuditEntry | None"]


async def summary_published(
    library: Library, store: Store | None, brief: str | None = None
) -> Reply:
    """/summary with "published by … on …" from the audit trail when the bot has a store."""
    found = resolve_brief(library, brief)
    if store is None or isinstance(found, Reply):
        return summary(library, brief)
    entry = await store.last_publication(found.id)
    return summary(library, brief, lambda _: entry)


def _publication(entry: AuditEntry | None) -> str:
    if entry is None:
        return ""
    when = entry.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    verb = "Replaced" if entry.action is AuditAction.REPLACED else "Published"
    return f"\n{verb} by user {entry.user_id} on {when}"


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


# /briefs lists this many, newest first, and says how many older ones there are: past a few
# hundred a paged list is not read, and building it grew with the corpus (docs/benchmarks.md).
LIST_LIMIT = 500


def list_briefs(library: Library) -> Reply:
    """The newest briefs (up to LIST_LIMIT), newest first, and how many there are in all."""
    heads = library.heads(0, LIST_LIMIT)
    total = len(library.briefs)
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
    sections = [Section("Newest first", items)]
    if total > len(items):
        sections.append(
            Section(
                "More",
                body=f"… and {plural(total - len(items), 'older brief')}: find them with "
                "/search, /topic or /quotes.",
            )
        )
    return Reply(
        f"Briefs ({total})",
        sections=tuple(sections),
        footer="Use /summary brief:<id> for one brief in full.",
    )
