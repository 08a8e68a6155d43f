"""One reusable label index: folded labels → values, by exact label, prefix, substring, or fuzzy.

The library keeps one for briefs (ids and titles), one for speakers (names, aliases, surnames)
and one for topics (ids, labels, aliases). Labels are folded (`bot.text.fold`) by the caller.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from bot.briefs.fuzzy import Fuzzy

_TOP = chr(0x10FFFF)
T = TypeVar("T")


class LabelIndex(Generic[T]):
    """Sorted folded labels, each with the values it names (in the order they were given)."""

    def __init__(self, pairs: Iterable[tuple[str, T]]) -> None:
        by_label: dict[str, list[T]] = {}
        for label, value in pairs:
            values = by_label.setdefault(label, [])
            if value not in values:
                values.append(value)
        self._values = {label: tuple(values) for label, values in by_label.items()}
        self.labels: list[str] = sorted(by_label)
        self._scan = _Scan(self.labels)
        self._fuzzy = Fuzzy(self.labels)

    def get(self, label: str) -> tuple[T, ...]:
        """The values a folded label names (empty if none)."""
        return self._values.get(label, ())

    def with_prefix(self, key: str) -> Iterator[str]:
        """The labels that start with the folded `key`, in order, without copying the list."""
        labels = self.labels
        start = bisect.bisect_left(labels, key)
        # Every label starting with `key` sorts before key + the highest code point, except
        # ones that continue with that very code point: step over those one by one.
        end = bisect.bisect_left(labels, key + _TOP, start)
        while end < len(labels) and labels[end].startswith(key):
            end += 1
        return map(labels.__getitem__, range(start, end))

    def containing(self, key: str) -> Iterator[str]:
        """The labels that contain the folded `key`, each once, in order."""
        return self._scan.containing(key)

    def partial(self, key: str) -> tuple[T, ...]:
        """The values with a label that starts with the folded `key`, or holds it as whole
        words (`india` in "india–pakistan relations"), each once."""
        if not key.strip():
            return ()
        found: dict[T, None] = {}
        for label in self.with_prefix(key):
            found.update(dict.fromkeys(self._values[label]))
        bounded = re.compile(r"(?<!\w)" + re.escape(key) + r"(?!\w)")
        for label in self.containing(key):
            if bounded.search(label):
                found.update(dict.fromkeys(self._values[label]))
        return tuple(found)

    def like(self, key: str, n: int) -> list[str]:
        """Up to `n` labels that look like the folded `key` (did-you-mean), best first."""
        return self._fuzzy.close(key, n)


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
