"""The daily digest: which briefs a channel gets today, as a renderer-neutral Reply.

Rules:

* Briefs are ordered as the library orders them, newest first by their *order key*
  (date, id): a later date first, and on the same date the greater id first; an undated brief
  counts as dated `date.min`, so it sorts after every dated one (`bot.briefs.models.order_key`).
* A brief is *eligible* when it has not been sent to the channel yet, is not in the channel's
  archive (below), and matches the subscription's topics: any of the brief's topics is
  subscribed (no topics: every brief).
* Eligible briefs are shown in the order given (the library's: newest first), at most `cap`.
* Only the briefs actually shown are marked sent. The rest stay eligible and come in the next
  digest; this one says how many are waiting and that `/briefs` lists them now.
* **First digest** (the channel has no archive cutoff and nothing was ever sent to it): it
  shows the `cap` latest eligible briefs, so a new subscriber sees at once that it works, and
  records the channel's **archive cutoff**: the order key of the oldest brief it shows. It
  says how many eligible briefs are older than that and that `/briefs` lists them.
* **Archive**: a brief whose order key is at or before the cutoff and that was not shown is
  archive: never eligible, never posted, whenever it was added to disk and whatever the
  topics (changing the topics later does not bring older briefs either). A brief ordered
  after the cutoff stays eligible until it is sent, even one added to disk late: one dated
  after the cutoff's date is delivered, one dated before it is archive, and on that very date
  the id decides, as it does in the library's order. So the archive is not drip-fed over the
  following days, and no per-brief record of it is kept.
* **First seen**: after the first digest, a brief first seen by the bot after the channel's
  previous digest (`fresh`) is eligible even when it is ordered at or before the cutoff, so a
  story about last month published today still reaches the next digest.
* Nothing eligible: no digest (None). An empty digest is never posted; a subscription with
  `quiet:false` posts `nothing_new` instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.briefs.format import brief_date
from bot.briefs.models import Brief, OrderKey, order_key
from bot.reply import Item, Reply, Section, timestamp
from bot.store.records import Slot
from bot.text import first_sentences, plural

DEFAULT_CAP = 10
LEAD_LIMIT = 280  # characters of summary per brief: ten briefs fit one embed
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True, slots=True)
class Digest:
    """One channel's digest: the reply to post and what posting it delivers."""

    reply: Reply
    shown_ids: tuple[str, ...]  # briefs the message shows, in order: mark them sent once posted
    waiting: int  # eligible briefs not shown: they come next time
    first: bool
    # The first digest's archive cutoff (the order key of the oldest brief shown), to record
    # once it is posted; None for any later digest.
    cutoff: OrderKey | None = None
    older: int = 0  # first digest: eligible briefs older than the cutoff, now archive


def archived(brief: Brief, cutoff: OrderKey | None) -> bool:
    """Whether the brief is in the channel's archive: ordered at or before its cutoff."""
    return cutoff is not None and order_key(brief) <= cutoff


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
    cutoff: OrderKey | None = None,
    day: dt.date | None = None,
    pinned: Collection[str] | None = None,
    topic_labels: Mapping[str, str] | None = None,
    fresh: Sequence[Brief] = (),
) -> Digest | None:
    """The digest of eligible briefs (rules in the module docstring); None when there are none.

    `briefs_newest_first` must be in the library's order (newest first by `order_key`): the
    archive is where that order passes the cutoff, so the briefs after it are not even looked
    at, and a channel's digest costs what is new to it, not what the library holds.
    """
    # `pinned` re-creates an interrupted digest: it shows exactly those briefs (the ones still
    # eligible), so a retried message carries what the first attempt did; a brief that arrived
    # in between is not shown, not marked sent, and counted as waiting.
    if cap < 1:
        raise ValueError(f"cap must be at least 1, got {cap}")
    eligible = _eligible(briefs_newest_first, sent_ids, topics, cutoff)
    late = [b for b in fresh if archived(b, cutoff) and b.id not in sent_ids and matches(b, topics)]
    if late:
        eligible = sorted({b.id: b for b in [*eligible, *late]}.values(), key=order_key)[::-1]
    return digest_of(
        Listed(eligible),
        topics,
        cap,
        first=cutoff is None and not sent_ids,
        day=day,
        pinned=pinned,
        topic_labels=topic_labels,
    )


class Eligible(Protocol):
    """The eligible briefs of one digest, newest first (rules in the module docstring): a list,
    or a view of the brief index that decodes only the briefs a digest shows."""

    def __len__(self) -> int:
        """How many briefs are eligible."""
        ...

    def newest(self, count: int) -> Sequence[Brief]:
        """The first `count` eligible briefs."""
        ...

    def among(self, ids: Collection[str]) -> Sequence[Brief]:
        """The eligible briefs with these ids, in order."""
        ...

    def position(self, brief: Brief) -> int:
        """Where an eligible brief stands among them (0: the newest)."""
        ...


class Listed:
    """Eligible briefs held in a list."""

    def __init__(self, briefs: Sequence[Brief]) -> None:
        self._briefs = briefs

    def __len__(self) -> int:
        return len(self._briefs)

    def newest(self, count: int) -> Sequence[Brief]:
        """The first `count` eligible briefs."""
        return self._briefs[:count]

    def among(self, ids: Collection[str]) -> Sequence[Brief]:
        """The eligible briefs with these ids, in order."""
        return [b for b in self._briefs if b.id in ids]

    def position(self, brief: Brief) -> int:
        """Where an eligible brief stands among them (0: the newest)."""
        return next(i for i, b in enumerate(self._briefs) if b is brief)


def digest_of(
    eligible: Eligible,
    topics: Collection[str],
    cap: int = DEFAULT_CAP,
    *,
    first: bool,
    day: dt.date | None = None,
    pinned: Collection[str] | None = None,
    topic_labels: Mapping[str, str] | None = None,
) -> Digest | None:
    """The digest of briefs already found eligible (`first`: the channel has no archive cutoff
    and was never sent anything); None when there are none. Reads only what it shows."""
    if cap < 1:
        raise ValueError(f"cap must be at least 1, got {cap}")
    total = len(eligible)
    if not total:
        return None
    shown = list(eligible.among(pinned))[:cap] if pinned is not None else []
    if not shown:
        shown = list(eligible.newest(cap))
    labels = topic_labels or {}
    if first:
        # What is ordered before the oldest brief shown becomes archive. (A pinned retry may
        # leave out a brief newer than that, one that arrived meanwhile: that one waits.)
        new_cutoff: OrderKey | None = order_key(shown[-1])
        last = len(shown) - 1 if pinned is None else eligible.position(shown[-1])
        older = total - last - 1
        waiting = last + 1 - len(shown)
    else:
        new_cutoff, older, waiting = None, 0, total - len(shown)
    reply = Reply(
        title=f"Digest — {day.isoformat()}" if day else "Digest",
        description=_description(len(shown), first, topics, labels),
        sections=(
            Section(
                "Latest briefs" if first else "New briefs", tuple(_item(b, labels) for b in shown)
            ),
            *_more(waiting, older, topics),
        ),
        footer=_footer(topics, labels),
    )
    return Digest(
        reply=reply,
        shown_ids=tuple(b.id for b in shown),
        waiting=waiting,
        first=first,
        cutoff=new_cutoff,
        older=older,
    )


def _eligible(
    briefs_newest_first: Sequence[Brief],
    sent_ids: Collection[str],
    topics: Collection[str],
    cutoff: OrderKey | None,
) -> list[Brief]:
    if cutoff is None and not sent_ids and not topics:
        return list(briefs_newest_first)  # a first digest on every topic: no need to look
    eligible = []
    for brief in briefs_newest_first:
        if archived(brief, cutoff):
            break  # newest first: this brief and every one after it is archive too
        if brief.id not in sent_ids and matches(brief, topics):
            eligible.append(brief)
    return eligible


def _on(topics: Collection[str], labels: Mapping[str, str]) -> str:
    return " on " + ", ".join(labels.get(t, t) for t in topics) if topics else ""


def _description(
    shown: int, first: bool, topics: Collection[str], labels: Mapping[str, str]
) -> str:
    if first:
        latest = "the latest brief" if shown == 1 else f"the {shown} latest briefs"
        return (
            f"This channel's first daily digest: {latest}{_on(topics, labels)}. "
            "From now on each digest brings only newer briefs this channel has not had yet."
        )
    return f"{plural(shown, 'new brief')}{_on(topics, labels)} since the last digest."


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
            f"… and {plural(older, 'older brief')}, not repeated in digests: see them with {where}."
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


def nothing_new(day: dt.date, previous: Slot | None, zone: str | None = None) -> Reply:
    """The short post of a quiet day (quiet:false): nothing new since the last digest."""
    when = previous.finished_at if previous is not None else None
    since = f" since {timestamp(when)}" if when is not None else " yet"
    return Reply(
        f"Digest — {day.isoformat()}",
        description=f"Nothing new{since}.",
        footer="/digest status shows the schedule",
        zone=zone,
    )
