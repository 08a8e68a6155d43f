"""Topics from the shared vocabulary only: ids, labels and aliases the article itself uses."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from bot.briefs.models import Vocabulary

MAX_TOPICS = 6
_WORD = re.compile(r"(?<![\w'’-])[a-z][a-z'’-]{4,}")
_COMMON = frozenset(
    """
    about after again against along already although among another around because before
    being between could during every first found going great having their there these
    thing think those three through under until where which while would years other still
    people since today first their which about never might should whether without really
    according earlier later world month months weeks told added statement including number
    percent million billion president minister officials said says there’s that’s it’s
    """.split()
)


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """Topics the article names, best first, and words that seem to want a topic of their own."""

    ids: tuple[str, ...]
    terms: dict[str, tuple[str, ...]]  # topic id → the vocabulary terms the article used
    suggestions: tuple[str, ...]


# Compiled terms per vocabulary (one vocabulary per run in practice).
_CACHE: dict[int, tuple[Vocabulary, dict[str, list[re.Pattern[str]]]]] = {}


def _terms(vocabulary: Vocabulary) -> dict[str, list[re.Pattern[str]]]:
    cached = _CACHE.get(id(vocabulary))
    if cached is not None and cached[0] is vocabulary:
        return cached[1]
    found: dict[str, list[re.Pattern[str]]] = {}
    for topic in vocabulary.topics:
        patterns = []
        for term in {topic.id.replace("-", " "), topic.label, *topic.aliases}:
            escaped = re.escape(term).replace(r"\ ", r"[\s-]+")
            # Short capitals (CT, UN, AI) match as written; other terms in any case.
            flags = 0 if term.isupper() and len(term) <= 4 else re.IGNORECASE
            patterns.append(re.compile(rf"(?<![\w-]){escaped}(?![\w-])", flags))
        found[topic.id] = patterns
    _CACHE.clear()
    _CACHE[id(vocabulary)] = (vocabulary, found)
    return found


def match_topics(text: str, vocabulary: Vocabulary) -> TopicMatch:
    """The vocabulary topics an article names (twice, or once in a phrase of several words)."""
    scores: Counter[str] = Counter()
    used: dict[str, list[str]] = {}
    for topic_id, patterns in _terms(vocabulary).items():
        for pattern in patterns:
            hits = pattern.findall(text)
            if not hits:
                continue
            weight = len(hits) + (
                1 if " " in pattern.pattern or "[\\s-]+" in pattern.pattern else 0
            )
            scores[topic_id] += weight
            used.setdefault(topic_id, []).append(hits[0])
    ids = tuple(t for t, score in scores.most_common() if score >= 2)[:MAX_TOPICS]
    vocabulary_words = {
        w
        for t in vocabulary.topics
        for n in (t.id, t.label, *t.aliases)
        for w in n.casefold().split()
    }
    # Common nouns only (words the text writes in lower case), not names.
    counts = Counter(
        w
        for w in _WORD.findall(text)
        if w not in _COMMON and w not in vocabulary_words and "’" not in w and "'" not in w
    )
    suggestions = tuple(w for w, n in counts.most_common(3) if n >= 3)
    return TopicMatch(ids, {t: tuple(dict.fromkeys(used[t])) for t in ids}, suggestions)


def topics_in(text: str, match: TopicMatch, vocabulary: Vocabulary) -> tuple[str, ...]:
    """Which of the brief's topics a quote, claim or key point names itself."""
    terms = _terms(vocabulary)
    return tuple(t for t in match.ids if any(p.search(text) for p in terms[t]))
