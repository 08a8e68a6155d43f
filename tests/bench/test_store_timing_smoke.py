"""bench.store_timing runs and prints its three lines (shape, never time)."""

from __future__ import annotations

import pytest

from bench import store_timing


def test_store_timing_prints_bare_timed_and_overhead(capsys: pytest.CaptureFixture[str]) -> None:
    assert store_timing.main(["--calls", "20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "store.get bare",
        "store.get timed",
        "wrapper overhead",
    ]
    bare, timed, _ = (float(line.split(":")[1].split()[0]) for line in lines)
    assert bare > 0 and timed > 0
