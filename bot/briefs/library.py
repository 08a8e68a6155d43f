"""The briefs as the commands see them: a consistent view of the on-disk index.

Briefs, quotes, topics and labels are read from the index (`bot.briefs.index`) when asked, so
memory does not grow with the corpus. Kept in memory, because every keystroke of autocomplete
needs them and they grow with people and topics, not briefs: the vocabulary, the speakers with
their labels, and topic usage.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from bot.briefs.errors import LoadError
from bot.briefs.index import BriefIndex, Hit, Hits, IndexDamaged, Snapshot
from bot.briefs.labels import LabelIndex
from bot.briefs.models import (
    Brief,
    BriefDate,
    Claim,
    Figure,
    KeyPoint,
    OrderKey,
    Quote,
    QuoteKind,
    SpeakerRef,
    Topic,
    Unnamed,
    Vocabulary,
    order_key,
)
from bot.text import fold

__all__ = [
    "BriefHead",
    "EligibleBriefs",
    "Hit",
    "Library",
    "PublishedKeys",
    "QuoteRef",
    "Speaker",
    "TopicEntries",
    "load_library",
]

# Decoded briefs kept per view: the ones just asked for are likely asked for again.
_DECODED = 256
# How many briefs one step of walking the whole list decodes at a time.
_CHUNK = 200


@dataclass(frozen=True, slots=True)
class Speaker:
    """A person or organisation across all briefs, merged by canonical name."""

    name: str
    labels: tuple[str, ...]  # every folded name, alias and surname that finds them
    role: str | None
    quote_count: int
    organisation: bool = False  # found by name and alias only: no surname, no partial word


@dataclass(frozen=True, slots=True)
class BriefHead:
    """What a reply needs to name a brief: its id, title and date."""

    id: str
    title: str
    date: BriefDate


@dataclass(frozen=True, slots=True)
class QuoteRef:
    """A quote and the brief it belongs to."""

    brief: BriefHead
    quote: Quote


@dataclass(frozen=True, slots=True)
class TopicEntries:
    """Everything on one topic, each list newest first."""

    brief_count: int
    points: tuple[tuple[BriefHead, KeyPoint], ...]
    quotes: tuple[QuoteRef, ...]
    claims: tuple[tuple[BriefHead, Claim], ...]
    # How many there are in all (the lists above may hold only the newest of them).
    point_count: int = 0
    quote_count: int = 0
    claim_count: int = 0


@functools.lru_cache(maxsize=4096)
def _date(text: str) -> BriefDate:
    return BriefDate.model_validate_json(text)


def _head(row: Sequence[Any]) -> BriefHead:
    return BriefHead(row[0], row[1], _date(row[2]))


def _topic_ids(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _who(name: str | None, unnamed: str | None) -> SpeakerRef:
    """A stored speaker: the canonical name, or an unnamed speaker's description."""
    if name is not None:
        return name
    return Unnamed.model_construct(unnamed=unnamed or "")


def _quote(row: Sequence[Any]) -> QuoteRef:
    # Rows were written from validated briefs: no need to validate them again.
    _, _, _, _, _, body, speaker, context, extra, topics, unnamed = row
    quote = Quote.model_construct(
        speaker=_who(speaker, unnamed),
        text=body,
        context=context,
        kind=QuoteKind(extra),
        topics=_topic_ids(topics),
    )
    return QuoteRef(_head(row), quote)


def _point(row: Sequence[Any]) -> tuple[BriefHead, KeyPoint]:
    return _head(row), KeyPoint.model_construct(text=row[5], topics=_topic_ids(row[9]))


def _claim(row: Sequence[Any]) -> tuple[BriefHead, Claim]:
    _, _, _, _, _, body, claimant, context, extra, topics, unnamed = row
    figures = tuple(Figure.model_construct(value=v, description=d) for v, d in json.loads(extra))
    claim = Claim.model_construct(
        claimant=_who(claimant, unnamed),
        text=body,
        context=context,
        figures=figures,
        topics=_topic_ids(topics),
    )
    return _head(row), claim


class SearchHits(list[tuple[BriefHead, Hit]]):
    """Search hits with their briefs, best first; `ranked`: the bound past which matches are
    shown newest first instead of ranked, when it was passed (0: all were ranked);
    `narrowed`: each prefix that starts more words than were searched, as (the prefix as
    typed, the words searched, how many words start with it)."""

    ranked: int = 0
    narrowed: tuple[tuple[str, tuple[str, ...], int], ...] = ()
    stopped: bool = False  # took too long (index.SEARCH_SECONDS) and was stopped


class _PagedBriefs(Sequence[Brief]):
    """Briefs newest first, read from the index a page at a time and decoded as they are read."""

    def _read(self, start: int, count: int) -> list[Brief]:
        """The briefs at positions start … start + count - 1 (fewer at the end)."""
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> Brief: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Brief]: ...
    def __getitem__(self, i: int | slice) -> Brief | Sequence[Brief]:
        if isinstance(i, slice):
            # A plain `[a:b]` needs no count (a digest reads `[:cap]`); anything else does.
            if (i.step or 1) != 1 or (i.start or 0) < 0 or (i.stop is not None and i.stop < 0):
                start, stop, step = i.indices(len(self))
                if step != 1:
                    return [self[j] for j in range(start, stop, step)]
            else:
                start = i.start or 0
                stop = i.stop if i.stop is not None else len(self)
            return self._read(start, stop - start) if stop > start else []
        if i < 0:
            i += len(self)
        found = self._read(i, 1) if i >= 0 else []
        if not found:
            raise IndexError(i)
        return found[0]

    def __iter__(self) -> Iterator[Brief]:
        start = 0
        while page := self._read(start, _CHUNK):
            yield from page
            start += len(page)


class BriefList(_PagedBriefs):
    """Every brief, newest first."""

    def __init__(self, library: Library, count: int) -> None:
        self._library = library
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def _read(self, start: int, count: int) -> list[Brief]:
        return self._library._page(start, count)


class EligibleBriefs(_PagedBriefs):
    """The briefs a digest may show, newest first: counted and chosen in the index, and
    decoded only as they are read (a digest reads at most its cap)."""

    def __init__(
        self,
        library: Library,
        topics: Collection[str],
        cutoff: OrderKey | None,
        exclude: Collection[str],
        include: Collection[str],
    ) -> None:
        self._library = library
        # The index compares sort dates as ISO text: the same order as the dates.
        self._args: tuple[
            tuple[str, ...], tuple[str, str] | None, tuple[str, ...], tuple[str, ...]
        ] = (
            tuple(topics),
            (cutoff[0].isoformat(), cutoff[1]) if cutoff is not None else None,
            tuple(exclude),
            tuple(include),
        )
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            self._count = self._library._snapshot.eligible_count(*self._args)
        return self._count

    def __bool__(self) -> bool:
        return bool(self._read(0, 1)) if self._count is None else self._count > 0

    def _read(self, start: int, count: int) -> list[Brief]:
        rows = self._library._snapshot.eligible_json(*self._args, start, count)
        return [self._library._decode(i, t) for i, t in rows]

    def newest(self, count: int) -> list[Brief]:
        """The first `count` briefs."""
        return self._read(0, count)

    def among(self, ids: Collection[str]) -> list[Brief]:
        """The briefs with these ids that are eligible, newest first."""
        if not ids:
            return []
        rows = self._library._snapshot.eligible_json(*self._args, 0, len(ids), among=ids)
        return [self._library._decode(i, t) for i, t in rows]

    def position(self, brief: Brief) -> int:
        """How many eligible briefs are ordered before (newer than) this one."""
        date, brief_id = order_key(brief)
        return self._library._snapshot.eligible_newer(*self._args, (date.isoformat(), brief_id))


class PublishedKeys(Collection[str]):
    """The source link keys (`bot.briefs.links`) of a library's briefs, looked up in its index."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._snapshot.published(key)

    def __len__(self) -> int:
        return self._snapshot.published_count()

    def __iter__(self) -> Iterator[str]:
        return self._snapshot.published_keys()


class BriefLabels:
    """Folded brief ids and titles, looked up in the index (a LabelIndex's methods)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def get(self, label: str) -> tuple[str, ...]:
        """Ids of the briefs a folded id or title names, smallest first."""
        return tuple(self._snapshot.brief_ids_for_label(label))

    def with_prefix(self, key: str, limit: int = 500) -> Iterator[str]:
        """Labels that start with `key`, in order."""
        return iter(self._snapshot.brief_labels_with_prefix(key, limit))

    def containing(self, key: str, limit: int = 500) -> Iterator[str]:
        """Labels that contain `key` (three characters or more), in order."""
        return iter(self._snapshot.brief_labels_containing(key, limit))

    def ids_with_prefix(self, key: str, limit: int) -> list[tuple[str, str]]:
        """(label, brief id) of the first `limit` labels that start with `key`, in order."""
        return self._snapshot.brief_ids_with_prefix(key, limit)

    def ids_containing(self, key: str, limit: int) -> list[tuple[str, str]]:
        """(label, brief id) of up to `limit` labels that contain `key` (three characters or
        more), the most recently indexed first."""
        return self._snapshot.brief_ids_containing(key, limit)

    def like(self, key: str, n: int) -> list[str]:
        """Up to `n` labels that look like `key`: a shortlist from the index, ranked by difflib."""
        shortlist = self._snapshot.brief_labels_like(key, 60)
        return difflib.get_close_matches(key, shortlist, n=n, cutoff=0.6)


class Library:
    """One consistent view of the briefs: read from the index, never mutated."""

    def __init__(
        self, index: BriefIndex, snapshot: Snapshot, errors: Sequence[LoadError] = ()
    ) -> None:
        self.index = index
        self._snapshot = snapshot
        self.root = index.root
        vocabulary = snapshot.vocabulary()
        self.vocabulary = vocabulary or Vocabulary.model_construct(topics=())
        self.errors: tuple[LoadError, ...] = (*index.folder_errors, *errors)
        count = snapshot.count()
        self.briefs: BriefList = BriefList(self, count)
        self._decoded: dict[str, Brief] = {}
        self._topic_context = {"topic_ids": {t.id: t.id for t in self.vocabulary.topics}}
        self.brief_index = BriefLabels(snapshot)
        self._build_speakers()
        self._build_topics()

    def close(self) -> None:
        """Let the index move on past this view."""
        self._snapshot.close()

    @property
    def damage(self) -> str | None:
        """What a read of this view found damaged in the index (None: nothing): discard the
        index and build it again (`BriefIndex.discard`)."""
        return self._snapshot.damage

    @property
    def built(self) -> bool:
        """Whether this view is of a finished build (not of an index still being built, or
        created anew by another process that deleted the one this process synced)."""
        return "briefs" in self._snapshot.meta

    # -- briefs ---------------------------------------------------------------------------

    def _decode(self, brief_id: str, text: str) -> Brief:
        brief = self._decoded.get(brief_id)
        if brief is None:
            # Stored briefs name topics by id: the validator's exact-name path maps them in
            # one step (a topic the vocabulary lacks takes the usual, per-name path).
            brief = Brief.model_validate_json(text, context=self._topic_context)
            if len(self._decoded) >= _DECODED:
                self._decoded.pop(next(iter(self._decoded)))
            self._decoded[brief_id] = brief
        return brief

    def _page(self, start: int, count: int) -> list[Brief]:
        if count <= 0:
            return []
        return [self._decode(i, t) for i, t in self._snapshot.briefs_json(start, count)]

    def get(self, brief_id: str) -> Brief | None:
        """The brief with this id."""
        brief = self._decoded.get(brief_id)
        if brief is not None:
            return brief
        text = self._snapshot.brief_json(brief_id)
        return self._decode(brief_id, text) if text is not None else None

    def find_brief(self, text: str) -> Brief | None:
        """The brief with this id or title (case-insensitive)."""
        brief = self.get(text.strip())
        if brief is not None:
            return brief
        ids = self.brief_index.get(fold(text))
        return self.get(ids[0]) if ids else None

    def heads(self, start: int = 0, count: int = 1 << 62) -> list[tuple[BriefHead, str, int]]:
        """(head, summary, quote count) of briefs newest first, without decoding them."""
        return [
            (BriefHead(i, t, _date(d)), summary, quotes)
            for i, t, d, summary, quotes in self._snapshot.heads(start, count)
        ]

    def position(self, brief_id: str) -> int:
        """Where a brief stands in newest-first order (0 is the newest)."""
        return self._snapshot.position(brief_id)

    def brief_id_for_label(self, label: str) -> str:
        """The brief a folded id or title names (the greatest id, if several share a title)."""
        return self.brief_index.get(label)[-1]

    def newest_first(self, ids: Sequence[str]) -> list[str]:
        """The given brief ids that exist, newest first."""
        return self._snapshot.newest_first(ids) if ids else []

    def head(self, brief_id: str) -> BriefHead | None:
        """Id, title and date of a brief, without decoding it."""
        row = self._snapshot.head(brief_id)
        return _head(row) if row is not None else None

    @property
    def latest(self) -> Brief | None:
        """The newest brief."""
        return self.briefs[0] if self.briefs else None

    def first_seen(self, brief_id: str) -> dt.datetime | None:
        """When this brief was first seen (its file's time, for the briefs of a first build)."""
        seen = self._snapshot.first_seen(brief_id)
        return dt.datetime.fromisoformat(seen) if seen else None

    # -- speakers -------------------------------------------------------------------------

    def _build_speakers(self) -> None:
        self.speakers: dict[str, Speaker] = {
            name: Speaker(name, tuple(labels), role, count, organisation)
            for name, role, count, labels, organisation in self._snapshot.speakers()
        }
        # Each folded name, alias and surname with the canonical names it stands for, sorted.
        self.speaker_index: LabelIndex[str] = LabelIndex(
            sorted((label, s.name) for s in self.speakers.values() for label in s.labels)
        )
        # Most-quoted first: what an empty autocomplete shows.
        self.speakers_ranked: tuple[Speaker, ...] = tuple(
            sorted(self.speakers.values(), key=lambda s: (-s.quote_count, s.name))
        )

    def speakers_named(self, text: str) -> tuple[str, ...]:
        """Canonical names matching a name, alias or surname exactly (case-insensitive)."""
        return self.speaker_index.get(fold(text))

    def quotes_about(
        self, name: str, brief_id: str | None = None, limit: int | None = None
    ) -> tuple[QuoteRef, ...]:
        """Quotes by others that name this person, newest brief first (the first `limit`)."""
        rows = self._snapshot.quotes_about(name, brief_id, -1 if limit is None else limit)
        return tuple(_quote(r) for r in rows)

    def quotes_by(
        self, name: str, brief_id: str | None = None, limit: int | None = None
    ) -> tuple[QuoteRef, ...]:
        """The quotes by this canonical name, newest brief first (the first `limit`), of one
        brief if given."""
        rows = self._snapshot.quotes_by(name, brief_id, -1 if limit is None else limit)
        return tuple(_quote(r) for r in rows)

    def count_quotes_by(self, name: str, brief_id: str | None = None) -> int:
        """How many quotes this canonical name has (in one brief, if given)."""
        return self._snapshot.count_quotes_by(name, brief_id)

    def count_quotes_about(self, name: str, brief_id: str | None = None) -> int:
        """How many quotes by others name this person (in one brief, if given)."""
        return self._snapshot.count_quotes_about(name, brief_id)

    # -- topics ---------------------------------------------------------------------------

    def _build_topics(self) -> None:
        usage = self._snapshot.topic_usage()
        self._topic_usage = usage
        # Topics in use first (most used first), then the rest of the vocabulary.
        self.topics_ranked: tuple[Topic, ...] = tuple(
            sorted(self.vocabulary.topics, key=lambda t: (-usage.get(t.id, 0), t.id))
        )
        # Each folded id, label and alias with its topic (the vocabulary allows only one).
        self.topic_index: LabelIndex[Topic] = LabelIndex(self.vocabulary.labels().items())
        self._topic_by_id = {t.id: t for t in self.vocabulary.topics}
        # Topic id → label, for every reply that names topics.
        self.topic_names: Mapping[str, str] = {t.id: t.label for t in self.vocabulary.topics}

    def topic(self, name: str) -> Topic | None:
        """The vocabulary topic with this id, label or alias."""
        return self.vocabulary.resolve(name) if self.vocabulary.topics else None

    def topic_by_id(self, topic_id: str) -> Topic | None:
        """The vocabulary topic with exactly this id."""
        return self._topic_by_id.get(topic_id)

    def on_topic(self, topic_id: str, limit: int | None = None) -> TopicEntries:
        """What is filed under a topic id, newest first: the first `limit` of each kind, and
        how many of each there are."""
        snapshot = self._snapshot
        n = -1 if limit is None else limit
        return TopicEntries(
            snapshot.topic_brief_count(topic_id),
            tuple(_point(r) for r in snapshot.on_topic(topic_id, "point", n)),
            tuple(_quote(r) for r in snapshot.on_topic(topic_id, "quote", n)),
            tuple(_claim(r) for r in snapshot.on_topic(topic_id, "claim", n)),
            point_count=snapshot.count_on_topic(topic_id, "point"),
            quote_count=snapshot.count_on_topic(topic_id, "quote"),
            claim_count=snapshot.count_on_topic(topic_id, "claim"),
        )

    def topic_usage(self, topic_id: str) -> int:
        """How many briefs and key points carry this topic."""
        return self._topic_usage.get(topic_id, 0)

    def topic_for_label(self, label: str) -> Topic:
        """The topic a folded id, label or alias names."""
        return self.topic_index.get(label)[0]

    # -- full text ------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        speaker: str | None = None,
        topic: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        limit: int = 50,
    ) -> SearchHits:
        """Titles, summaries, key points, quotes and claims matching `query`, best first.

        FTS5 syntax (phrases, prefixes, AND/OR/NOT) works; a query it cannot parse is searched
        as plain words. Past `index.RANKED` matches the most recently indexed are shown, not
        ranked (`SearchHits.ranked` is then that bound; 0 when every match was ranked).
        """
        options: dict[str, Any] = {
            "speaker": speaker,
            "topic": topic,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "limit": limit,
        }
        hits: Hits = self._snapshot.search(query, **options)
        found = SearchHits((BriefHead(h.brief_id, h.title, _date(h.date)), h) for h in hits)
        found.ranked = hits.ranked
        found.narrowed = hits.narrowed
        found.stopped = hits.stopped
        return found

    # -- digests and feeds ----------------------------------------------------------------

    def first_indexed(self, after: int, limit: int = 5000) -> list[tuple[int, str, bool]]:
        """(mark, id, live) of the briefs the index first saw after `after` (0: from the
        start), oldest first, at most `limit`; marks only grow while the index file lives."""
        return self._snapshot.seen_rows(after, limit)

    def first_indexed_at(self, mark: int) -> str | None:
        """The id the index first saw at this mark (None: no such mark, e.g. a rebuilt index)."""
        return self._snapshot.seen_id_at(mark)

    def live_ids(self, ids: Collection[str]) -> frozenset[str]:
        """The given brief ids that are live."""
        return frozenset(self._snapshot.live_ids(ids))

    def eligible(
        self,
        topics: Collection[str],
        cutoff: OrderKey | None,
        exclude: Collection[str] = (),
        include: Collection[str] = (),
    ) -> EligibleBriefs:
        """The briefs a digest may show, newest first: ordered after `cutoff` (None: all) or
        among `include`, not among `exclude`, carrying one of `topics` (none: any)."""
        return EligibleBriefs(self, topics, cutoff, exclude, include)

    def published_links(self) -> PublishedKeys:
        """The source link keys of the briefs (`bot.briefs.links.canonical_url`)."""
        return PublishedKeys(self._snapshot)

    def brief_ids(self) -> frozenset[str]:
        """Every brief id (strings only: no brief is decoded)."""
        return frozenset(self._snapshot.brief_ids())


def open_library(index: BriefIndex) -> Library:
    """A view of the index as it is now, with every file's errors; an index found damaged
    while opening the view is built again from the files first."""
    try:
        return _open(index)
    except IndexDamaged as exc:
        index.discard(str(exc))
    index.sync()
    return _open(index)


def _open(index: BriefIndex) -> Library:
    snapshot = index.snapshot()
    try:
        return Library(index, snapshot, snapshot.errors(index.root))
    except IndexDamaged:
        snapshot.close()
        raise


def load_library(root: Path, index_path: Path | None = None) -> Library:
    """Sync the index of a briefs folder with its files and open a view of it.

    Without `index_path` the index is private to this process (a temporary file).
    """
    index = BriefIndex(root, index_path)
    index.sync()
    return open_library(index)
