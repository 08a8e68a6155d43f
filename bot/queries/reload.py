"""/reload: pick up edited briefs now, and say what changed and what is broken."""

from __future__ import annotations

from bot.briefs.reloader import LiveLibrary, ReloadReport
from bot.reply import Item, Reply, Section, Status
from bot.text import plural


async def reload(library: LiveLibrary) -> Reply:
    """Reload every brief from disk; the answer for the admin who asked."""
    return reload_reply(await library.reload())


def reload_reply(report: ReloadReport) -> Reply:
    """What a reload did, for the admin who asked."""
    changes = [
        Item(", ".join(ids), label=label)
        for label, ids in (
            ("Added", report.added),
            ("Removed", report.removed),
            ("Updated", report.updated),
        )
        if ids
    ]
    sections = [Section("Changes", tuple(changes))] if changes else []
    if report.errors:
        sections.append(
            Section(
                f"Errors ({len(report.errors)}): last good versions stay live",
                tuple(Item(str(e)) for e in report.errors),
            )
        )
    return Reply(
        "Briefs reloaded",
        Status.OK if not report.errors else Status.INVALID,
        description=f"{plural(report.total, 'brief')} live."
        + ("" if changes else " Nothing changed."),
        sections=tuple(sections),
    )
