"""Ingest quality and speed on the hand-labelled development set: `python -m bench.ingest`.

For each page of `bench/ingest/labels/` it extracts the article from the page's `source.html`
(../shared/ingest-devset), runs the rules, and scores the quotations and their speakers against
the hand labels:

* a predicted quotation matches a labelled one when they overlap by at least half of the
  labelled span (positions in the article text; whitespace and quote marks normalised);
  optional labels are neither required nor penalised (a prediction matching one is ignored);
* quote precision, recall, F1; speaker accuracy on matched quotations; attribution F1 (found
  and the right speaker; an unnamed speaker is right only when left unnamed);
* speed: ms per 1,000 words of the rules alone (best of --repeat runs), HTML extraction apart;
* every page's draft brief must pass the brief loader beside briefs/topics.yaml.

The tune half and the holdout half are reported apart; the rules were tuned on the tune half only.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.briefs.library import load_library
from bot.ingest.article import read_article
from bot.ingest.attribute import ORGANISATION, PERSON, UNKNOWN, UNNAMED, Attribution
from bot.ingest.draft import write_draft
from bot.ingest.engine import analyse

REPO = Path(__file__).resolve().parents[2]
LABELS = REPO / "bench" / "ingest" / "labels"
DEVSET = REPO.parent / "shared" / "ingest-devset"
TOPICS = REPO / "briefs" / "topics.yaml"
_QUOTE_CLASS = {
    '"': '["“”„‟]',
    "“": '["“”„‟]',
    "”": '["“”„‟]',
    "'": "['‘’]",
    "‘": "['‘’]",
    "’": "['‘’]",
}
_STOP = frozenset("the a an of mr mr. ms ms. mrs mrs. dr dr. and".split())


@dataclass
class Score:
    """Counts for one page or a total."""

    required: int = 0
    optional: int = 0
    predicted: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    right: int = 0  # matched with the right speaker
    words: int = 0
    seconds: float = 0.0
    extraction: float = 0.0
    misses: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in ("required", "optional", "predicted", "tp", "fp", "fn", "right", "words"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.seconds += other.seconds
        self.extraction += other.extraction

    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def attribution(self) -> float:
        p = self.right / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.right / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return 2 * p * r / (p + r) if p + r else 0.0

    def speaker_accuracy(self) -> float:
        return self.right / self.tp if self.tp else 1.0

    def ms_per_1000_words(self) -> float:
        return self.seconds * 1000 / self.words * 1000 if self.words else 0.0


def _pattern(text: str) -> re.Pattern[str]:
    parts = []
    for char in " ".join(text.split()):
        if char == " ":
            parts.append(r"\s+")
        else:
            parts.append(_QUOTE_CLASS.get(char, re.escape(char)))
    return re.compile("".join(parts))


def _locate(text: str, labels: list[dict]) -> list[tuple[int, int] | None]:
    """Each label's span in the article text, searched in article order."""
    found: list[tuple[int, int] | None] = []
    cursor = 0
    for label in labels:
        pattern = _pattern(str(label["text"]))
        match = pattern.search(text, cursor) or pattern.search(text)
        if match is None:
            found.append(None)
            continue
        found.append((match.start(), match.end()))
        cursor = match.start() + 1
    return found


def _fold(name: str) -> set[str]:
    words = re.findall(r"[\w’'.-]+", name.casefold().replace("’s", "").replace("'s", ""))
    return {w.strip(".") for w in words if w not in _STOP}


def _same(a: str, b: str) -> bool:
    x, y = _fold(a), _fold(b)
    return bool(x and y) and (x <= y or y <= x)


def speaker_right(label: dict, attribution: Attribution) -> bool:
    """Whether the predicted speaker is the labelled one."""
    speaker = attribution.speaker
    if "person" in label:
        return speaker.kind == PERSON and _same(label["person"], speaker.name)
    if "organisation" in label:
        return speaker.kind == ORGANISATION and _same(label["organisation"], speaker.name)
    if "unnamed" in label:
        return speaker.kind == UNNAMED
    return speaker.kind in (UNKNOWN, UNNAMED)


def _describe(label: dict) -> str:
    kind, value = next(iter(label.items()))
    return f"{kind}: {value}"


def _best_match(
    span: tuple[int, int], predictions: list[Attribution], used: set[int]
) -> int | None:
    """The unused prediction overlapping at least half of the labelled span the most."""
    lo, hi = span
    match, best = None, 0
    for i, attribution in enumerate(predictions):
        if i in used:
            continue
        q = attribution.quotation.span
        overlap = min(hi, q.end) - max(lo, q.start)
        if overlap >= (hi - lo) / 2 and overlap > best:
            best, match = overlap, i
    return match


def score_page(page: dict, repeat: int, drafts: Path) -> tuple[Score, list[str]]:
    """Score one labelled page; also write its draft into `drafts`."""
    source = DEVSET / page["page"] / "source.html"
    article = read_article(str(source))
    best = float("inf")
    analysis = analyse(article.text)
    for _ in range(repeat):
        started = time.perf_counter()
        analysis = analyse(article.text)
        best = min(best, time.perf_counter() - started)
    write_draft(article, analysis, drafts, page["page"], force=True)
    labels = list(page.get("quotes") or [])
    spans = _locate(article.text, labels)
    score = Score(
        words=len(article.text.split()), seconds=best, extraction=article.extraction_seconds
    )
    score.required = sum(not q.get("optional") for q in labels)
    score.optional = len(labels) - score.required
    predictions = analysis.attributions
    score.predicted = len(predictions)
    used: set[int] = set()
    notes: list[str] = []
    for label, span in zip(labels, spans, strict=True):
        optional = bool(label.get("optional"))
        match = _best_match(span, predictions, used) if span is not None else None
        if match is not None:
            used.add(match)
            if optional:
                continue
            score.tp += 1
            if speaker_right(label["speaker"], predictions[match]):
                score.right += 1
            else:
                got = predictions[match].speaker
                notes.append(
                    f"  wrong speaker: {_describe(label['speaker'])} ≠ {got.kind}: {got.name}"
                    f" [{predictions[match].cue}] — {label['text'][:70]!r}"
                )
        elif not optional:
            score.fn += 1
            where = "" if span is not None else " (label not found in the extracted text)"
            notes.append(f"  missed{where}: {_describe(label['speaker'])} — {label['text'][:70]!r}")
    for i, attribution in enumerate(predictions):
        if i not in used:
            score.fp += 1
            notes.append(
                f"  extra: {attribution.speaker.kind}: {attribution.speaker.name} — "
                f"{attribution.quotation.text[:70]!r}"
            )
    return score, notes


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _row(name: str, split: str, s: Score) -> list[str]:
    p, r, f = s.prf()
    return [
        name,
        split,
        f"{s.required}+{s.optional}",
        str(s.predicted),
        str(s.tp),
        str(s.fp),
        str(s.fn),
        _pct(p),
        _pct(r),
        _pct(f),
        _pct(s.speaker_accuracy()),
        _pct(s.attribution()),
        f"{s.ms_per_1000_words():.1f}",
        f"{s.extraction * 1000:.0f}",
    ]


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(c) for c in column) for column in zip(headers, *rows, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per page (best shown)")
    parser.add_argument(
        "--misses",
        choices=("none", "tune", "all"),
        default="tune",
        help="list each miss for the tune half (default), every page, or none",
    )
    parser.add_argument("--pages", nargs="*", help="only these pages")
    args = parser.parse_args(argv)
    if not DEVSET.is_dir():
        print(f"no development set at {DEVSET}; nothing to measure", file=sys.stderr)
        return 0
    pages = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(LABELS.glob("*.yaml"))]
    if args.pages:
        pages = [p for p in pages if p["page"] in args.pages]
    pages.sort(key=lambda p: (p["split"] != "tune", p["page"]))
    drafts = Path(tempfile.mkdtemp(prefix="briefbot-ingest-bench-"))
    shutil.copy(TOPICS, drafts / "topics.yaml")
    rows: list[list[str]] = []
    totals = {"tune": Score(), "holdout": Score()}
    all_notes: list[str] = []
    try:
        for page in pages:
            score, notes = score_page(page, args.repeat, drafts)
            totals[page["split"]].add(score)
            rows.append(_row(page["page"], page["split"], score))
            if args.misses == "all" or (args.misses == "tune" and page["split"] == "tune"):
                all_notes += [f"{page['page']}:", *notes] if notes else []
        overall = Score()
        for split, total in totals.items():
            if total.words:
                rows.append(_row(f"TOTAL {split}", split, total))
                overall.add(total)
        rows.append(_row("TOTAL all", "both", overall))
        headers = [
            "page",
            "split",
            "labels",
            "pred",
            "TP",
            "FP",
            "FN",
            "P%",
            "R%",
            "F1%",
            "speaker%",
            "attrF1%",
            "ms/1k words",
            "extract ms",
        ]
        print(_table(headers, rows))
        library = load_library(drafts)
        print(
            f"\ndrafts passing the brief loader: {len(library.briefs)}/{len(pages)}"
            + "".join(f"\n  {error}" for error in library.errors)
        )
        if all_notes:
            print("\nmisses:\n" + "\n".join(all_notes))
    finally:
        shutil.rmtree(drafts, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
