"""The `briefbot db` commands' work: copy between backends, check, back up.

`copy` moves every data table of the current schema from one database to another (SQLite ↔
PostgreSQL), parents first, and verifies each table's count. Both backends store the same
values (`bot.store.pg_schema` mirrors `bot.store.schema`), so rows travel as they are read and
a new table needs no code here: only its place in `schema.DATA_TABLES`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.store import LONG_TIMEOUT, is_postgres, open_store, pg_schema, schema, sqlite_path
from bot.store.records import StoreError
from bot.store.sqlite import Store

log = logging.getLogger(__name__)


class CopyError(StoreError):
    """The copy was refused or did not verify; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class TableCopy:
    """One table's copy: rows read from the source and counted in the target afterwards."""

    table: str
    copied: int
    in_target: int


async def copy_database(
    source: str | Path,
    target: str | Path,
    *,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> list[TableCopy]:
    """Copy every data table from `source` to `target` (both migrated first); verify counts."""
    if str(source) == str(target):
        raise CopyError("source and target are the same database")
    # Whole tables are read and written in one call each: PostgreSQL's long bound, not the
    # few seconds a command's call gets.
    async with (
        await open_store(source, call_timeout=LONG_TIMEOUT) as src,
        await open_store(target, call_timeout=LONG_TIMEOUT) as dst,
    ):
        tables = await src.table_names()
        target_tables = set(await dst.table_names())
        missing = [t for t in tables if t not in target_tables]
        if missing:
            raise CopyError(
                f"{dst.where} has no table {', '.join(missing)}: is it a newer briefbot's "
                "source database? Upgrade briefbot first."
            )
        plans = [(t, await _columns(src, dst, t)) for t in tables]
        filled = {t: n for t in tables if (n := await dst.count_rows(t))}
        if filled:
            counts = ", ".join(f"{t} {n}" for t, n in filled.items())
            if not force:
                raise CopyError(
                    f"{dst.where} is not empty ({counts}); nothing was copied. Copy into an "
                    "empty database, or add --force to replace what it holds."
                )
            say(f"--force: emptying {dst.where} ({counts})")
            await dst.clear_tables(tables)
        say(f"copying {src.where} → {dst.where}")
        results = []
        for table, columns in plans:
            rows = await src.read_rows(table, columns)
            await dst.write_rows(table, columns, rows)
            counted = await dst.count_rows(table)
            results.append(TableCopy(table, len(rows), counted))
            say(f"  {table}: {len(rows)} rows copied, {counted} in target")
            if counted != len(rows):
                raise CopyError(
                    f"{table}: {len(rows)} rows read but {counted} in the target; the copy "
                    "is incomplete (run it again with --force)"
                )
        return results


async def _columns(src: Store, dst: Store, table: str) -> list[str]:
    source = await src.table_columns(table)
    target = set(await dst.table_columns(table))
    missing = [c for c in source if c not in target]
    if missing:
        raise CopyError(
            f"{dst.where}: table {table} has no column {', '.join(missing)}; "
            "upgrade briefbot where the target is used, then copy again"
        )
    return source


@dataclass(frozen=True, slots=True)
class Check:
    """What `db check` found."""

    where: str
    version: int
    latest: int
    counts: dict[str, int]


async def check_database(database: str | Path) -> Check:
    """Connect, read the schema version and count every table (PostgreSQL is not migrated)."""
    if is_postgres(database):
        from bot.store.postgres import PostgresStore

        store: Store = await PostgresStore.open(
            str(database), migrate=False, call_timeout=LONG_TIMEOUT
        )
        latest = pg_schema.SCHEMA_VERSION
    else:
        path = sqlite_path(database)
        if not await asyncio.to_thread(path.exists):
            raise StoreError(f"SQLite file {path} does not exist")
        store = await open_store(path)
        latest = schema.SCHEMA_VERSION
    async with store:
        version = await store.schema_version()
        counts = {t: await store.count_rows(t) for t in await store.table_names()}
        return Check(store.where, version, latest, counts)


def pg_dump_advice(database: str) -> str:
    """How to back up a PostgreSQL database (pg_dump's job, not briefbot's)."""
    from bot.store.postgres import describe_url

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    # The URL itself may hold a password: name the variable, never print it.
    return (
        f"PostgreSQL at {describe_url(database)} is backed up with its own tool, which takes a "
        "consistent snapshot while the bots run:\n"
        f'  pg_dump --format=custom --file=briefbot-{stamp}.dump "$BRIEFBOT_DATABASE"\n'
        "and restored with pg_restore (or `briefbot db copy` it into a SQLite file)."
    )


async def backup_sqlite(database: str | Path, destination: Path) -> int:
    """A consistent copy of a SQLite database (the online backup API); its size in bytes."""
    source = sqlite_path(database)

    def run() -> int:
        if not source.exists():
            raise StoreError(f"SQLite file {source} does not exist")
        if destination.exists():
            raise StoreError(f"{destination} exists; choose another name (nothing was written)")
        with sqlite3.connect(source) as src, sqlite3.connect(destination) as dst:
            src.backup(dst)
        return destination.stat().st_size

    return await asyncio.to_thread(run)
