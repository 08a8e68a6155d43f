"""Helpers shared by every benchmark: a corpus on demand, percentiles, tables, the machine."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import discord
import pydantic
import yaml

from bench.corpus import generate


def corpus(briefs: int, where: Path | None, speakers: int = 5000, topics: int = 2000) -> Path:
    """A corpus of `briefs` briefs: `where` if it already holds one that size, else a new one."""
    if where is None:
        where = Path(tempfile.gettempdir()) / f"briefbot-bench-{briefs}-{speakers}-{topics}"
    existing = len(list(where.glob("brief-*.yaml"))) if where.is_dir() else -1
    if existing == briefs:
        return where
    if existing > 0:
        raise SystemExit(f"{where} holds {existing} briefs, not {briefs}; pick another folder")
    print(f"generating {briefs} briefs in {where} …", file=sys.stderr, flush=True)
    # Generate aside and rename: a concurrent benchmark never sees a half-written corpus.
    where.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=where.name + ".", dir=where.parent))
    generate(scratch, briefs, speakers, topics)
    try:
        if where.is_dir():
            where.rmdir()  # an empty folder (checked above); a full one raises and we keep ours
        scratch.rename(where)
    except OSError:
        shutil.rmtree(scratch, ignore_errors=True)  # someone else finished first
    return where


def percentile(samples: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of the samples."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(samples: list[float]) -> float:
    """The median of the samples."""
    return statistics.median(samples)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table with aligned columns."""
    widths = [max(len(c) for c in column) for column in zip(headers, *rows, strict=True)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    """PASS or MISS."""
    return "PASS" if ok else "MISS"


def machine() -> str:
    """One line naming the machine and the software the numbers come from."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    libyaml = "with libyaml" if yaml.__with_libyaml__ else "pure Python"
    return (
        f"machine: {platform.platform()}, {cores} usable cores; "
        f"Python {platform.python_version()}, discord.py {discord.__version__}, "
        f"pydantic {pydantic.VERSION}, PyYAML {yaml.__version__} ({libyaml})"
    )


def corpus_options(parser: argparse.ArgumentParser, briefs: int = 10_000) -> None:
    """The options every benchmark takes: corpus size and folder, and --strict."""
    parser.add_argument("--briefs", type=int, default=briefs, help="briefs in the corpus")
    parser.add_argument("--speakers", type=int, default=5000)
    parser.add_argument("--topics", type=int, default=2000)
    parser.add_argument("--corpus", type=Path, help="corpus folder (generated if missing)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any target is missed")
