"""An immutable snapshot of all loaded briefs, with the indexes every query uses."""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.briefs.fuzzy import Fuzzy
from bot.briefs.loader import LoadedBrief, LoadError, gc_paused, load_directory
from bot.briefs.models import Brief, Claim, KeyPoint, Person, Quote, Topic, Vocabulary


def fold(text: str) -> str:
    """Case- and whitespace-insensitive key for names and labels."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True, slots=True)
class Speaker:
    """A person across all briefs, merged by canonical name."""

    name: str
    labels: tuple[str, ...]  # every folded name, alias and surname that finds them
    role: str | None
    quote_count: int


@dataclass(frozen=True, slots=True)
class QuoteRef:
    """A quote and the brief it belongs to."""

    brief: Brief
    quote: Quote


@dataclass(frozen=True, slots=True)
class TopicEntries:
    """Everything on one topic, each list newest first."""

    briefs: tuple[Brief, ...]
    points: tuple[tuple[Brief, KeyPoint], ...]
    quotes: tuple[QuoteRef, ...]
    claims: tuple[tuple[Brief, Claim], ...]


class LibrarySource(Protocol):
    """Anything that hands out the current library (a fixed one, or a live-reloading one)."""

    def current(self) -> Library: ...


_WORD = re.compile(r"\w+")
_EMPTY = TopicEntries((), (), (), ())
_NO_DATE = dt.date.min


def _newest_first_key(brief: Brief) -> tuple[dt.date, str]:
    return (brief.date.value or _NO_DATE, brief.id)


class Library:
    """All briefs, newest first, indexed by id, speaker and topic. Built once; never mutated."""

    def __init__(
        self,
        loaded: Iterable[LoadedBrief],
        vocabulary: Vocabulary,
        errors: Iterable[LoadError] = (),
    ) -> None:
        items = sorted(loaded, key=lambda lb: _newest_first_key(lb.brief), reverse=True)
        self.vocabulary = vocabulary
        self.errors: tuple[LoadError, ...] = tuple(errors)
        self.files: dict[Path, LoadedBrief] = {lb.path: lb for lb in items}
        self.briefs: tuple[Brief, ...] = tuple(lb.brief for lb in items)
        self._by_id = {b.id: b for b in self.briefs}
        self._position = {b.id: i for i, b in enumerate(self.briefs)}
        # One QuoteRef per quote, shared by the speaker, mention and topic indexes.
        refs = [tuple(QuoteRef(brief, quote) for quote in brief.quotes) for brief in self.briefs]
        self._build_speakers(refs)
        self._build_topics(refs)
        self._brief_labels = sorted(
            {(fold(label), b.id) for b in self.briefs for label in (b.id, b.title)}
        )
        self._brief_label_keys = [label for label, _ in self._brief_labels]
        # Each folded label with one brief id (the last in order, as dict() of the pairs has it).
        self._brief_id_by_label = dict(self._brief_labels)
        self._brief_scan = _Scan(list(self._brief_id_by_label))
        self._brief_fuzzy = Fuzzy(self._brief_label_keys)

    def current(self) -> Library:
        """A fixed library is its own source."""
        return self

    # -- briefs ---------------------------------------------------------------------------

    def get(self, brief_id: str) -> Brief | None:
        """The brief with this id."""
        return self._by_id.get(brief_id)

    def find_brief(self, text: str) -> Brief | None:
        """The brief with this id or title (case-insensitive)."""
        brief = self._by_id.get(text.strip())
        if brief is not None:
            return brief
        key = fold(text)
        i = bisect.bisect_left(self._brief_label_keys, key)
        if i < len(self._brief_labels) and self._brief_labels[i][0] == key:
            return self._by_id[self._brief_labels[i][1]]
        return None

    def position(self, brief_id: str) -> int:
        """Where a brief stands in newest-first order (0 is the newest)."""
        return self._position[brief_id]

    def brief_labels_with_prefix(self, prefix: str) -> Iterable[str]:
        """Folded brief ids and titles starting with `prefix`, in order."""
        return _with_prefix(self._brief_label_keys, fold(prefix))

    def brief_id_for_label(self, label: str) -> str:
        """The brief a folded id or title names (one of them, if several share a title)."""
        return self._brief_id_by_label[label]

    def brief_labels_containing(self, key: str) -> Iterable[str]:
        """Distinct folded brief ids and titles that contain the folded `key`, in order."""
        return self._brief_scan.containing(key)

    def brief_labels_like(self, key: str, n: int) -> list[str]:
        """Folded brief ids and titles that look like the folded `key` (did-you-mean)."""
        return self._brief_fuzzy.close(key, n)

    @property
    def latest(self) -> Brief | None:
        """The newest brief."""
        return self.briefs[0] if self.briefs else None

    # -- speakers -------------------------------------------------------------------------

    def _build_speakers(self, refs: list[tuple[QuoteRef, ...]]) -> None:
        quotes: dict[str, list[QuoteRef]] = defaultdict(list)
        people: dict[str, Person] = {}
        labels: dict[str, set[str]] = defaultdict(set)
        # Per distinct (name, aliases): the tests that find the person named in a quote.
        checks_of: dict[tuple[str, tuple[str, ...]], list[_Check]] = {}
        brief_checks: list[list[_Check]] = []
        # Newest first, so each list below is newest first too.
        for brief, brief_refs in zip(self.briefs, refs, strict=True):
            checks: list[_Check] = []
            for person in brief.people:
                people.setdefault(person.name, person)
                key = (person.name, person.aliases)
                found = checks_of.get(key)
                if found is None:  # a person not seen before (else: same labels as then)
                    found = checks_of[key] = _name_checks(person)
                    names = (person.name, *person.aliases)
                    labels[person.name].update(fold(n) for n in names)
                    # People type surnames: "Dar", "Rubio".
                    labels[person.name].add(fold(person.name.split()[-1]))
                checks += found
            brief_checks.append(checks)
            for ref in brief_refs:
                quotes[ref.quote.speaker].append(ref)
        self._quotes = {name: tuple(found) for name, found in quotes.items()}
        self._mentions = self._build_mentions(refs, brief_checks)
        self.speakers: dict[str, Speaker] = {
            name: Speaker(
                name=name,
                labels=tuple(sorted(labels[name])),
                role=person.role,
                quote_count=len(self._quotes.get(name, ())),
            )
            for name, person in people.items()
        }
        by_label: dict[str, set[str]] = defaultdict(set)
        for speaker in self.speakers.values():
            for label in speaker.labels:
                by_label[label].add(speaker.name)
        self._speaker_by_label = {k: tuple(sorted(v)) for k, v in by_label.items()}
        self._speaker_labels = sorted(by_label)
        self._speaker_scan = _Scan(self._speaker_labels)
        self._speaker_fuzzy = Fuzzy(self._speaker_labels)
        # Most-quoted first: what an empty autocomplete shows.
        self.speakers_ranked: tuple[Speaker, ...] = tuple(
            sorted(self.speakers.values(), key=lambda s: (-s.quote_count, s.name))
        )

    def speakers_named(self, text: str) -> tuple[str, ...]:
        """Canonical names matching a name, alias or surname exactly (case-insensitive)."""
        return self._speaker_by_label.get(fold(text), ())

    def speaker_labels_with_prefix(self, prefix: str) -> Iterable[str]:
        """Folded speaker labels starting with `prefix`, in order."""
        return _with_prefix(self._speaker_labels, fold(prefix))

    def speaker_labels_containing(self, key: str) -> Iterable[str]:
        """Folded speaker labels that contain the folded `key`, in order."""
        return self._speaker_scan.containing(key)

    def speaker_labels_like(self, key: str, n: int) -> list[str]:
        """Folded speaker labels that look like the folded `key` (did-you-mean)."""
        return self._speaker_fuzzy.close(key, n)

    def speakers_with_label(self, label: str) -> tuple[str, ...]:
        """Canonical names a folded label stands for."""
        return self._speaker_by_label.get(label, ())

    def _build_mentions(
        self, refs: list[tuple[QuoteRef, ...]], brief_checks: list[list[_Check]]
    ) -> dict[str, tuple[QuoteRef, ...]]:
        """Quotes that name a person but are someone else's words (a readout about them)."""
        mentions: dict[str, list[QuoteRef]] = defaultdict(list)
        for brief_refs, checks in zip(refs, brief_checks, strict=True):
            if not brief_refs:
                continue
            # First sift per brief: a name none of the brief's quotes contains goes no further.
            said_here = "\n".join([ref.quote.text for ref in brief_refs]).casefold()
            named = [check for check in checks if check[0] in said_here]
            if not named:
                continue
            for ref in brief_refs:
                text = ref.quote.text.casefold()
                said: set[str] | None = None
                last = ""  # a person's checks stand together: count them once
                for longest, name, words in named:
                    if longest not in text or name in (ref.quote.speaker, last):
                        continue
                    if said is None:
                        said = set(_WORD.findall(text))
                    # Whole words only: "Dar" must not match "standard".
                    if words <= said:
                        last = name
                        mentions[name].append(ref)
        return {name: tuple(found) for name, found in mentions.items()}

    def quotes_about(self, name: str) -> tuple[QuoteRef, ...]:
        """Quotes by others that name this person, newest brief first."""
        return self._mentions.get(name, ())

    def quotes_by(self, name: str) -> tuple[QuoteRef, ...]:
        """Every quote by this canonical name, newest brief first."""
        return self._quotes.get(name, ())

    # -- topics ---------------------------------------------------------------------------

    def _build_topics(self, refs: list[tuple[QuoteRef, ...]]) -> None:
        briefs: dict[str, list[Brief]] = defaultdict(list)
        points: dict[str, list[tuple[Brief, KeyPoint]]] = defaultdict(list)
        quotes: dict[str, list[QuoteRef]] = defaultdict(list)
        claims: dict[str, list[tuple[Brief, Claim]]] = defaultdict(list)
        for brief, brief_refs in zip(self.briefs, refs, strict=True):
            for topic in brief.topics:
                briefs[topic].append(brief)
            for point in brief.key_points:
                if point.topics:
                    pair = (brief, point)
                    for topic in point.topics:
                        points[topic].append(pair)
            for ref in brief_refs:
                for topic in ref.quote.topics:
                    quotes[topic].append(ref)
            for claim in brief.claims:
                if claim.topics:
                    claim_pair = (brief, claim)
                    for topic in claim.topics:
                        claims[topic].append(claim_pair)
        ids = set(briefs) | set(points) | set(quotes) | set(claims)
        self._topics = {
            t: TopicEntries(
                tuple(briefs.get(t, ())),
                tuple(points.get(t, ())),
                tuple(quotes.get(t, ())),
                tuple(claims.get(t, ())),
            )
            for t in ids
        }
        usage = Counter({t: len(e.briefs) + len(e.points) for t, e in self._topics.items()})
        # Topics in use first (most used first), then the rest of the vocabulary.
        self.topics_ranked: tuple[Topic, ...] = tuple(
            sorted(self.vocabulary.topics, key=lambda t: (-usage[t.id], t.id))
        )
        self._topic_usage = usage
        labels = self.vocabulary.labels()
        self._topic_labels = sorted(labels)
        self._topic_by_label = labels
        self._topic_scan = _Scan(list(labels))
        self._topic_fuzzy = Fuzzy(self._topic_labels)
        self._topic_by_id = {t.id: t for t in self.vocabulary.topics}
        # Topic id → label, for every reply that names topics.
        self.topic_names: Mapping[str, str] = {t.id: t.label for t in self.vocabulary.topics}

    def topic(self, name: str) -> Topic | None:
        """The vocabulary topic with this id, label or alias."""
        return self.vocabulary.resolve(name)

    def topic_by_id(self, topic_id: str) -> Topic | None:
        """The vocabulary topic with exactly this id."""
        return self._topic_by_id.get(topic_id)

    def on_topic(self, topic_id: str) -> TopicEntries:
        """Everything filed under a topic id, newest first."""
        return self._topics.get(topic_id, _EMPTY)

    def topic_usage(self, topic_id: str) -> int:
        """How many briefs and key points carry this topic."""
        return self._topic_usage[topic_id]

    def topic_labels_with_prefix(self, prefix: str) -> Iterable[tuple[str, Topic]]:
        """(folded label, topic) pairs whose label starts with `prefix`, in order."""
        labels = self.topic_label_keys_with_prefix(prefix)
        return ((label, self._topic_by_label[label]) for label in labels)

    def topic_label_keys_with_prefix(self, prefix: str) -> Iterable[str]:
        """Folded topic ids, labels and aliases starting with `prefix`, in order."""
        return _with_prefix(self._topic_labels, fold(prefix))

    def topic_labels_like(self, key: str, n: int) -> list[str]:
        """Folded topic ids, labels and aliases that look like the folded `key` (did-you-mean)."""
        return self._topic_fuzzy.close(key, n)

    def topic_labels_containing(self, key: str) -> Iterable[str]:
        """Folded topic ids, labels and aliases that contain the folded `key`, in order."""
        return self._topic_scan.containing(key)

    @property
    def topic_labels(self) -> dict[str, Topic]:
        """Every folded id, label and alias, with its topic."""
        return self._topic_by_label


# A test that a quote names a person: the longest word of one of their names (a quick
# substring check: a word of the quote is also a substring of it), the person's name, and all
# the words of that name, which must all be words of the quote.
_Check = tuple[str, str, frozenset[str]]


def _name_checks(person: Person) -> list[_Check]:
    """One check per name and alias of a person."""
    checks = []
    for label in (person.name, *person.aliases):
        words = frozenset(_WORD.findall(label.casefold()))
        checks.append((max(words, key=len, default=""), person.name, words))
    return checks


class _Scan:
    """Labels in a fixed order, searched for a substring in one pass over them joined up."""

    def __init__(self, labels: list[str]) -> None:
        self._labels = labels
        # Folded labels hold no newline, so a match never spans two of them; if one ever did,
        # the plain scan below is used instead.
        self._joined = "\n".join(labels) if not any("\n" in lb for lb in labels) else None
        self._starts: list[int] = []
        at = 0
        for label in labels:
            self._starts.append(at)
            at += len(label) + 1

    def containing(self, key: str) -> Iterator[str]:
        """Each label that contains `key` (once), in the labels' order."""
        joined = self._joined
        if joined is None or not key or "\n" in key:
            yield from (label for label in self._labels if key in label)
            return
        starts, labels = self._starts, self._labels
        found = joined.find(key)
        while found != -1:
            i = bisect.bisect_right(starts, found) - 1
            yield labels[i]
            if i + 1 >= len(starts):
                return
            found = joined.find(key, starts[i + 1])


def _with_prefix(labels: list[str], key: str) -> Iterator[str]:
    """The labels of a sorted list that start with `key`, in order, without copying the list."""
    start = bisect.bisect_left(labels, key)
    # Every label starting with `key` sorts before key + the highest code point, except ones
    # that continue with that very code point: step over those one by one.
    end = bisect.bisect_left(labels, key + _TOP, start)
    while end < len(labels) and labels[end].startswith(key):
        end += 1
    return map(labels.__getitem__, range(start, end))


_TOP = chr(0x10FFFF)


def load_library(root: Path, previous: Library | None = None, cache: Path | None = None) -> Library:
    """Load a briefs directory into a library; errors are kept on `library.errors`.

    `cache` names a file where validated briefs are kept between runs (see load_directory).
    """
    with gc_paused():
        report = load_directory(root, previous.files if previous is not None else None, cache)
        vocabulary = report.vocabulary
        if vocabulary is None:
            if previous is not None:
                # A broken vocabulary must not take every brief down: keep the last good set.
                return Library(previous.files.values(), previous.vocabulary, report.errors)
            vocabulary = Vocabulary.model_construct(topics=())
        return Library(report.briefs, vocabulary, report.errors)
