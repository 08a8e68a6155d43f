"""bench/fanout_pg.py runs end to end in a small mode (2 processes, 60 channels) and prints
its table (the SIGKILL case is tests/robustness/test_pg_processes.py). No timing is asserted:
correctness is every channel's digest created exactly once, and the peak under the limit."""

from __future__ import annotations

import subprocess
import sys

from tests.bench.test_dispatch_fanout_smoke import row
from tests.conftest import REPO


def test_fanout_pg_prints_exactly_once_and_the_peak() -> None:
    command = ["bench.fanout_pg", "--channels", "60", "--processes", "2", "--rate", "40"]
    done = subprocess.run(
        [sys.executable, "-m", *command],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.startswith("machine: "), out
    assert row(out, "messages created") == ["60", "60", "PASS"]
    assert row(out, "lost (channels)") == ["0", "0", "PASS"]
    assert row(out, "duplicates (channels)") == ["0", "0", "PASS"]
    assert row(out, "slots sent in the database") == ["60", "60", "PASS"]
    assert row(out, "process SIGKILLed") == ["no"]
    assert int(row(out, "peak creates in any 1 s")[0]) <= 50
