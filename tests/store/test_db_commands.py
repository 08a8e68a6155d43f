"""Database faults at `briefbot run` and through `briefbot db check`/`db backup`, as an operator
meets them: one line naming the path, a non-zero exit, no traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.store.schema import SCHEMA_VERSION
from tests.conftest import REPO, write_briefs
from tests.store.nobody import run_as_nobody, world_dir
from tests.store.test_open import populated

TOKEN = "MTIz.not-a-real-token"


def briefbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BRIEFBOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def truncated(path: Path) -> Path:
    populated(path)
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)
    return path


def random_bytes(path: Path) -> Path:
    path.write_bytes(os.urandom(16384))
    return path


def future_schema(path: Path) -> Path:
    populated(path, channels=1)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    return path


def directory(path: Path) -> Path:
    path.mkdir()
    return path


def file_for_folder(path: Path) -> Path:
    path.write_text("a file where the data folder should be")
    return path / "briefbot.sqlite3"


FAULTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "truncated": (truncated, "is damaged"),
    "random bytes": (random_bytes, "is not a SQLite database"),
    "future schema": (future_schema, "upgrade briefbot"),
    "directory": (directory, "is a directory"),
    "file in place of the folder": (file_for_folder, "is a file, not a folder"),
}


def assert_one_line(result: subprocess.CompletedProcess[str], path: Path, says: str) -> None:
    assert result.returncode != 0, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("briefbot: ") and str(path) in lines[0] and says in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert TOKEN not in result.stderr + result.stdout


@pytest.mark.parametrize("fault", FAULTS)
def test_run_with_a_broken_database_prints_one_line(tmp_path: Path, fault: str) -> None:
    make, says = FAULTS[fault]
    path = make(tmp_path / "briefbot.sqlite3")
    briefs = write_briefs(tmp_path / "briefs")
    env = {
        "DISCORD_TOKEN": TOKEN,
        "BRIEFBOT_DATABASE": str(path),
        "BRIEFBOT_BRIEFS_DIR": str(briefs),
    }
    named = path.parent if fault == "file in place of the folder" else path
    assert_one_line(briefbot("run", env=env, cwd=tmp_path), named, says)


def test_the_traceback_shows_only_at_debug(tmp_path: Path) -> None:
    path = random_bytes(tmp_path / "briefbot.sqlite3")
    env = {"DISCORD_TOKEN": TOKEN, "BRIEFBOT_DATABASE": str(path), "BRIEFBOT_LOG_LEVEL": "DEBUG"}
    result = briefbot("run", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert f"briefbot: database {path} is not a SQLite database" in result.stderr


def test_data_dir_holds_the_default_database(tmp_path: Path) -> None:
    data = tmp_path / "state"
    data.write_text("not a folder")
    env = {"DISCORD_TOKEN": TOKEN, "BRIEFBOT_DATA_DIR": str(data)}
    assert_one_line(briefbot("run", env=env, cwd=tmp_path), data, "is a file, not a folder")


@pytest.mark.parametrize("fault", ["truncated", "random bytes", "directory"])
def test_db_check_on_a_broken_database_is_one_line(tmp_path: Path, fault: str) -> None:
    make, says = FAULTS[fault]
    path = make(tmp_path / "briefbot.sqlite3")
    result = briefbot("db", "check", str(path), env={}, cwd=tmp_path)
    if result.stderr:
        assert_one_line(result, path, says)
    else:  # read far enough to report: the report says what is wrong
        assert result.returncode == 1 and "NOT OK" in result.stdout, result
        assert "PROBLEM: integrity_check found" in result.stdout


def test_db_check_reports_version_integrity_and_counts(tmp_path: Path) -> None:
    path = populated(tmp_path / "briefbot.sqlite3", channels=12)
    result = briefbot("db", "check", env={"BRIEFBOT_DATABASE": str(path)}, cwd=tmp_path)
    assert result.returncode == 0, result
    out = result.stdout
    assert f"database: {path}" in out
    assert f"schema version: {SCHEMA_VERSION} (this briefbot: {SCHEMA_VERSION}; current)" in out
    assert "integrity_check: ok" in out and "  subscriptions: 12 rows" in out
    assert out.rstrip().endswith("ok")
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    result = briefbot("db", "check", str(path), env={}, cwd=tmp_path)
    assert result.returncode == 1 and "NEWER than this briefbot" in result.stdout


def test_db_check_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nothing.sqlite3"
    assert_one_line(
        briefbot("db", "check", str(path), env={}, cwd=tmp_path), path, "does not exist"
    )
    assert not path.exists()


def test_db_backup_copies_verifies_and_will_not_overwrite(tmp_path: Path) -> None:
    path = populated(tmp_path / "briefbot.sqlite3", channels=40)
    target = tmp_path / "backup.sqlite3"
    env = {"BRIEFBOT_DATABASE": str(path)}
    result = briefbot("db", "backup", str(target), env=env, cwd=tmp_path)
    assert result.returncode == 0, result
    size = target.stat().st_size
    assert result.stdout.strip() == f"backed up {path} to {target} ({size} bytes, quick_check ok)"
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT count(*) FROM subscriptions").fetchone() == (40,)
    db.close()
    target.write_bytes(b"an older backup")
    refused = briefbot("db", "backup", str(target), env=env, cwd=tmp_path)
    assert_one_line(refused, target, "already exists")
    assert target.read_bytes() == b"an older backup"
    forced = briefbot("db", "backup", str(target), "--force", env=env, cwd=tmp_path)
    assert forced.returncode == 0 and target.stat().st_size == size


def test_db_backup_of_a_damaged_database_fails_and_leaves_no_copy(tmp_path: Path) -> None:
    path = random_bytes(tmp_path / "briefbot.sqlite3")
    target = tmp_path / "backup.sqlite3"
    result = briefbot("db", "backup", str(target), "--database", str(path), env={}, cwd=tmp_path)
    assert_one_line(result, path, "not a SQLite database")
    assert list(tmp_path.iterdir()) == [path]


def test_run_on_a_read_only_database_is_one_line() -> None:
    folder = world_dir()
    path = populated(folder / "briefbot.sqlite3", channels=3)
    env = {"DISCORD_TOKEN": TOKEN, "BRIEFBOT_DATABASE": str(path), "BRIEFBOT_BRIEFS_DIR": "briefs"}
    result = run_as_nobody(["-m", "bot", "run"], env=env, cwd=REPO)
    assert_one_line(result, path, "is read-only")


def test_run_with_a_data_folder_it_cannot_create_is_one_line() -> None:
    data = world_dir() / "data"
    env = {"DISCORD_TOKEN": TOKEN, "BRIEFBOT_DATA_DIR": str(data), "BRIEFBOT_BRIEFS_DIR": "briefs"}
    result = run_as_nobody(["-m", "bot", "run"], env=env, cwd=REPO)
    assert_one_line(result, data, "cannot be created (Permission denied)")
