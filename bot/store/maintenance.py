"""What an operator runs on the SQLite file: `briefbot db check` and `briefbot db backup`.

Plain sqlite3, synchronous (a command-line tool, no event loop). The check opens the file
read-only and never creates or migrates it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.store import schema
from bot.store.records import StoreError
from bot.store.sqlite import open_error, prepare_path

# integrity_check stops after this many problems: enough to judge, short enough to read.
MAX_PROBLEMS = 20


@dataclass
class CheckReport:
    """What `briefbot db check` found."""

    path: Path
    size: int = 0
    schema_version: int = 0
    code_version: int = schema.SCHEMA_VERSION
    integrity: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    writable: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the database can be used as it is."""
        return not self.problems

    def lines(self) -> list[str]:
        """The report as printed."""
        if self.schema_version < self.code_version:
            versions = "older: migrated at the next start"
        elif self.schema_version > self.code_version:
            versions = "NEWER than this briefbot: upgrade briefbot"
        else:
            versions = "current"
        out = [
            f"database: {self.path} ({self.size} bytes)",
            f"schema version: {self.schema_version} (this briefbot: {self.code_version}; "
            f"{versions})",
            f"integrity_check: {'; '.join(self.integrity) or 'not run'}",
            f"writable: {'yes' if self.writable else 'no'}",
        ]
        out += [f"  {table}: {count} rows" for table, count in self.counts.items()]
        out += [f"PROBLEM: {problem}" for problem in self.problems]
        out.append("ok" if self.ok else "NOT OK: restore a backup or fix the problems above")
        return out


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    if not path.exists():
        raise StoreError(f"database {path} does not exist: check BRIEFBOT_DATABASE")
    prepare_path(path)  # a directory, device or pipe is refused before it is opened
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise open_error(path, exc) from exc
    try:
        yield db
    finally:
        db.close()


def check(path: Path) -> CheckReport:
    """Path, schema version against the code's, integrity_check, row counts per table."""
    report = CheckReport(path)
    with _read_only(path) as db:
        report.size = path.stat().st_size
        try:
            report.schema_version = int(db.execute("PRAGMA user_version").fetchone()[0])
            rows = db.execute(f"PRAGMA integrity_check({MAX_PROBLEMS})").fetchall()
        except sqlite3.Error as exc:
            raise open_error(path, exc) from exc
        report.integrity = [" ".join(str(r[0]).split()) for r in rows]
        if report.integrity != ["ok"]:
            report.problems.append(f"integrity_check found {len(rows)} problem(s)")
        if report.schema_version > report.code_version:
            report.problems.append(
                f"schema version {report.schema_version} is newer than this briefbot knows"
            )
        tables = [
            str(r[0])
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        for table in tables:
            try:
                # The name comes from sqlite_master, quoted as an identifier.
                quoted = '"' + table.replace('"', '""') + '"'
                report.counts[table] = int(
                    db.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
                )
            except sqlite3.Error as exc:
                report.problems.append(f"table {table} cannot be read: {exc}")
    # The bot writes the file and the -wal/-shm files beside it.
    report.writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    if not report.writable:
        report.problems.append("the file or its folder is not writable by this user")
    return report


@dataclass(frozen=True)
class BackupResult:
    """Where the copy went and how big it is."""

    path: Path
    size: int


def backup(source: Path, target: Path, *, force: bool = False) -> BackupResult:
    """Copy a live database with SQLite's online backup API, then quick_check the copy."""
    if target.exists() and not force:
        raise StoreError(f"{target} already exists: choose another path, or add --force")
    if target.is_dir():
        raise StoreError(f"{target} is a directory: give a file path for the backup")
    folder = target.parent
    if not folder.is_dir():
        raise StoreError(f"backup folder {folder} does not exist: create it first")
    # Written under a temporary name and renamed: a failed backup never replaces a good one.
    partial = folder / f".{target.name}.partial"
    try:
        result = _copy(source, partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if result != "ok":
        partial.unlink(missing_ok=True)
        raise StoreError(
            f"the copy of {source} failed its quick_check ({result}): {source} "
            "may be damaged; run `briefbot db check`"
        )
    partial.replace(target)
    return BackupResult(target, target.stat().st_size)


def _copy(source: Path, partial: Path) -> str:
    """Copy with the online backup API; the copy's quick_check result."""
    with _read_only(source) as db:
        partial.unlink(missing_ok=True)
        copy = sqlite3.connect(partial)
        try:
            try:
                db.backup(copy)
            except sqlite3.Error as exc:
                raise open_error(source, exc) from exc
            return " ".join(str(copy.execute("PRAGMA quick_check(1)").fetchone()[0]).split())
        finally:
            copy.close()
