"""A draft as a renderer-neutral preview: what an editor checks before publishing."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from bot.reply import Item, Reply, Section, Status
from bot.review.publish import Checked
from bot.store.records import Draft
from bot.text import clip, plural

# Discord allows 5 rows of controls: one for the buttons, four for speaker selects.
MAX_SPEAKER_SELECTS = 4
# A select holds at most 25 options.
MAX_OPTIONS = 25
# The option that asks for an unnamed speaker's description (the source's own words).
DESCRIBE = "describe"


@dataclass(frozen=True, slots=True)
class SpeakerChoice:
    """One option of the Fix-speaker select: a person, an organisation, or an unnamed speaker.

    `key` is derived from the speaker itself, not its position, so an option on an older preview
    of the same draft still means the same speaker (or is refused when it no longer exists).
    `ref` is what the quote's `speaker` becomes; None asks the editor for a description.
    """

    label: str
    kind: str  # person, organisation, unnamed, describe
    ref: str | dict[str, str] | None

    @property
    def key(self) -> str:
        """The select option's value."""
        if self.ref is None:
            return DESCRIBE
        shown = self.ref if isinstance(self.ref, str) else self.ref["unnamed"]
        digest = hashlib.sha256(f"{self.kind}\0{shown}".encode()).hexdigest()[:16]
        return f"{self.kind[0]}:{digest}"


@dataclass(frozen=True, slots=True)
class Preview:
    """The preview reply, and the controls that go with it."""

    draft: Draft
    reply: Reply
    # (quote index, short label) for each uncertain quote that gets a Fix-speaker select.
    uncertain: tuple[tuple[int, str], ...]
    # The speakers a quote may be given, in select order.
    speakers: tuple[SpeakerChoice, ...]
    publishable: bool


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def shown_speaker(ref: Any) -> str:
    """A quote's speaker or a claim's claimant as the preview shows it."""
    if isinstance(ref, dict) and "unnamed" in ref:
        return f"{_text(ref['unnamed'])} (not named in the source)"
    return _text(ref)


def _unnamed_of(data: dict[str, Any]) -> list[str]:
    """The unnamed speakers' descriptions the draft already has (quotes, then claims)."""
    refs = [q.get("speaker") for q in data.get("quotes") or [] if isinstance(q, dict)]
    refs += [c.get("claimant") for c in data.get("claims") or [] if isinstance(c, dict)]
    found = [_text(r["unnamed"]).strip() for r in refs if isinstance(r, dict) and "unnamed" in r]
    return [d for d in dict.fromkeys(found) if d]


def speakers_of(data: dict[str, Any]) -> tuple[SpeakerChoice, ...]:
    """Whom a quote of this draft may be given: people, organisations, unnamed speakers.

    The draft's own unnamed descriptions come after its names, and the last option always asks
    for a new description, so "unnamed" is offered however many people the draft lists.
    """
    people = [_text(p.get("name")) for p in data.get("people") or [] if isinstance(p, dict)]
    bodies = [_text(o.get("name")) for o in data.get("organisations") or [] if isinstance(o, dict)]
    named = [SpeakerChoice(n, "person", n) for n in dict.fromkeys(people) if n]
    named += [SpeakerChoice(n, "organisation", n) for n in dict.fromkeys(bodies) if n]
    unnamed = [SpeakerChoice(d, "unnamed", {"unnamed": d}) for d in _unnamed_of(data)]
    describe = SpeakerChoice("Unnamed: describe the speaker…", "describe", None)
    # The draft's unnamed speakers keep a few places however many names it lists.
    unnamed = unnamed[:5]
    return (*named[: MAX_OPTIONS - 1 - len(unnamed)], *unnamed, describe)


def build(
    draft: Draft, data: dict[str, Any], checked: Checked, topic_labels: dict[str, str]
) -> Preview:
    """The preview of a draft, from its data and what the loader said of it."""
    notes = {n.quote: n.reason for n in draft.notes if n.quote >= 0}
    general = tuple(Item(n.reason) for n in draft.notes if n.quote < 0)
    quotes = [q for q in data.get("quotes") or [] if isinstance(q, dict)]
    quote_items = []
    for i, quote in enumerate(quotes):
        speaker = shown_speaker(quote.get("speaker"))
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
        claimant = shown_speaker(claim.get("claimant"))
        claims.append(Item(_text(claim.get("text")), claimant, figures or None))
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
    return Preview(draft, reply, uncertain, speakers_of(data), checked.ok)


def _date(value: Any) -> str:
    if not isinstance(value, dict):
        return "missing"
    status = _text(value.get("status")) or "missing"
    if status == "unknown":
        return "unknown (the source does not state it; never guessed)"
    basis = f"; basis: {value['basis']}" if value.get("basis") else ""
    return f"{_text(value.get('value'))} ({status}{basis})"
