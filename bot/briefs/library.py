"""An immutable snapshot of all loaded briefs, with the indexes every query uses."""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.briefs.loader import LoadedBrief, LoadError, load_directory
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
        self._build_speakers()
        self._build_topics()
        self._brief_labels = sorted(
            {(fold(label), b.id) for b in self.briefs for label in (b.id, b.title)}
        )

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
        for label, brief_id in self._brief_labels[bisect.bisect_left(self._brief_labels, (key,)) :]:
            if label != key:
                break
            return self._by_id[brief_id]
        return None

    def position(self, brief_id: str) -> int:
        """Where a brief stands in newest-first order (0 is the newest)."""
        return self._position[brief_id]

    def brief_labels_with_prefix(self, prefix: str) -> Iterable[str]:
        """Folded brief ids and titles starting with `prefix`, in order."""
        key = fold(prefix)
        for label, _ in self._brief_labels[bisect.bisect_left(self._brief_labels, (key,)) :]:
            if not label.startswith(key):
                break
            yield label

    @property
    def latest(self) -> Brief | None:
        """The newest brief."""
        return self.briefs[0] if self.briefs else None

    # -- speakers -------------------------------------------------------------------------

    def _build_speakers(self) -> None:
        quotes: dict[str, list[QuoteRef]] = defaultdict(list)
        people: dict[str, Person] = {}
        labels: dict[str, set[str]] = defaultdict(set)
        for brief in self.briefs:  # newest first, so each list below is newest first too
            for person in brief.people:
                people.setdefault(person.name, person)
                names = (person.name, *person.aliases)
                labels[person.name].update(fold(n) for n in names)
                # People type surnames: "Dar", "Rubio".
                labels[person.name].add(fold(person.name.split()[-1]))
            for quote in brief.quotes:
                quotes[quote.speaker].append(QuoteRef(brief, quote))
        self._quotes = {name: tuple(refs) for name, refs in quotes.items()}
        self._mentions = self._build_mentions()
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
        # Most-quoted first: what an empty autocomplete shows.
        self.speakers_ranked: tuple[Speaker, ...] = tuple(
            sorted(self.speakers.values(), key=lambda s: (-s.quote_count, s.name))
        )

    def speakers_named(self, text: str) -> tuple[str, ...]:
        """Canonical names matching a name, alias or surname exactly (case-insensitive)."""
        return self._speaker_by_label.get(fold(text), ())

    def speaker_labels_with_prefix(self, prefix: str) -> Iterable[str]:
        """Folded speaker labels starting with `prefix`, in order."""
        key = fold(prefix)
        start = bisect.bisect_left(self._speaker_labels, key)
        for label in self._speaker_labels[start:]:
            if not label.startswith(key):
                break
            yield label

    @property
    def speaker_labels(self) -> list[str]:
        """Every folded label that names a speaker, sorted."""
        return self._speaker_labels

    def _build_mentions(self) -> dict[str, tuple[QuoteRef, ...]]:
        """Quotes that name a person but are someone else's words (a readout about them)."""
        mentions: dict[str, list[QuoteRef]] = defaultdict(list)
        for brief in self.briefs:
            for quote in brief.quotes:
                words = set(_WORD.findall(quote.text.casefold()))
                for person in brief.people:
                    if person.name == quote.speaker:
                        continue
                    # Whole words only: "Dar" must not match "standard".
                    if any(
                        words.issuperset(_WORD.findall(n.casefold()))
                        for n in (person.name, *person.aliases)
                    ):
                        mentions[person.name].append(QuoteRef(brief, quote))
        return {name: tuple(refs) for name, refs in mentions.items()}

    def quotes_about(self, name: str) -> tuple[QuoteRef, ...]:
        """Quotes by others that name this person, newest brief first."""
        return self._mentions.get(name, ())

    def quotes_by(self, name: str) -> tuple[QuoteRef, ...]:
        """Every quote by this canonical name, newest brief first."""
        return self._quotes.get(name, ())

    # -- topics ---------------------------------------------------------------------------

    def _build_topics(self) -> None:
        briefs: dict[str, list[Brief]] = defaultdict(list)
        points: dict[str, list[tuple[Brief, KeyPoint]]] = defaultdict(list)
        quotes: dict[str, list[QuoteRef]] = defaultdict(list)
        claims: dict[str, list[tuple[Brief, Claim]]] = defaultdict(list)
        for brief in self.briefs:
            for topic in brief.topics:
                briefs[topic].append(brief)
            for point in brief.key_points:
                for topic in point.topics:
                    points[topic].append((brief, point))
            for quote in brief.quotes:
                for topic in quote.topics:
                    quotes[topic].append(QuoteRef(brief, quote))
            for claim in brief.claims:
                for topic in claim.topics:
                    claims[topic].append((brief, claim))
        ids = set(briefs) | set(points) | set(quotes) | set(claims)
        self._topics = {
            t: TopicEntries(tuple(briefs[t]), tuple(points[t]), tuple(quotes[t]), tuple(claims[t]))
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

    def topic(self, name: str) -> Topic | None:
        """The vocabulary topic with this id, label or alias."""
        return self.vocabulary.resolve(name)

    def on_topic(self, topic_id: str) -> TopicEntries:
        """Everything filed under a topic id, newest first."""
        return self._topics.get(topic_id, _EMPTY)

    def topic_usage(self, topic_id: str) -> int:
        """How many briefs and key points carry this topic."""
        return self._topic_usage[topic_id]

    def topic_labels_with_prefix(self, prefix: str) -> Iterable[tuple[str, Topic]]:
        """(folded label, topic) pairs whose label starts with `prefix`, in order."""
        key = fold(prefix)
        start = bisect.bisect_left(self._topic_labels, key)
        for label in self._topic_labels[start:]:
            if not label.startswith(key):
                break
            yield label, self._topic_by_label[label]

    @property
    def topic_labels(self) -> dict[str, Topic]:
        """Every folded id, label and alias, with its topic."""
        return self._topic_by_label

    @property
    def brief_labels(self) -> list[tuple[str, str]]:
        """Sorted (folded id or title, brief id) pairs."""
        return self._brief_labels


def load_library(root: Path, previous: Library | None = None) -> Library:
    """Load a briefs directory into a library; errors are kept on `library.errors`."""
    report = load_directory(root, previous.files if previous is not None else None)
    vocabulary = report.vocabulary
    if vocabulary is None:
        if previous is not None:
            # A broken vocabulary must not take every brief down: keep serving the last good set.
            return Library(previous.files.values(), previous.vocabulary, report.errors)
        vocabulary = Vocabulary.model_construct(topics=())
    return Library(report.briefs, vocabulary, report.errors)
