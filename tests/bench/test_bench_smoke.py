"""The benchmarks run end to end on a small corpus and print their tables (no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BRIEFS = 200


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    run("bench.corpus", str(out), "--briefs", str(BRIEFS), "--speakers", "300", "--topics", "100")
    return out


def run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_corpus_generator_writes_the_briefs(small_corpus: Path) -> None:
    assert len(list(small_corpus.glob("brief-*.yaml"))) == BRIEFS
    assert (small_corpus / "topics.yaml").is_file()


def test_load_benchmark_prints_its_table(small_corpus: Path, tmp_path: Path) -> None:
    out = run(
        "bench.load",
        *("--briefs", str(BRIEFS), "--corpus", str(small_corpus), "--repeat", "1"),
        *("--index", str(tmp_path / "briefs.index.sqlite3")),
    ).stdout
    assert "seconds: median" in out and "peak RSS MB" in out
    modes = ("first build", "first build serial", "start", "sync", "one edit", "ask after an edit")
    for mode in (*modes, "ask"):
        assert f"\n{mode} " in out
    # Time for all but the serial build and sync; memory for start, sync, one edit and the asks.
    assert out.count("PASS") + out.count("MISS") == 10


def test_watch_benchmark_prints_its_table(small_corpus: Path, tmp_path: Path) -> None:
    out = run(
        "bench.watch",
        *("--briefs", str(BRIEFS), "--corpus", str(small_corpus), "--idle", "1", "--edits", "2"),
        *("--interval", "0.2", "--index", str(tmp_path / "briefs.index.sqlite3")),
    ).stdout
    assert "idle CPU (of a core)" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("file events", "scan"))]
    assert [r[0] for r in rows] == ["file", "scan"]
    assert [r[-1] for r in rows] == ["0", "0"]  # no edit missed by either watcher


def test_complete_benchmark_prints_its_table(small_corpus: Path) -> None:
    out = run("bench.complete", "--briefs", str(BRIEFS), "--corpus", str(small_corpus)).stdout
    assert "p50 ms" in out and "p99 ms" in out
    for kind in ("speaker", "topic", "brief"):
        assert out.count(f"\n{kind} ") == 6
    assert out.count("PASS") + out.count("MISS") == 18


def test_feeds_bench_polls_twice_and_prints_its_table() -> None:
    result = run("bench.feeds", "--feeds", "3", "--entries", "2")
    out = result.stdout
    assert "first poll (all new)" in out, out + result.stderr
    lines = {line.split("  ")[0]: line.split() for line in out.splitlines()}
    first = lines["first poll (all new)"]
    second = lines["second poll (unchanged)"]
    # requests, 304s, drafts, failed feeds: 3 feeds + 6 pages, then 3 conditional requests.
    assert first[5:8] == ["9", "0", "6"] and first[-1] == "0", out + result.stderr
    assert second[4:7] == ["3", "3", "0"] and second[-1] == "0", out + result.stderr
