"""Did-you-mean over a fixed set of labels, quick however many labels there are."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence
from itertools import chain

# Up to this many labels, difflib looks at every one (a few milliseconds at most).
DIRECT_LIMIT = 1000
# Past that, difflib looks only at the labels sharing the most pieces with the input.
SHORTLIST = 60
# difflib's cost grows with the lengths compared: long labels (titles) get a shorter list.
SHORTLIST_CHARS = 1500
# How many label positions one lookup may count (a few milliseconds).
BUDGET = 6000


# Keys up to this long are matched on pairs of characters: a swap in a word that short can
# leave no three-character piece in common ("neom" and "noem").
SHORT_KEY = 5


def grams(key: str, size: int) -> set[str]:
    """The pieces of `size` characters of a key, padded so its ends count too."""
    padded = f" {key} "
    return {padded[i : i + size] for i in range(len(padded) - size + 1)}


class Fuzzy:
    """Labels that look like what a user typed (typos, missing or swapped letters), best first.

    difflib over 20 000 labels takes a third of a second, and a command waiting on it stalls
    every other interaction on the event loop. A label difflib rates close nearly always shares
    trigrams (pairs, for short input) with it, so an index of those picks a shortlist and
    difflib ranks that.
    """

    def __init__(self, labels: Sequence[str]) -> None:
        self._labels = labels
        self._postings: dict[int, dict[str, list[int]]] = {}

    def _index(self, size: int) -> dict[str, list[int]]:
        # Built on the first miss, not at load: most libraries never need it.
        postings = self._postings.get(size)
        if postings is None:
            postings = self._postings[size] = {}
            for i, label in enumerate(self._labels):
                for gram in grams(label, size):
                    postings.setdefault(gram, []).append(i)
        return postings

    def close(self, key: str, n: int, cutoff: float = 0.6) -> list[str]:
        """Up to `n` labels whose similarity to the folded `key` is at least `cutoff`."""
        labels: Sequence[str] = self._labels
        if len(labels) > DIRECT_LIMIT:
            size = 2 if len(key) <= SHORT_KEY else 3
            postings = self._index(size)
            found = [postings[g] for g in grams(key, size) if g in postings]
            found.sort(key=len)
            # Count shared pieces, rarest first, until the budget is spent (but at least the
            # three rarest): a piece in thousands of labels costs time and ranks little.
            telling, spent = [], 0
            for i, posting in enumerate(found):
                spent += len(posting)
                if i >= 3 and spent > BUDGET:
                    break
                telling.append(posting)
            shared = Counter(chain.from_iterable(telling))
            # Rank by shared pieces over both lengths, as difflib's ratio weighs matches, so
            # that among labels sharing as much, those of the input's length come first.
            length = len(key)
            pool = shared.most_common(SHORTLIST * 5)
            pool.sort(key=lambda pair: -pair[1] / (length + len(self._labels[pair[0]])))
            shortlist: list[str] = []
            chars = 0
            for i, _ in pool[:SHORTLIST]:
                shortlist.append(self._labels[i])
                chars += len(self._labels[i])
                if chars > SHORTLIST_CHARS:
                    break
            labels = shortlist
        return difflib.get_close_matches(key, labels, n=n, cutoff=cutoff)
