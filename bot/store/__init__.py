"""The store: one class (`bot.store.sqlite.Store`), run on two databases, chosen by
BRIEFBOT_DATABASE.

`postgresql://…` (or `postgres://…`) opens the PostgreSQL store; a path or `sqlite:///path`
opens the SQLite store (the default). Features open it here (`open_store`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.store.records import ClaimOwner

if TYPE_CHECKING:
    from bot.store.sqlite import SqliteStore

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_TIMEOUT",
    "LONG_TIMEOUT",
    "describe",
    "is_postgres",
    "open_store",
    "sqlite_path",
]

DEFAULT_LEASE = dt.timedelta(seconds=60)
# PostgreSQL: how long one store call may wait for the server before the connection counts as
# lost (BRIEFBOT_DB_TIMEOUT). Under Discord's 3 s deadline for answering a command, with room
# for the reply itself (docs/store.md, "When the server goes silent").
DEFAULT_TIMEOUT = 2.0
# PostgreSQL: the bound of long legitimate work (migrations, `db copy`, `db check`).
LONG_TIMEOUT = 900.0


def is_postgres(database: str | Path) -> bool:
    """Whether a BRIEFBOT_DATABASE value names a PostgreSQL database."""
    return str(database).startswith(("postgresql://", "postgres://"))


def sqlite_path(database: str | Path) -> Path:
    """The file of a SQLite BRIEFBOT_DATABASE value (a path or sqlite:///path)."""
    text = str(database)
    if text.startswith("sqlite:///"):
        return Path(text.removeprefix("sqlite://"))  # keeps the path's leading slash
    if text.startswith("sqlite://"):
        return Path(text.removeprefix("sqlite://"))
    return Path(text)


def describe(database: str | Path) -> str:
    """Where a BRIEFBOT_DATABASE value points, for messages (no password)."""
    if is_postgres(database):
        from bot.store.postgres import describe_url

        return f"PostgreSQL at {describe_url(str(database))}"
    return f"SQLite file {sqlite_path(database)}"


async def open_store(
    database: str | Path,
    *,
    clock: Clock | None = None,
    owner: ClaimOwner | None = None,
    lease: dt.timedelta = DEFAULT_LEASE,
    call_timeout: float = DEFAULT_TIMEOUT,
) -> SqliteStore:
    """Open (and migrate) the store a BRIEFBOT_DATABASE value names.

    Typed as the SQLite class: the PostgreSQL store is a subclass of it that runs the same
    statements, so that class is the one interface features type against. `call_timeout` bounds
    each PostgreSQL call (SQLite has no server to go silent).
    """
    if is_postgres(database):
        from bot.store.postgres import PostgresStore  # asyncpg only when it is used

        return await PostgresStore.open(
            str(database), clock=clock, owner=owner, lease=lease, call_timeout=call_timeout
        )
    from bot.store.sqlite import SqliteStore

    return await SqliteStore.open(sqlite_path(database), clock=clock, owner=owner, lease=lease)
