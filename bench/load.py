"""The brief index: first build, start, one edit, and `briefbot ask`; each in a fresh process.

    python -m bench.load --briefs 100000 [--corpus DIR] [--repeat 3]

Modes:
  first build         no index yet: parse, validate and ground every file on every core
  first build serial  the same in one process, to show what the workers buy
  start               the bot's start with a finished index: check it, open a view, serve
  sync                checking every file against a current index (the bot does it in the
                      background right after start; `briefbot ask` before answering)
  one edit            one brief file edited: the sync that serves it, then a fresh view
  ask after an edit   `briefbot ask` right after the bot's watcher synced one edited file
  ask                 `briefbot ask "/quotes speaker:…"`, whole process, minus a process that
                      only starts the interpreter and imports the same modules
Seconds exclude interpreter start and imports (except `ask`, which shows what is left after
subtracting them); RSS is the process's peak `ru_maxrss` (workers' peak shown apart); CPU s is
the CPU time of the process and its workers (with imports): on a shared machine, compare it
with the wall clock to see how much of a core the run had.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import corpus, corpus_options, machine, median, table, verdict
from bot.briefs.index import INDEX_FILE

TARGETS = {
    "first build": (90.0, None),
    "first build serial": (None, None),
    "start": (0.5, 150.0),
    "sync": (None, 150.0),
    "one edit": (0.2, 150.0),
    "ask after an edit": (0.5, 150.0),
    "ask": (0.5, 150.0),
}
MODES = tuple(TARGETS)
_IMPORTS = "import bot.cli, bot.briefs.library, bot.queries.dispatch, bot.adapters.text"


def child(mode: str, root: Path, index: Path) -> None:
    """Run one measured step in this (fresh) process and print what it cost, as JSON."""
    from bot.briefs import fast
    from bot.briefs.library import load_library

    if mode == "first build serial":
        fast.PARALLEL_MIN_FILES = sys.maxsize
    if mode.startswith("first build"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{index}{suffix}").unlink(missing_ok=True)
    if mode == "one edit":
        target = sorted(root.glob("brief-*.yaml"))[0]
        text = target.read_text("utf-8")
        old, new = "Synthetic story", "Edited story"
        text = text.replace(old, new) if old in text else text.replace(new, old)
        from bot.briefs.reloader import LiveLibrary

        # Load the current index first: the edit is what is timed, not the start.
        live = LiveLibrary(root, index)
        target.write_text(text, "utf-8")
        # The watcher's poll: a scan of the folder sees the change (not timed: "after the
        # watcher sees it"; ~0.7 s at 100,000 briefs, docs/benchmarks.md)...
        scanned = asyncio.run(live._poll())
        assert scanned is not None and scanned[1].changed == (target.name,), scanned
        # ...and hands that scan to the reload, which syncs the one file and swaps the view.
        started = time.perf_counter()
        asyncio.run(live.reload(scanned))
        library = live.current()
        library.get(library.briefs[0].id)
    elif mode == "start":
        from bot.briefs.reloader import LiveLibrary

        # The bot's start: a finished index is served at once (the files are checked next,
        # in the background: "sync" below is that check, timed apart).
        started = time.perf_counter()
        live = LiveLibrary(root, index, serve_first=True)
        library = live.current()
        library.get(library.briefs[0].id)
    elif mode == "sync":
        started = time.perf_counter()
        library = load_library(root, index)
    else:
        started = time.perf_counter()
        library = load_library(root, index)
    seconds = time.perf_counter() - started
    mine = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "seconds": seconds,
        # CPU seconds of this process and its workers (imports included): on a shared machine
        # the wall clock says how busy the others were, this what the work cost.
        "cpu_s": mine.ru_utime + mine.ru_stime + workers.ru_utime + workers.ru_stime,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "workers_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "briefs": len(library.briefs),
        "errors": len(library.errors),
    }
    print(json.dumps(result))


def _env(root: Path, index: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "BRIEFBOT_BRIEFS_DIR": str(root),
        "BRIEFBOT_DATA_DIR": str(index.parent),
        "BRIEFBOT_LOG_LEVEL": "ERROR",
    }


# Runs a command line in-process, then reports its own peak RSS on stderr's last line.
_ASK = (
    "import sys, resource\n"
    "from bot.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of one process, and the peak RSS (MB) it reports (0 if none)."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    took = time.perf_counter() - started
    last = done.stderr.strip().splitlines()[-1:] or ["0"]
    return took, int(last[0]) / 1024 if last[0].isdigit() else 0.0


def run(mode: str, root: Path, index: Path) -> dict[str, float]:
    """One step in a fresh interpreter."""
    env = _env(root, index)
    if mode == "ask after an edit":
        run("one edit", root, index)  # what the bot's watcher did just before
    if mode.startswith("ask"):
        speaker = _a_speaker(root)
        whole, rss = _timed([sys.executable, "-c", _ASK, "ask", f"/quotes speaker:{speaker}"], env)
        imports, _ = _timed([sys.executable, "-c", _IMPORTS], env)
        result = {"seconds": whole - imports, "rss_mb": rss, "workers_rss_mb": 0, "briefs": -1}
        return {**result, "cpu_s": 0.0}
    command = [sys.executable, "-m", "bench.load", "--child", mode, "--root", str(root)]
    command += ["--index", str(index)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _a_speaker(root: Path) -> str:
    for line in sorted(root.glob("brief-*.yaml"))[0].read_text("utf-8").splitlines():
        if line.strip().startswith("- speaker:"):
            return line.split(":", 1)[1].strip()
    return "nobody"


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    corpus_options(parser)
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode (median shown)")
    parser.add_argument(
        "--index",
        type=Path,
        help="index file, named briefs.index.sqlite3 as in a data folder, since `ask` finds it "
        "through BRIEFBOT_DATA_DIR (default: a temporary one)",
    )
    parser.add_argument(
        "--modes", nargs="+", choices=MODES, default=MODES, help="modes to run (default: all)"
    )
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.root, args.index)
        return 0
    if args.index is not None and args.index.name != INDEX_FILE:
        # `ask` runs as a user would, so it reads DATA_DIR/briefs.index.sqlite3: another name
        # would time `ask` against a second index the other modes never touched.
        parser.error(f"--index must be named {INDEX_FILE} (ask finds it in its folder)")
    root = corpus(args.briefs, args.corpus, args.speakers, args.topics)
    with tempfile.TemporaryDirectory() as scratch:
        index = args.index or Path(scratch) / "briefs.index.sqlite3"
        rows = []
        missed = False
        for mode in (m for m in MODES if m in args.modes):
            runs = [run(mode, root, index) for _ in range(args.repeat)]
            seconds = [r["seconds"] for r in runs]
            rss = max(r["rss_mb"] for r in runs)
            workers = max(r["workers_rss_mb"] for r in runs)
            cpu = median([r["cpu_s"] for r in runs])
            took = median(seconds)
            target_s, target_mb = TARGETS[mode]
            time_ok = verdict(took <= target_s) if target_s is not None else "-"
            rss_ok = verdict(rss <= target_mb) if target_mb is not None else "-"
            missed |= "MISS" in (time_ok, rss_ok)
            rows.append(
                [
                    mode,
                    f"{int(runs[0]['briefs'])}" if runs[0]["briefs"] >= 0 else "-",
                    f"{took:.3f} ({min(seconds):.3f}–{max(seconds):.3f})",
                    f"≤ {target_s:g}" if target_s is not None else "-",
                    time_ok,
                    f"{rss:.0f}",
                    f"≤ {target_mb:g}" if target_mb is not None else "-",
                    rss_ok,
                    f"{workers:.0f}" if workers else "-",
                    f"{cpu:.1f}" if cpu else "-",
                ]
            )
    print(f"Brief index over {args.briefs} briefs from {root}, {args.repeat} run(s) per mode")
    print(machine())
    headers = ["mode", "briefs", "seconds: median (min–max)", "target s", "result"]
    headers += ["peak RSS MB", "target MB", "result", "workers MB", "CPU s"]
    print(table(headers, rows))
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
