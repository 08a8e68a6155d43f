"""An immutable snapshot of all loaded briefs, with the indexes every query uses."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.briefs.errors import LoadError
from bot.briefs.fast import gc_paused
from bot.briefs.labels import LabelIndex
from bot.briefs.loader import LoadedBrief, load_directory
from bot.briefs.models import (
    Brief,
    Claim,
    KeyPoint,
    Organisation,
    Person,
    Quote,
    Topic,
    Vocabulary,
    order_key,
)
from bot.text import fold


@dataclass(frozen=True, slots=True)
class Speaker:
    """A person or organisation across all briefs, merged by canonical name."""

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


_WORD = re.compile(r"\w+")
_EMPTY = TopicEntries((), (), (), ())


class Library:
    """All briefs, newest first, indexed by id, speaker and topic. Built once; never mutated."""

    def __init__(
        self,
        loaded: Iterable[LoadedBrief],
        vocabulary: Vocabulary,
        errors: Iterable[LoadError] = (),
    ) -> None:
        items = sorted(loaded, key=lambda lb: order_key(lb.brief), reverse=True)
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
        # Each folded id and title with the ids of the briefs it names, smallest id first.
        self.brief_index: LabelIndex[str] = LabelIndex(
            sorted({(fold(label), b.id) for b in self.briefs for label in (b.id, b.title)})
        )

    # -- briefs ---------------------------------------------------------------------------

    def get(self, brief_id: str) -> Brief | None:
        """The brief with this id."""
        return self._by_id.get(brief_id)

    def find_brief(self, text: str) -> Brief | None:
        """The brief with this id or title (case-insensitive)."""
        brief = self._by_id.get(text.strip())
        if brief is not None:
            return brief
        ids = self.brief_index.get(fold(text))
        return self._by_id[ids[0]] if ids else None

    def position(self, brief_id: str) -> int:
        """Where a brief stands in newest-first order (0 is the newest)."""
        return self._position[brief_id]

    def brief_id_for_label(self, label: str) -> str:
        """The brief a folded id or title names (the greatest id, if several share a title)."""
        return self.brief_index.get(label)[-1]

    @property
    def latest(self) -> Brief | None:
        """The newest brief."""
        return self.briefs[0] if self.briefs else None

    # -- speakers -------------------------------------------------------------------------

    def _build_speakers(self, refs: list[tuple[QuoteRef, ...]]) -> None:
        quotes: dict[str, list[QuoteRef]] = defaultdict(list)
        people: dict[str, Person | Organisation] = {}
        labels: dict[str, set[str]] = defaultdict(set)
        # Per distinct (name, aliases): the tests that find the person named in a quote.
        checks_of: dict[tuple[str, tuple[str, ...]], list[_Check]] = {}
        brief_checks: list[list[_Check]] = []
        # Newest first, so each list below is newest first too.
        for brief, brief_refs in zip(self.briefs, refs, strict=True):
            checks: list[_Check] = []
            # Organisations are found like people (name and aliases), but have no surname.
            everyone: tuple[Person | Organisation, ...] = (*brief.people, *brief.organisations)
            for person in everyone:
                people.setdefault(person.name, person)
                key = (person.name, person.aliases)
                found = checks_of.get(key)
                if found is None:  # a person not seen before (else: same labels as then)
                    found = checks_of[key] = _name_checks(person)
                    names = (person.name, *person.aliases)
                    labels[person.name].update(fold(n) for n in names)
                    if isinstance(person, Person):  # people type surnames: "Dar", "Rubio"
                        labels[person.name].add(fold(person.name.split()[-1]))
                checks += found
            brief_checks.append(checks)
            for ref in brief_refs:
                # Unnamed speakers are shown under their description, never looked up.
                name = ref.quote.speaker_name
                if name is not None:
                    quotes[name].append(ref)
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
                    if longest not in text or name in (ref.quote.speaker_name, last):
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
        # Each folded id, label and alias with its topic (the vocabulary allows only one).
        self.topic_index: LabelIndex[Topic] = LabelIndex(self.vocabulary.labels().items())
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

    def topic_for_label(self, label: str) -> Topic:
        """The topic a folded id, label or alias names."""
        return self.topic_index.get(label)[0]


# A test that a quote names a person: the longest word of one of their names (a quick
# substring check: a word of the quote is also a substring of it), the person's name, and all
# the words of that name, which must all be words of the quote.
_Check = tuple[str, str, frozenset[str]]


def _name_checks(person: Person | Organisation) -> list[_Check]:
    """One check per name and alias of a person."""
    checks = []
    for label in (person.name, *person.aliases):
        words = frozenset(_WORD.findall(label.casefold()))
        checks.append((max(words, key=len, default=""), person.name, words))
    return checks


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
