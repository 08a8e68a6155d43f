"""The brief watcher: what it costs while nothing changes, and how soon an edit is served.

    python -m bench.watch --briefs 100000 [--corpus DIR] [--index FILE] [--idle 30] [--edits 5]

Two watchers over the same corpus and index, each in this process: on file events (inotify,
the default where the OS has it) and scanning the folder every `--interval` seconds (the
fallback). "idle" is the process's CPU time over `--idle` seconds with nothing changing, taken
after the watcher's start-up scan; "edit served" is the wall time from writing one brief file to
the library serving its new title, `--edits` times.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.common import corpus, corpus_options, machine, median, table
from bot.briefs.reloader import LiveLibrary


class ScanningLibrary(LiveLibrary):
    """The watcher as it runs where the OS gives no file events."""

    def _events(self):  # type: ignore[no-untyped-def]
        raise OSError("events off for the comparison")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _served(live: LiveLibrary, brief_id: str, title: str, limit: float) -> float | None:
    """Seconds until the library serves `title` for the brief (None: not within `limit`)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        brief = live.current().get(brief_id)
        if brief is not None and brief.title == title:
            return time.perf_counter() - started
        await asyncio.sleep(0.005)
    return None


def _brief_id(path: Path) -> str:
    return next(
        line.split(":", 1)[1].strip()
        for line in path.read_text("utf-8").splitlines()
        if line.startswith("id:")
    )


def _retitle(path: Path, title: str) -> None:
    """Give the brief in `path` a new title, as an editor saving it would."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines[at] = f"title: {title}\n"
    path.write_text("".join(lines), "utf-8")


async def measure(
    kind: type[LiveLibrary], root: Path, index: Path, target: Path, args: argparse.Namespace
) -> list[str]:
    """One table row: idle CPU and edit-to-served latencies for one kind of watcher."""
    live = kind(root, index, serve_first=True)
    await live.catch_up()
    task = asyncio.create_task(live.watch(args.interval))
    try:
        await asyncio.sleep(3)  # past the watcher's start-up scan
        cpu, wall = _cpu(), time.perf_counter()
        await asyncio.sleep(args.idle)
        idle = (_cpu() - cpu) / (time.perf_counter() - wall)
        brief_id = _brief_id(target)
        latencies: list[float] = []
        missed = 0
        for n in range(args.edits):
            title = f"Watched edit {n} {time.time_ns()}"
            await asyncio.to_thread(_retitle, target, title)
            took = await _served(live, brief_id, title, args.interval * 3 + 30)
            if took is None:
                missed += 1
            else:
                latencies.append(took)
            await asyncio.sleep(0.5)
    finally:
        task.cancel()
        live.current().close()
    name = "file events" if kind is LiveLibrary else f"scan every {args.interval:g} s"
    return [
        name,
        f"{idle:.2%}",
        f"{median(latencies):.3f}" if latencies else "-",
        f"{min(latencies):.3f}–{max(latencies):.3f}" if latencies else "-",
        str(missed),
    ]


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    corpus_options(parser)
    parser.add_argument("--index", type=Path, help="index file (default: a temporary one)")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle measured")
    parser.add_argument("--edits", type=int, default=5, help="edits timed per watcher")
    parser.add_argument("--interval", type=float, default=5.0, help="the scanning interval")
    args = parser.parse_args()
    root = corpus(args.briefs, args.corpus, args.speakers, args.topics)
    scratch = tempfile.TemporaryDirectory(prefix="briefbot-watch-")
    index = args.index or Path(scratch.name) / "briefs.index.sqlite3"
    load = os.getloadavg()
    target = sorted(root.glob("brief-*.yaml"))[0]
    rows = [
        asyncio.run(measure(kind, root, index, target, args))
        for kind in (LiveLibrary, ScanningLibrary)
    ]
    print(machine())
    print(f"load average at the start: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")
    print(f"corpus: {args.briefs} briefs ({root}); idle {args.idle:g} s; {args.edits} edits")
    headers = ["watcher", "idle CPU (of a core)", "edit served s: median", "min–max", "missed"]
    print(table(headers, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
