"""bench.ingest runs end to end on two dev-set pages and prints its table (no timing asserted)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

DEVSET = REPO.parent / "shared" / "ingest-devset"


@pytest.mark.skipif(not DEVSET.is_dir(), reason="../shared/ingest-devset is not here")
def test_bench_ingest_prints_both_halves_and_the_loader_check() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.ingest", "--repeat", "1", "--pages", "cnn", "msn"],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["page", "split", "labels"]
    assert any(line.startswith("cnn ") and " tune " in line for line in lines)
    assert any(line.startswith("msn ") and " holdout " in line for line in lines)
    assert any(line.startswith("TOTAL tune") for line in lines)
    assert any(line.startswith("TOTAL holdout") for line in lines)
    assert "drafts passing the brief loader: 2/2" in result.stdout
