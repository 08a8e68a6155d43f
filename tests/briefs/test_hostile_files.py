"""Hostile briefs folders never hang, crash or leak: one located error each, the rest served.

Each case (tests/briefs/hostile.py) is built in its own temp folder and run through `briefbot
check`, `briefbot ask`, the loader and the live reloader, in separate processes under a time
limit: a hang is a failure, not a wait.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.briefs.hostile import ADVERSARIAL, CASES, CATASTROPHIC, SECRET
from tests.conftest import REPO

# Wall time for all the cases of one mode (the modes run at once, one process each): every
# case takes well under a second when nothing hangs, even on a loaded 2-core machine.
TIME_LIMIT = 60
MODES = ("check", "ask", "load", "reload")
# Raw control characters that drive a terminal: ESC, CSI (C1), BEL.
RAW_CONTROLS = ("\x1b", "\x9b", "\x07")

# (mode, case) → (the case's folder, its result), or the driver's stderr if it hung or crashed.
Outcomes = dict[tuple[str, str], tuple[Path, Any] | str]


def _can_drop_to_nobody() -> bool:
    if os.geteuid() != 0:
        return True  # permissions already apply to this user
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        return False
    return True


def _spawn(mode: str, top: Path, names: list[str], as_nobody: bool) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BRIEFBOT_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    flags = ["--as-nobody"] if as_nobody else []
    return subprocess.Popen(
        [sys.executable, "-m", "tests.briefs.hostile", mode, str(top / mode), *names, *flags],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcomes]:
    """Every case through every mode, the modes in parallel processes."""
    # Permission cases run as another user, in a folder that user may write in (pytest's own
    # temp folder is private to root).
    shared = Path(tempfile.mkdtemp(prefix="briefbot-hostile-"))
    shared.chmod(0o777)
    own = tmp_path_factory.mktemp("hostile")
    groups = [(own, [n for n, c in CASES.items() if not c.as_nobody], False)]
    if _can_drop_to_nobody():
        groups.append((shared, [n for n, c in CASES.items() if c.as_nobody], True))
    for top, _, _ in groups:
        for mode in MODES:
            (top / mode).mkdir()
            (top / mode).chmod(0o777)
    procs = [
        (mode, names, _spawn(mode, top, names, nobody))
        for top, names, nobody in groups
        for mode in MODES
    ]
    found: Outcomes = {}
    deadline = time.monotonic() + TIME_LIMIT  # one limit for all: they run at once
    try:
        for mode, names, proc in procs:
            try:
                out, err = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
                failure = f"{mode} exited {proc.returncode}:\n{err}"
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
                started = [ln for ln in err.splitlines() if ln.startswith("case ")]
                last = started[-1].removeprefix("case ") if started else "?"
                failure = f"{mode} hung on case {last} (still running after {TIME_LIMIT} s)"
            for line in out.splitlines():
                record = json.loads(line)
                found[(mode, record["case"])] = (Path(record["root"]), record["result"])
            for name in names:
                found.setdefault((mode, name), failure)
        yield found
    finally:
        for _, _, proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
        shutil.rmtree(shared, ignore_errors=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_case(name: str, outcomes: Outcomes) -> None:
    case = CASES[name]
    if ("load", name) not in outcomes:
        pytest.skip("root, and no unprivileged user to run a permission case as")
    results: dict[str, tuple[Path, Any]] = {}
    for mode in MODES:
        outcome = outcomes[(mode, name)]
        assert not isinstance(outcome, str), outcome  # the driver hung or crashed here
        assert "crash" not in outcome[1], f"{mode} crashed:\n{outcome[1]['crash']}"
        results[mode] = outcome

    text = json.dumps({m: r for m, (_, r) in results.items()}, ensure_ascii=False)
    assert SECRET not in text, f"the secret leaked:\n{text}"
    for raw in RAW_CONTROLS:
        assert raw not in text, f"a raw control character {raw!r} was printed:\n{text}"
    assert "Traceback" not in text, f"a traceback:\n{text}"
    # Excerpts of a file's own text stay short: no run of 81 identical characters (the long
    # tag, key, value and line cases are 5000 characters long).
    for char in "TKL1":
        assert char * 81 not in text, f"a long excerpt was quoted:\n{text}"

    served = () if case.blocks_all else ("council-budget", *case.also)
    expect_error = bool(case.bad)
    # A blocked vocabulary adds one note, naming the folder, saying why nothing loaded.
    notes = 1 if case.blocks_all and case.bad != "." else 0

    def located(errors: list[str], root: Path) -> None:
        """The errors name the bad path and nothing else; one says what the case expects.

        (A file with two bad fields has two errors, each located; a broken vocabulary adds
        one note naming the folder.)
        """
        if not expect_error:
            assert errors == []
            return
        path = root if case.bad == "." else root / case.bad
        named = [e for e in errors if e.startswith(f"{path}:")]
        assert len(named) == len(errors) - notes and named, errors
        assert any(case.message in e for e in named), errors

    # The loader: the good briefs are served; the bad path is named by one error.
    root, loaded = results["load"]
    assert loaded["ids"] == sorted(served)
    located(loaded["errors"], root)

    # briefbot check: exit 1 with the located error on stderr; the good briefs listed as ok.
    root, check = results["check"]
    assert check["code"] == (1 if expect_error else 0), check
    error_lines = [ln for ln in check["err"].splitlines() if " brief(s) loaded, " not in ln]
    located(error_lines, root)
    assert sorted(ln.split()[-1] for ln in check["out"].splitlines() if "  ok  " in ln) == sorted(
        served
    )

    # briefbot ask: answers from the good briefs; the problem is logged, located.
    root, ask = results["ask"]
    if case.blocks_all:
        assert ask["code"] == 1 and "Quotes by Jane Doe" not in ask["out"]
    else:
        assert ask["code"] == 0, ask
        assert "“This budget keeps the buses running and the libraries open.”" in ask["out"]
    if expect_error:
        path = root if case.bad == "." else root / case.bad
        assert f"{path}:" in ask["err"] and case.message in ask["err"]

    # The live reloader: the watcher keeps going, a later good brief is served, and /reload
    # reports the same located error; a blocked folder keeps serving what it had.
    root, reloaded = results["reload"]
    watched = reloaded["watched"]
    assert watched["watcher_running"]
    assert watched["ids"] == (["council-budget"] if case.blocks_all else sorted({*served, "later"}))
    located(watched["errors"], root)
    located(reloaded["reload_errors"], root)


def test_the_regex_cases_would_hang_a_backtracking_engine() -> None:
    """The catastrophic patterns are a real threat: Python's own engine does not finish."""
    script = (
        "import re\n"
        f"patterns, lines = {CATASTROPHIC!r}, {ADVERSARIAL!r}\n"
        "[re.search(p, line) for p in patterns for line in lines]\n"
    )
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-c", script], timeout=3, check=False)
