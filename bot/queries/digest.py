"""The daily digest: which briefs a channel gets today, as a renderer-neutral Reply.

Rules:

* A brief is *eligible* when it has not been sent to the channel yet and matches the
  subscription's topics: any of the brief's topics is subscribed (no topics: every brief).
* Eligible briefs are shown in the order given (the library's: newest first), at most `cap`.
* Only the briefs actually shown are marked sent. The rest stay eligible and come in the next
  digest; this one says how many are waiting and that `/briefs` lists them now.
* **First digest** (nothing was ever sent to the channel): it shows the `cap` latest eligible
  briefs, so a new subscriber sees at once that it works, and marks every eligible brief older
  than those delivered too, so the archive is not drip-fed over the following days. It says
  how many older briefs there are and that `/briefs` lists them.
* Nothing eligible: no digest (None). An empty digest is never posted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from bot.briefs.models import Brief
from bot.queries.format import brief_date, first_sentences
from bot.queries.reply import Item, Reply, Section

DEFAULT_CAP = 10
LEAD_LIMIT = 280  # characters of summary per brief: ten briefs fit one embed
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True, slots=True)
class Digest:
    """One channel's digest: the reply to post and what posting it delivers."""

    reply: Reply
    shown_ids: tuple[str, ...]  # briefs the message shows, in order
    brief_ids: tuple[str, ...]  # briefs to mark sent once it is posted (shown + first backlog)
    waiting: int  # eligible briefs not shown and not marked: they come next time
    first: bool


def matches(brief: Brief, topics: Collection[str]) -> bool:
    """Whether a subscription to `topics` (empty: all) wants this brief."""
    return not topics or any(topic in topics for topic in brief.topics)


def lead(summary: str, limit: int = LEAD_LIMIT) -> str:
    """The first sentence of a summary, and the second when both fit in `limit`."""
    sentences = _SENTENCE_END.split(summary.strip(), maxsplit=2)
    if len(sentences[0]) > limit:
        return first_sentences(sentences[0], limit)
    if len(sentences) > 1 and len(sentences[0]) + 1 + len(sentences[1]) <= limit:
        return f"{sentences[0]} {sentences[1]}"
    return sentences[0]


def build_digest(
    briefs_newest_first: Sequence[Brief],
    sent_ids: Collection[str],
    topics: Collection[str],
    cap: int = DEFAULT_CAP,
    *,
    day: dt.date | None = None,
    pinned: Collection[str] | None = None,
    topic_labels: Mapping[str, str] | None = None,
) -> Digest | None:
    """The digest of eligible briefs (rules in the module docstring); None when there are none."""
    # `pinned` re-creates an interrupted digest: it shows exactly those briefs (the ones still
    # eligible), so a retried message carries what the first attempt did; a brief that arrived
    # in between is not shown, not marked sent, and counted as waiting.
    if cap < 1:
        raise ValueError(f"cap must be at least 1, got {cap}")
    eligible = [b for b in briefs_newest_first if b.id not in sent_ids and matches(b, topics)]
    if not eligible:
        return None
    first = not sent_ids
    shown = [b for b in eligible if b.id in pinned][:cap] if pinned is not None else []
    if not shown:
        shown = eligible[:cap]
    shown_ids = {b.id for b in shown}
    labels = topic_labels or {}
    if first:
        # The backlog is what is older than everything shown. (A pinned retry may leave out a
        # brief newer than those shown, one that arrived meanwhile: that one waits.)
        last = max(i for i, b in enumerate(eligible) if b.id in shown_ids)
        older = eligible[last + 1 :]
        waiting = [b for b in eligible[:last] if b.id not in shown_ids]
    else:
        older, waiting = [], [b for b in eligible if b.id not in shown_ids]
    reply = Reply(
        title=f"Daily digest — {day.isoformat()}" if day else "Daily digest",
        description=_description(len(shown), first, topics, labels),
        sections=(
            Section(
                "Latest briefs" if first else "New briefs", tuple(_item(b, labels) for b in shown)
            ),
            *_more(len(waiting), len(older), topics),
        ),
        footer=_footer(topics, labels),
    )
    return Digest(
        reply=reply,
        shown_ids=tuple(b.id for b in shown),
        brief_ids=tuple(b.id for b in [*shown, *older]),
        waiting=len(waiting),
        first=first,
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _on(topics: Collection[str], labels: Mapping[str, str]) -> str:
    return " on " + ", ".join(labels.get(t, t) for t in topics) if topics else ""


def _description(
    shown: int, first: bool, topics: Collection[str], labels: Mapping[str, str]
) -> str:
    if first:
        latest = "the latest brief" if shown == 1 else f"the {shown} latest briefs"
        return (
            f"This channel's first daily digest: {latest}{_on(topics, labels)}. "
            "From now on each digest brings only briefs this channel has not had yet."
        )
    return f"{_plural(shown, 'new brief')}{_on(topics, labels)} since the last digest."


def _more(waiting: int, older: int, topics: Collection[str]) -> tuple[Section, ...]:
    """Never drop briefs silently: say how many were left out, and where to see them."""
    where = "/briefs" + (" or /topic" if topics else "")
    lines = []
    if waiting:
        lines.append(
            f"… and {waiting} more: they come in the next digest, or see them now with {where}."
        )
    if older:
        lines.append(
            f"… and {_plural(older, 'older brief')}, not repeated in digests: "
            f"see them with {where}."
        )
    return (Section("More", body="\n".join(lines)),) if lines else ()


def _item(brief: Brief, labels: Mapping[str, str]) -> Item:
    topics = ", ".join(labels.get(t, t) for t in brief.topics)
    return Item(
        lead(brief.summary),
        label=brief.title,
        detail=f"{brief_date(brief)} · {topics} · /summary brief:{brief.id}",
    )


def _footer(topics: Collection[str], labels: Mapping[str, str]) -> str:
    scope = "Topics: " + ", ".join(labels.get(t, t) for t in topics) if topics else "All topics"
    return f"{scope} · /digest status shows the schedule"
