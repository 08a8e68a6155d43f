"""Run Python as `nobody` (root ignores file permissions, so read-only cases need another user)."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import site
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO

# The venv's interpreter lives under /root (closed to other users); the system one of the same
# minor version runs the same code with the venv's packages on the path.
SYSTEM_PYTHON = Path("/usr/bin/python3.11")
TIMEOUT = 60.0


def world_dir() -> Path:
    """A fresh folder every user can enter and read (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="briefbot-nobody-"))
    folder.chmod(0o755)
    # Outside pytest's tmp_path, so nothing else removes it (runs left hundreds in /tmp).
    atexit.register(functools.partial(shutil.rmtree, folder, ignore_errors=True))
    return folder


def run_as_nobody(
    args: list[str], *, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """`python ARGS` as nobody, with the bot and its packages importable; output captured."""
    runuser = shutil.which("runuser")
    if os.geteuid() != 0 or runuser is None or not SYSTEM_PYTHON.exists():
        pytest.skip("needs root, runuser and /usr/bin/python3.11 to run as nobody")
    path = os.pathsep.join([str(REPO), *site.getsitepackages()])
    variables = {"PYTHONPATH": path, "HOME": "/tmp", "PATH": "/usr/bin:/bin", **(env or {})}
    command = [runuser, "-u", "nobody", "--", "env", *(f"{k}={v}" for k, v in variables.items())]
    return subprocess.run(
        [*command, str(SYSTEM_PYTHON), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
