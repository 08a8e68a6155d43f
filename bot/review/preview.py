"""A draft as a renderer-neutral preview: what an editor checks before publishing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.reply import Item, Reply, Section, Status
from bot.review.publish import Checked
from bot.store.records import Draft
from bot.text import clip, plural

# Discord allows 5 rows of controls: one for the buttons, four for speaker selects.
MAX_SPEAKER_SELECTS = 4


@dataclass(frozen=True, slots=True)
class Preview:
    """The preview reply, and the controls that go with it."""

    draft: Draft
    reply: Reply
    # (quote index, short label) for each uncertain quote that gets a Fix-speaker select.
    uncertain: tuple[tuple[int, str], ...]
    # The speakers a quote may be given, in select order (the select's values are indexes).
    speakers: tuple[str, ...]
    publishable: bool


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def speakers_of(data: dict[str, Any]) -> tuple[str, ...]:
    """Everyone a quote of this draft may be attributed to: its people, then organisations."""
    names = [_text(p.get("name")) for p in data.get("people") or [] if isinstance(p, dict)]
    names += [_text(o.get("name")) for o in data.get("organisations") or [] if isinstance(o, dict)]
    return tuple(dict.fromkeys(n for n in names if n))


def build(
    draft: Draft, data: dict[str, Any], checked: Checked, topic_labels: dict[str, str]
) -> Preview:
    """The preview of a draft, from its data and what the loader said of it."""
    notes = {n.quote: n.reason for n in draft.notes if n.quote >= 0}
    general = tuple(Item(n.reason) for n in draft.notes if n.quote < 0)
    quotes = [q for q in data.get("quotes") or [] if isinstance(q, dict)]
    quote_items = []
    for i, quote in enumerate(quotes):
        speaker = _text(quote.get("speaker"))
        label = f"{i + 1}. {speaker}"
        if i in notes:
            label += f" (uncertain: {notes[i]})"
        kind = "partial" if quote.get("kind") == "partial" else "full"
        quote_items.append(
            Item(f"“{_text(quote.get('text'))}”", label, f"{kind} · {_text(quote.get('context'))}")
        )
    people = tuple(
        Item(_text(p.get("role")) or "role not stated", _text(p.get("name")))
        for p in data.get("people") or []
        if isinstance(p, dict)
    )
    claims = []
    for claim in data.get("claims") or []:
        if not isinstance(claim, dict):
            continue
        figures = ", ".join(
            f"{_text(f.get('value'))} ({_text(f.get('description'))})"
            for f in claim.get("figures") or []
            if isinstance(f, dict)
        )
        claims.append(Item(_text(claim.get("text")), _text(claim.get("claimant")), figures or None))
    topics = ", ".join(topic_labels.get(str(t), str(t)) for t in data.get("topics") or [])
    check_body = (
        "Passes `briefbot check`."
        if checked.ok
        else "Fails `briefbot check`; fix it before publishing:\n"
        + "\n".join(f"• {clip(e, 300)}" for e in checked.errors[:10])
    )
    sections: tuple[Section, ...] = (
        Section("Date", body=_date(data.get("date"))),
        Section(f"Quotes ({len(quotes)})", tuple(quote_items), None if quotes else "No quotes."),
        Section(f"People ({len(people)})", people, None if people else "Nobody named."),
        Section(f"Claims ({len(claims)})", tuple(claims), None if claims else "No claims."),
        Section("Topics", body=topics or "None from the vocabulary."),
        Section("Check", body=check_body),
    )
    if general:
        sections = (*sections[:-1], Section("Review notes", general), sections[-1])
    expires = draft.expires_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    origin = draft.origin.value + (f" {draft.origin_name}" if draft.origin_name else "")
    uncertain_count = plural(len(notes), "uncertain attribution")
    reply = Reply(
        title=clip(f"Draft: {_text(data.get('title')) or draft.brief_id}", 256),
        status=Status.OK if checked.ok else Status.INVALID,
        description=(
            f"Draft #{draft.id} from {origin}; {uncertain_count}. "
            f"Expires {expires} unless published or discarded."
        ),
        sections=sections,
        footer=f"Brief id {draft.brief_id} · publishing writes {draft.brief_id}.yaml",
    )
    uncertain = tuple(
        (i, clip(f"Quote {i + 1}: “{_text(quotes[i].get('text'))}”", 100))
        for i in sorted(notes)
        if i < len(quotes)
    )[:MAX_SPEAKER_SELECTS]
    return Preview(draft, reply, uncertain, speakers_of(data)[:25], checked.ok)


def _date(value: Any) -> str:
    if not isinstance(value, dict):
        return "missing"
    status = _text(value.get("status")) or "missing"
    if status == "unknown":
        return "unknown (the source does not state it; never guessed)"
    basis = f"; basis: {value['basis']}" if value.get("basis") else ""
    return f"{_text(value.get('value'))} ({status}{basis})"
