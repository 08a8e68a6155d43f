"""Load time and peak memory of N briefs, cold and warm, each run in a fresh process.

    python -m bench.load --briefs 10000 [--corpus DIR] [--repeat 3]

Modes:
  cold          no cache: parse, validate and ground every file (worker processes past 500 files)
  cold serial   the same in one process, to show what the workers buy
  cold + cache  a cold load that also writes the validated cache
  warm          the next start: every brief comes from the cache (stamps unchanged)
Seconds are the `load_library` call (interpreter start and imports excluded); peak RSS is the
process's `ru_maxrss` (workers' peak shown apart).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import corpus, corpus_options, machine, median, table, verdict

TARGET_SECONDS = 2.0
TARGET_RSS_MB = 300.0
MODES = ("cold", "cold serial", "cold + cache", "warm")


def child(mode: str, root: Path, cache: Path) -> None:
    """Run one load in this (fresh) process and print what it cost, as JSON."""
    from bot.briefs import fast
    from bot.briefs.library import load_library

    if mode == "cold serial":
        fast.PARALLEL_MIN_FILES = sys.maxsize
    if mode == "cold + cache":
        cache.unlink(missing_ok=True)
    started = time.perf_counter()
    library = load_library(root, cache=cache if mode in ("cold + cache", "warm") else None)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    gc.collect()
    full_gc = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "seconds": seconds,
        "rss_mb": own,
        "workers_rss_mb": workers,
        "briefs": len(library.briefs),
        "errors": len(library.errors),
        "full_gc_seconds": full_gc,
    }
    print(json.dumps(result))


def run(mode: str, root: Path, cache: Path) -> dict[str, float]:
    """One load in a fresh interpreter."""
    command = [sys.executable, "-m", "bench.load", "--child", mode, "--root", str(root)]
    command += ["--cache", str(cache)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    corpus_options(parser)
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode (median shown)")
    parser.add_argument("--cache", type=Path, help="cache file to use (default: a temporary one)")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.root, args.cache)
        return 0
    root = corpus(args.briefs, args.corpus, args.speakers, args.topics)
    with tempfile.TemporaryDirectory() as scratch:
        cache = args.cache or Path(scratch) / "briefs-cache.jsonl"
        rows = []
        missed = False
        for mode in MODES:
            runs = [run(mode, root, cache) for _ in range(args.repeat)]
            seconds = [r["seconds"] for r in runs]
            rss = max(r["rss_mb"] for r in runs)
            workers = max(r["workers_rss_mb"] for r in runs)
            took = median(seconds)
            time_ok, rss_ok = verdict(took <= TARGET_SECONDS), verdict(rss <= TARGET_RSS_MB)
            missed |= "MISS" in (time_ok, rss_ok)
            rows.append(
                [
                    mode,
                    f"{int(runs[0]['briefs'])}",
                    f"{took:.2f} ({min(seconds):.2f}–{max(seconds):.2f})",
                    f"≤ {TARGET_SECONDS:g}",
                    time_ok,
                    f"{rss:.0f}",
                    f"≤ {TARGET_RSS_MB:g}",
                    rss_ok,
                    f"{workers:.0f}" if workers else "-",
                    f"{median([r['full_gc_seconds'] for r in runs]):.2f}",
                ]
            )
    print(f"Loading {args.briefs} briefs from {root}, {args.repeat} run(s) per mode")
    print(machine())
    headers = ["mode", "briefs", "seconds: median (min–max)", "target s", "result"]
    headers += ["peak RSS MB", "target MB", "result", "workers MB", "next full GC s"]
    print(table(headers, rows))
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
