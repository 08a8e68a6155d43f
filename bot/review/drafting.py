"""Article → draft brief YAML, through a drafter the review service is given.

The drafter is a seam: `bot.ingest`'s engine plugs in here when it lands. Until then
`simple_drafter` makes a plain, honest draft: quotes in double marks, a speaker only where
"X said" / "said X" names one beside the quote, every other attribution marked uncertain with
the reason, date unknown, outlet and link null, topics only from the vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from bot.briefs.models import Vocabulary
from bot.review.article import Article
from bot.store.records import Uncertain
from bot.text import clip, first_sentences, fold


@dataclass(frozen=True, slots=True)
class DraftText:
    """A drafted brief: its id, its YAML, and the attributions it is unsure of."""

    brief_id: str
    data: dict[str, Any]
    notes: tuple[Uncertain, ...] = ()

    @property
    def yaml(self) -> str:
        """The brief as YAML."""
        return dump(self.data)


# (article, vocabulary, the id to use or None to make one from the headline) → draft.
Drafter = Callable[[Article, Vocabulary, str | None], DraftText]

_QUOTE = re.compile(r"[“\"]([^”“\"\n]{3,}?)[”\"]")
_NAME = r"((?:[A-Z][\w'’-]+\s){1,3}[A-Z][\w'’-]+)"
_AFTER = re.compile(rf"^[,.]?\s*(?:said|says|added|told \w+)\s+{_NAME}")
_AFTER_NAME_FIRST = re.compile(rf"^[,.]?\s*{_NAME}\s+(?:said|says|added)")
_BEFORE = re.compile(rf"{_NAME}\s+(?:said|says|added|told \w+)[:,]?\s*$")
_ANY_NAME = re.compile(_NAME)


def slug(headline: str) -> str:
    """A brief id from a headline: lowercase words joined by hyphens, at most 80 characters."""
    words = re.findall(r"[a-z0-9]+", fold(headline))
    text = "-".join(words)[:80].strip("-")
    return text or "draft"


def dump(data: dict[str, Any]) -> str:
    """Brief data as YAML the loader reads back the same."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def simple_drafter(article: Article, vocabulary: Vocabulary, brief_id: str | None) -> DraftText:
    """A plain draft of an article; unsure attributions are noted, never hidden."""
    brief_id = brief_id or slug(article.headline)
    body_lines = article.text.splitlines()[1:]
    paragraphs = [" ".join(p.split()) for p in body_lines if p.strip()]
    body = " ".join(paragraphs)
    topics = _topics(article.text, vocabulary)
    people: dict[str, dict[str, Any]] = {}
    quotes: list[dict[str, Any]] = []
    notes: list[Uncertain] = []
    seen_names: list[str] = []
    for paragraph in paragraphs:
        position = 0
        for match in _QUOTE.finditer(paragraph):
            seen_names += _names(paragraph[position : match.start()])
            position = match.end()
            text = match.group(1).strip().rstrip(",")
            speaker, reason = _speaker(paragraph, match, seen_names)
            if speaker is None:
                continue  # nobody named anywhere before it: not a quote the draft can hold
            people.setdefault(speaker, {"name": speaker, "aliases": _aliases(speaker)})
            if reason is not None:
                notes.append(Uncertain(len(quotes), reason))
            quotes.append(
                {
                    "speaker": speaker,
                    "text": text,
                    "context": "Setting not stated in the source (draft: check)",
                    "kind": "full" if text[:1].isupper() else "partial",
                    "topics": topics,
                }
            )
        seen_names += _names(paragraph[position:])
    data: dict[str, Any] = {
        "id": brief_id,
        "title": clip(article.headline, 300),
        "date": {"status": "unknown"},
        "source": {
            "outlet": None,
            "url": None,
            "headline": clip(article.headline, 300),
            "text": f"sources/{brief_id}.txt",
        },
        "summary": first_sentences(body, 600) or article.headline,
        "key_points": [{"text": first_sentences(body, 300) or article.headline, "topics": topics}],
        "people": _unique_aliases(list(people.values())),
        "quotes": quotes,
        "claims": [],
        "topics": topics,
    }
    return DraftText(brief_id, data, tuple(notes))


def _speaker(
    paragraph: str, match: re.Match[str], seen: list[str]
) -> tuple[str | None, str | None]:
    """Who said the quote, and why that is uncertain (None when a cue names them)."""
    after = paragraph[match.end() : match.end() + 80]
    before = paragraph[max(0, match.start() - 80) : match.start()]
    for pattern, text in ((_AFTER, after), (_AFTER_NAME_FIRST, after), (_BEFORE, before)):
        cue = pattern.search(text)
        name = _name(cue.group(1)) if cue is not None else None
        if name is not None:
            return name, None
    if seen:
        return seen[-1], (
            f"no 'said' names a speaker beside this quote; the nearest name before it, "
            f"{seen[-1]}, is a guess"
        )
    return None, None


# Words that title a name rather than belong to it ("Councillor Sam Roe" is Sam Roe).
_TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "mayor",
        "councillor",
        "councilor",
        "secretary",
        "president",
        "minister",
        "senator",
        "governor",
        "chair",
        "chairman",
        "chairwoman",
        "judge",
        "general",
        "professor",
        "prof",
        "sir",
        "dame",
        "lord",
        "lady",
        "rep",
        "representative",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "prime",
        "foreign",
        "chief",
        "deputy",
    ]
)


def _name(raw: str) -> str | None:
    """A person's name without leading titles, if at least two words are left."""
    words = raw.split()
    while words and words[0].casefold().rstrip(".") in _TITLES:
        words.pop(0)
    return " ".join(words) if len(words) >= 2 else None


def _names(text: str) -> list[str]:
    return [n for n in map(_name, _ANY_NAME.findall(text)) if n is not None]


def _aliases(name: str) -> list[str]:
    surname = name.rsplit(maxsplit=1)[-1]
    return [surname] if surname != name else []


def _unique_aliases(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop an alias that is another person's name or alias (the loader refuses repeats)."""
    counts: dict[str, int] = {}
    for person in people:
        for label in (person["name"], *person["aliases"]):
            counts[label.casefold()] = counts.get(label.casefold(), 0) + 1
    for person in people:
        person["aliases"] = [a for a in person["aliases"] if counts[a.casefold()] == 1]
    return people


def _topics(text: str, vocabulary: Vocabulary) -> list[str]:
    """Vocabulary topics whose id, label or an alias appears in the text as whole words."""
    words = f" {' '.join(re.findall(r'[a-z0-9]+', fold(text)))} "
    found = []
    for label, topic in vocabulary.labels().items():
        key = " ".join(re.findall(r"[a-z0-9]+", label))
        if key and f" {key} " in words and topic.id not in found:
            found.append(topic.id)
    return found
