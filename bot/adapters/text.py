"""Render a Reply as plain text for the console."""

from __future__ import annotations

import datetime as dt
import textwrap

from bot.briefs.excerpt import escape_controls
from bot.clock import Zone
from bot.reply import Reply, Status, render_timestamps

_WIDTH = 100


def _wrap(text: str, indent: str, first: str | None = None) -> str:
    lines = []
    # Escaped before wrapping, so an escaped control character counts in the width.
    for paragraph in escape_controls(text).splitlines() or [""]:
        lines.append(
            textwrap.fill(
                paragraph,
                _WIDTH,
                initial_indent=indent if first is None else first,
                subsequent_indent=indent,
            )
            or indent.rstrip()
        )
    return "\n".join(lines)


def _marked(text: str, marks: tuple[tuple[int, int], ...]) -> str:
    """Marked spans (a search match) between ** as in Markdown."""
    for start, end in reversed(marks):
        text = f"{text[:start]}**{text[start:end]}**{text[end:]}"
    return text


def render(reply: Reply) -> str:
    """The whole reply as text; nothing is paged or cut in the console."""
    out = [reply.title, "=" * min(len(reply.title), _WIDTH)]
    if reply.description:
        out += [_wrap(reply.description, ""), ""]
    for section in reply.sections:
        out.append(f"## {section.heading}")
        if section.body:
            out.append(_wrap(section.body, "  "))
        for item in section.items:
            text = _marked(item.text, item.marks)
            if item.label:
                out.append(_wrap(item.label, "  "))
                out.append(_wrap(text, "    "))
            else:
                out.append(_wrap(text, "    ", first="  - "))
            if item.detail:
                out.append(_wrap(f"— {item.detail}", "      "))
        out.append("")
    if reply.status is not Status.OK and reply.suggestions:
        out.append("Suggestions: " + ", ".join(reply.suggestions))
    if reply.url:
        out.append(f"Link: {reply.url}")
    if reply.footer:
        out.append(reply.footer)
    # Brief text may hold what a terminal obeys (escape sequences): printed escaped, visibly.
    text = escape_controls("\n".join(out)).rstrip() + "\n"
    # Timestamps print in the reply's zone (a channel's), else UTC.
    zone = Zone.stored(reply.zone).rules if reply.zone else None
    return render_timestamps(text, zone or Zone.named("UTC").rules or _utc())


def _utc() -> dt.tzinfo:
    return dt.UTC
