"""Autocomplete suggestions for speaker, topic and brief: at most 25, ranked, for any prefix."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice

from bot import limits
from bot.briefs.format import brief_date
from bot.briefs.library import BriefHead, Library
from bot.reply import Choice
from bot.text import clip, fold

# Past this many prefix hits the ranking has enough to choose from; bounds work per keystroke.
_SCAN = 500


def _name(text: str) -> str:
    return clip(" ".join(text.split()), limits.CHOICE_NAME)


def _ranked(
    prefix: str,
    by_prefix: Iterable[str],
    containing: Callable[[str], Iterable[str]],
    key: Callable[[str], str],
    rank: Callable[[str], tuple[int | str, ...]],
) -> list[str]:
    """Values whose labels start with the input, then (if room) whose labels contain it."""
    typed = fold(prefix)
    hits: dict[str, bool] = {}  # value -> whether some label of it is exactly what was typed
    for label in islice(by_prefix, _SCAN):
        value = key(label)
        hits[value] = hits.get(value, False) or label == typed
    ordered = sorted(hits, key=lambda v: (not hits[v], *rank(v)))
    if len(ordered) < limits.AUTOCOMPLETE_CHOICES and len(typed) >= 3:
        extra = dict.fromkeys(key(lb) for lb in containing(typed))
        ordered += sorted((v for v in extra if v not in hits), key=rank)
    return ordered[: limits.AUTOCOMPLETE_CHOICES]


def speakers(library: Library, prefix: str) -> list[Choice]:
    """Speakers by name, alias or surname; most quoted first."""
    people = library.speakers

    def rank(name: str) -> tuple[int | str, ...]:
        return (-people[name].quote_count, name)

    if not fold(prefix):
        names = [s.name for s in library.speakers_ranked[: limits.AUTOCOMPLETE_CHOICES]]
    else:
        # A label can name several people (two with one surname); expand after ranking labels.
        names = _ranked(
            prefix,
            library.speaker_index.with_prefix(fold(prefix)),
            library.speaker_index.containing,
            lambda label: "\0".join(library.speaker_index.get(label)),
            lambda key: rank(key.split("\0")[0]),
        )
        names = list(dict.fromkeys(n for key in names for n in key.split("\0")))[
            : limits.AUTOCOMPLETE_CHOICES
        ]
    return [_speaker_choice(library, n) for n in names]


def _speaker_choice(library: Library, name: str) -> Choice:
    speaker = library.speakers[name]
    shown = f"{name} — {speaker.role}" if speaker.role else name
    return Choice(_name(shown), name)


def topics(library: Library, prefix: str) -> list[Choice]:
    """Topics by id, label or alias; most used first."""
    if not fold(prefix):
        found = [t.id for t in library.topics_ranked[: limits.AUTOCOMPLETE_CHOICES]]
    else:
        found = _ranked(
            prefix,
            library.topic_index.with_prefix(fold(prefix)),
            library.topic_index.containing,
            lambda label: library.topic_for_label(label).id,
            lambda topic_id: (-library.topic_usage(topic_id), topic_id),
        )
    choices = []
    for topic_id in found:
        topic = library.topic_by_id(topic_id)
        assert topic is not None
        choices.append(Choice(_name(f"{topic.label} ({topic_id})"), topic_id))
    return choices


def briefs(library: Library, prefix: str) -> list[Choice]:
    """Briefs by id or title; newest first."""
    typed = fold(prefix)
    if not typed:
        heads = [head for head, _, _ in library.heads(0, limits.AUTOCOMPLETE_CHOICES)]
        return [_brief_choice(head) for head in heads]
    labels = library.brief_index
    # Label and id pairs in one query each (never a query per label).
    pairs = labels.ids_with_prefix(typed, _SCAN)
    exact = {i for label, i in pairs if label == typed}
    by_prefix = dict.fromkeys(i for _, i in pairs)
    # Exactly what was typed first, then the rest; each group newest first.
    found = library.newest_first(list(exact))
    found += [i for i in library.newest_first(list(by_prefix)) if i not in exact]
    room = limits.AUTOCOMPLETE_CHOICES - len(found)
    if room > 0 and len(typed) >= 3:
        # Only as many as there is room for: each brief has two labels (id and title), and
        # the labels that start with what was typed contain it too.
        bound = 2 * (room + len(by_prefix)) + 2
        extra = dict.fromkeys(
            i for _, i in labels.ids_containing(typed, bound) if i not in by_prefix
        )
        found += library.newest_first(list(extra))
    choices = []
    for brief_id in found[: limits.AUTOCOMPLETE_CHOICES]:
        head = library.head(brief_id)
        if head is not None:
            choices.append(_brief_choice(head))
    return choices


def _brief_choice(head: BriefHead) -> Choice:
    return Choice(_name(f"{head.title} ({brief_date(head)})"), head.id)


def topic_list(library: Library, typed: str) -> list[Choice]:
    """Topics for a comma-separated list: completes the last one, keeping those already typed."""
    done, _, last = typed.rpartition(",")
    prefix = f"{done}, " if done else ""
    values = (f"{prefix}{choice.value}" for choice in topics(library, last.strip()))
    # A choice's value (and name) is capped: a list that would not fit is not offered.
    choices = [Choice(v, v) for v in values if len(v) <= limits.CHOICE_VALUE]
    return choices[: limits.AUTOCOMPLETE_CHOICES]


def dates(library: Library, typed: str) -> list[Choice]:
    """Dates for since/until: the briefs' dates that start with what was typed, newest first."""
    seen: list[str] = []
    for head, _, _ in library.heads(0, 500):
        value = head.date.value
        if value is None:
            continue
        text = value.isoformat()
        if text.startswith(typed.strip()) and text not in seen:
            seen.append(text)
        if len(seen) >= limits.AUTOCOMPLETE_CHOICES:
            break
    return [Choice(d, d) for d in seen]
