"""Generate a synthetic briefs corpus: N briefs of realistic size, thousands of speakers and topics.

python -m bench.corpus OUT_DIR --briefs 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's emitter is ~20x faster than the pure-Python one
    from yaml import CSafeDumper as Dumper
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as Dumper  # type: ignore[assignment]

FIRST = [
    "Amina", "Ben", "Chen", "Dara", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara",
]  # fmt: skip
WORDS = (
    "minister said talks would continue on trade security energy water climate border "
    "investment ports rail tariffs sanctions aid elections reform budget health schools "
    "agreement framework dialogue summit partnership cooperation reserves estimate growth"
).split()


def sentence(rng: random.Random, n: int) -> str:
    """A plausible-looking sentence of n words."""
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def dump(data: Any) -> str:
    """YAML text for `data`, in document order."""
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True)


def generate(
    out: Path, briefs: int, speakers: int = 5000, topics: int = 2000, seed: int = 7
) -> None:
    """Write `briefs` brief files, a vocabulary of `topics`, and source texts for grounding."""
    rng = random.Random(seed)
    (out / "sources").mkdir(parents=True, exist_ok=True)
    topic_ids = [f"topic-{i:04d}" for i in range(topics)]
    vocabulary = {
        "topics": [
            {"id": t, "label": f"Topic {i}", "aliases": [f"alias {i}", f"t{i}"]}
            for i, t in enumerate(topic_ids)
        ]
    }
    (out / "topics.yaml").write_text(dump(vocabulary), "utf-8")
    names = [f"{rng.choice(FIRST)} Speaker{i:05d}" for i in range(speakers)]
    start = dt.date(2020, 1, 1)
    for i in range(briefs):
        people = rng.sample(names, 5)
        quotes = []
        for _ in range(6):
            speaker = rng.choice(people)
            text = sentence(rng, rng.randint(12, 40))
            if rng.random() < 0.1:  # a readout that names someone else in the brief
                other = rng.choice([p for p in people if p != speaker])
                text = f"{text[:-1]}, as {other.split()[-1]} put it."
            quotes.append(
                {
                    "speaker": speaker,
                    "text": text,
                    "context": "Press conference",
                    "topics": rng.sample(topic_ids, 2),
                }
            )
        points = [{"text": sentence(rng, 25), "topics": rng.sample(topic_ids, 2)} for _ in range(8)]
        figure = f"${rng.randint(1, 99)} billion"
        claim_text = f"Spending will reach {figure}."
        source = "\n".join(
            [sentence(rng, 30)]
            + [f"“{q['text']}” said {q['speaker']}." for q in quotes]
            + [claim_text]
        )
        source_name = f"sources/brief-{i:05d}.txt"
        (out / source_name).write_text(source, "utf-8")
        brief = {
            "id": f"brief-{i:05d}",
            "title": f"Synthetic story {i}: " + sentence(rng, 6),
            "date": {
                "value": (start + dt.timedelta(days=i % 2000)).isoformat(),
                "status": "stated",
            },
            "source": {
                "outlet": "Synthetic Wire",
                "url": f"https://example.org/{i}",
                "text": source_name,
            },
            "summary": " ".join(sentence(rng, 20) for _ in range(3)),
            "key_points": points,
            "people": [{"name": p, "aliases": [p.split()[-1]], "role": "Official"} for p in people],
            "quotes": quotes,
            "claims": [
                {
                    "claimant": people[0],
                    "text": claim_text,
                    "figures": [{"value": figure, "description": "spending"}],
                    "topics": rng.sample(topic_ids, 1),
                }
            ],
            "topics": rng.sample(topic_ids, 4),
        }
        (out / f"brief-{i:05d}.yaml").write_text(dump(brief), "utf-8")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--briefs", type=int, default=10_000)
    parser.add_argument("--speakers", type=int, default=5000)
    parser.add_argument("--topics", type=int, default=2000)
    args = parser.parse_args()
    started = time.perf_counter()
    generate(args.out, args.briefs, args.speakers, args.topics)
    print(f"{args.briefs} briefs written to {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
