"""bench/dispatch.py and bench/fanout.py run end to end in a small mode and print their tables.

No timing is asserted here: the numbers depend on the machine. Correctness is: every
interaction answered, and every channel's digest created exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for a small corpus; the first benchmark run generates it, the second reuses it."""
    return tmp_path_factory.mktemp("dispatch-fanout") / "corpus"


def run_bench(module: str, *args: str, corpus: Path) -> str:
    """Run `python -m bench.<module>` in a subprocess; its stdout, after checking it exited 0."""
    command = [sys.executable, "-m", f"bench.{module}", "--corpus", str(corpus)]
    command += ["--briefs", "200", "--speakers", "300", "--topics", "100"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [*command, *args],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("machine: "), done.stdout
    return done.stdout


def row(output: str, metric: str) -> list[str]:
    """The cells of the table row that starts with `metric`."""
    for line in output.splitlines():
        if line.startswith(metric + "  "):
            return line[len(metric) :].split()
    raise AssertionError(f"no row {metric!r} in:\n{output}")


def test_dispatch_prints_its_table(corpus: Path) -> None:
    out = run_bench("dispatch", "--iterations", "20", "--warmup", "2", corpus=corpus)
    assert "interaction" in out and "e2e p50 ms" in out and "handler p99 ms" in out
    for kind in ("/ping", "/summary", "/quotes", "/topic", "/briefs", "/search"):
        assert row(out, kind)[0] == "20"
    for kind in ("/summary", "/quotes", "/topic", "/briefs", "/search"):
        # Each command against a static embed of its own reply's size, sent as often.
        assert row(out, f"static {kind}")[0] == "20"
        assert row(out, kind)[-1] in ("PASS", "MISS")
    for kind in ("speaker", "topic", "brief"):
        cells = row(out, f"{kind} autocomplete")
        assert cells[0] == "20" and cells[-1] in ("PASS", "MISS")
    assert "ERROR" not in out and "VIOLATION" not in out


def test_fanout_prints_its_table(corpus: Path) -> None:
    out = run_bench("fanout", "--channels", "60", corpus=corpus)
    assert "metric" in out and "messages/s (whole pass)" in out
    assert row(out, "messages created")[0] == "60"
    assert row(out, "duplicates (channels)")[:2] == ["0", "0"]
    assert row(out, "lost (channels)")[:2] == ["0", "0"]
    assert row(out, "slots sent in the database") == ["60", "60"]
    assert "VIOLATION" not in out
