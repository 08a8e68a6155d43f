"""A throwaway PostgreSQL cluster for tests: the machine's initdb/pg_ctl, a unix socket in a
temp dir, one cluster per test session and one database per test.

As root (as here and in CI) the server runs as the `postgres` user through `runuser`, in a
temp dir that user owns (initdb refuses root). The cluster trusts local connections over its
socket only (`listen_addresses = ''`): nothing listens on a network port.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import asyncpg

PG_USER = "postgres"
TEMPLATE = "briefbot_template"  # migrated once per session; each test clones it


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def pg_bin() -> Path:
    """The directory of the newest installed PostgreSQL's initdb and pg_ctl."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise PostgresMissing(
        "PostgreSQL is not installed (no initdb): `apt-get install -y postgresql` "
        "(.ci/run does this)"
    )


class PgCluster:
    """One running cluster; `dsn(name)` connects to a database in it over the unix socket."""

    def __init__(self, *, durable: bool = False) -> None:
        self.bin = pg_bin()
        # Not durable: a commit may be lost if the server is killed (fine for a test session);
        # a test that halts the server and starts it again wants its commits kept.
        self.durable = durable
        # Short path: a unix socket path must fit in ~100 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="bbpg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self._as_root = os.geteuid() == 0
        self._counter = itertools.count(1)
        if self._as_root:
            entry = pwd.getpwnam(PG_USER)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = list(args)
        if self._as_root:
            command = ["runuser", "-u", PG_USER, "--", *command]
        subprocess.run(
            command, check=True, capture_output=True, timeout=timeout, cwd=self.root, stdin=None
        )

    def start(self) -> None:
        """initdb and start, tuned for throwaway speed (no fsync)."""
        self.init()
        self.resume()

    def init(self) -> None:
        """initdb."""
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )

    def resume(self) -> None:
        """Start the (initialised) server and wait until it accepts connections."""
        options = (
            f"-c listen_addresses='' -c unix_socket_directories={self.socket_dir} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        if not self.durable:
            options += " -c synchronous_commit=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def halt(self) -> None:
        """Stop the server at once (as a crash or an outage would), keeping its data."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        """Stop the server at once and remove everything."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.halt()
        shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, database: str = "postgres") -> str:
        """A postgresql:// URL for `database` over the unix socket."""
        return f"postgresql://{PG_USER}@/{database}?host={self.socket_dir}"

    async def create_database(self, *, template: str | None = None) -> str:
        """A new empty (or `template`-cloned) database; its URL."""
        name = f"t{os.getpid()}_{next(self._counter)}"
        conn = await asyncpg.connect(self.dsn())
        try:
            clause = f' TEMPLATE "{template}"' if template else ""
            await conn.execute(f'CREATE DATABASE "{name}"{clause}')
        finally:
            await conn.close()
        return self.dsn(name)

    async def create_named(self, name: str) -> str:
        """Create database `name` (for the session's template); its URL."""
        conn = await asyncpg.connect(self.dsn())
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.dsn(name)
