"""Autocomplete latency: p50 and p99 per keystroke for speaker, topic and brief.

    python -m bench.complete --briefs 10000 [--corpus DIR]

Prefixes are drawn from the corpus: empty, 1, 2 and 3 letters, a full name, and 3+ letters
that start no label (the slowest path: a substring scan of every label).
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable

from bench.common import corpus, corpus_options, machine, percentile, table, verdict
from bot.briefs.library import Library, load_library
from bot.queries import complete

TARGET_P99_MS = 5.0


def prefixes(labels: list[str], rng: random.Random, count: int) -> dict[str, list[str]]:
    """Typed inputs by kind of keystroke, as a user would type them."""
    chosen = rng.sample(labels, min(count, len(labels)))
    return {
        "''": [""],
        "1 letter": [label[:1] for label in chosen],
        "2 letters": [label[:2] for label in chosen],
        "3 letters": [label[:3] for label in chosen],
        "full name": chosen,
        "no prefix hit": [label[1:6] + "q" for label in chosen],
    }


def measure(
    fn: Callable[[Library, str], object], library: Library, typed: list[str]
) -> list[float]:
    """Milliseconds per call, over enough calls for a stable p99."""
    rounds = max(1, 400 // len(typed))
    samples = []
    for _ in range(rounds):
        for text in typed:
            started = time.perf_counter()
            fn(library, text)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    corpus_options(parser)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    root = corpus(args.briefs, args.corpus, args.speakers, args.topics)
    library = load_library(root)
    gc.collect()  # the load's garbage is not this benchmark's
    rng = random.Random(args.seed)
    kinds: dict[str, tuple[Callable[[Library, str], object], list[str]]] = {
        "speaker": (complete.speakers, sorted(library.speakers)),
        "topic": (complete.topics, [t.label for t in library.vocabulary.topics]),
        "brief": (complete.briefs, [b.title for b in library.briefs]),
    }
    rows = []
    missed = False
    for kind, (fn, labels) in kinds.items():
        for label, typed in prefixes(labels, rng, 40).items():
            fn(library, typed[0])  # warm up
            samples = measure(fn, library, typed)
            p50, p99 = percentile(samples, 50), percentile(samples, 99)
            ok = verdict(p99 <= TARGET_P99_MS)
            missed |= ok == "MISS"
            rows.append([kind, label, f"{p50:.3f}", f"{p99:.3f}", f"≤ {TARGET_P99_MS:g}", ok])
    print(
        f"Autocomplete over {len(library.briefs)} briefs, {len(library.speakers)} speakers, "
        f"{len(library.vocabulary.topics)} topics ({root})"
    )
    print(machine())
    print(table(["kind", "typed", "p50 ms", "p99 ms", "target p99 ms", "result"], rows))
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
