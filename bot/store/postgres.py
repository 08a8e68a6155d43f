"""The PostgreSQL store: the SQLite store's behaviour, shared by processes on several hosts.

`PostgresStore` is `bot.store.sqlite.Store` running on PostgreSQL: every method's statement
is written once (portable SQL) and runs here through `PgConnection`, which gives it what the
SQLite code expects of a connection (`execute`, `executemany`, cursors with `rowcount`) over
one asyncpg connection, translating `?` to `$n`. The schema (`bot.store.pg_schema`) mirrors
SQLite's version for version, with the same values, so nothing is converted on the way.

What SQLite's file lock gives for free is kept on purpose: every write (a transaction, or a
single INSERT/UPDATE/DELETE) first takes one transaction-scoped advisory lock, so writers
from every process are serialised exactly as on one SQLite file, and the claim rule (a live
claim is never taken over; an expired one is resumed with its nonce) holds across hosts. The
send budget (`reserve_send`) is timed by the database's clock so hosts need not agree.

A lost connection raises `StoreUnavailable` (a `StoreError`); the next call reconnects. So
does a connection that goes silent (a frozen server, a network partition, a half-open TCP
connection): each store call is bounded by `timeout` (BRIEFBOT_DB_TIMEOUT, a few seconds), and
one that runs out drops the connection as lost. Migrations take `long_operations()`' bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

import aiosqlite
import asyncpg

from bot.clock import Clock, SystemClock
from bot.store import DEFAULT_TIMEOUT, LONG_TIMEOUT, pg_schema, schema
from bot.store.records import (
    ClaimOwner,
    SchemaTooNewError,
    StoreDamagedError,
    StoreError,
    StoreUnavailable,
)
from bot.store.sqlite import DEFAULT_LEASE, Store, _known

log = logging.getLogger(__name__)
_T = TypeVar("_T")

CONNECT_TIMEOUT = 10.0
# Once running, a reconnect gives up sooner, and a failed one is not retried for a moment:
# a command should hear "temporarily unavailable" while Discord still waits for its answer.
RECONNECT_TIMEOUT = 2.0
RECONNECT_PAUSE = 1.0
STATEMENTS = 256
# Each store call carries its own bound (`PgConnection.timeout`); asyncpg's is only the
# backstop for what runs outside one (closing, asyncpg's background cancel request).
COMMAND_TIMEOUT = LONG_TIMEOUT
# The server's own bounds sit a little past the client's, so the client normally gives up
# first and says "unavailable"; they stop the server working (and holding the writer lock)
# for a client that can no longer hear it.
SERVER_MARGIN = 1.0
# A session idle inside a transaction this long is ended by the server, releasing the writer
# lock a vanished client held (our transactions never wait on anything but the database).
IDLE_IN_TRANSACTION = 10.0
# Server-side TCP keepalives (ignored on unix sockets): a client host that vanished is noticed
# after ~2 minutes idle. asyncpg sets no client-side ones; the per-call bound covers that side.
KEEPALIVE = {
    "tcp_keepalives_idle": "60",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "6",
}
# Any number: the one lock every writer takes (the role SQLite's file lock plays).
WRITER_LOCK = 0x62726965

# Errors that mean "the server is not there right now", not "this statement is wrong".
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    # The server's statement_timeout (or an operator) cancelled it: a stall, not a wrong statement.
    asyncpg.exceptions.QueryCanceledError,
)
_CLOSE_ERRORS: tuple[type[BaseException], ...] = (*_UNAVAILABLE, asyncpg.PostgresError)
_WRITES = ("INSERT", "UPDATE", "DELETE")
_INTEGERS = frozenset({"int2", "int4", "int8"})
_FLOATS = frozenset({"float4", "float8"})
_TEXTS = frozenset({"text", "varchar", "bpchar", "name"})


def describe_url(url: str) -> str:
    """host:port/database of a postgresql:// URL, for messages (never the password)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or [""])[0] or os.environ.get("PGHOST", "")
    host = host or "localhost (default socket)"
    port = parts.port or (query.get("port") or [""])[0]
    database = parts.path.lstrip("/") or (query.get("dbname") or [""])[0] or "(default)"
    return f"{host}{':' + str(port) if port else ''}/{database}"


_QUOTED = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|\?")


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """A SQLite statement of the store in PostgreSQL's dialect: `?` → `$n` (not inside quotes
    or comments), `INSERT OR IGNORE` → `INSERT … ON CONFLICT DO NOTHING`."""
    counter = 0

    def number(match: re.Match[str]) -> str:
        nonlocal counter
        if match.group(0) != "?":
            return match.group(0)
        counter += 1
        return f"${counter}"

    text = _QUOTED.sub(number, sql)
    if re.match(r"\s*INSERT\s+OR\s+IGNORE\s+INTO\b", text, re.IGNORECASE):
        text = re.sub(r"INSERT\s+OR\s+IGNORE\s+INTO", "INSERT INTO", text, count=1, flags=re.I)
        returning = re.search(r"\bRETURNING\b", text, re.IGNORECASE)
        if returning:
            text = f"{text[: returning.start()]} ON CONFLICT DO NOTHING {text[returning.start() :]}"
        else:
            text = f"{text.rstrip()} ON CONFLICT DO NOTHING"
    return text


def _milliseconds(seconds: float) -> str:
    return str(max(1, round(seconds * 1000)))


def server_bounds(timeout: float) -> dict[str, str]:
    """The session settings that bound, on the server, what a client bounded by `timeout` runs."""
    return {
        "statement_timeout": _milliseconds(timeout + SERVER_MARGIN),
        "idle_in_transaction_session_timeout": _milliseconds(
            max(IDLE_IN_TRANSACTION, timeout + SERVER_MARGIN)
        ),
    }


def _coerce(value: Any, type_name: str) -> Any:
    # SQLite takes any value in any column; asyncpg wants the parameter's own type.
    if isinstance(value, bool) and type_name != "bool":
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if type_name in _TEXTS:
            return str(value)
        if type_name in _FLOATS or type_name == "numeric":
            return float(value)
    return value


class _Cursor:
    """What the SQLite code reads of a cursor: its rows and `rowcount`."""

    def __init__(self, rows: list[asyncpg.Record], status: str | None) -> None:
        self._rows = rows
        last = (status or "").rsplit(" ", 1)[-1]
        self.rowcount = int(last) if last.isdigit() else -1

    async def fetchone(self) -> asyncpg.Record | None:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[asyncpg.Record]:
        return list(self._rows)


class _Pending:
    """`execute`'s result: awaited, or used as `async with`, like aiosqlite's."""

    def __init__(self, result: Awaitable[_Cursor]) -> None:
        self._result = result

    def __await__(self) -> Generator[Any, None, _Cursor]:
        return self._result.__await__()

    async def __aenter__(self) -> _Cursor:
        return await self._result

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgConnection:
    """One asyncpg connection, (re)made on demand, that runs the SQLite store's statements."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not timeout > 0:
            raise ValueError(f"the database timeout must be positive, got {timeout}")
        self.url = url
        # How long one store call may wait for the server (see `_errors`).
        self.timeout = timeout
        self._conn: asyncpg.Connection | None = None
        # Prepared once per connection; an IN (…) list of each length is its own statement,
        # so the least recently used are let go past STATEMENTS.
        self._statements: OrderedDict[str, asyncpg.prepared_stmt.PreparedStatement] = OrderedDict()
        self.in_transaction = False
        self._connected_once = False
        self._down_until = 0.0
        self._down: BaseException | None = None

    @property
    def where(self) -> str:
        """host:port/database."""
        return f"PostgreSQL at {describe_url(self.url)}"

    def unavailable(self, exc: BaseException) -> StoreUnavailable:
        """The error a caller sees when the server cannot be reached."""
        return StoreUnavailable(
            f"{self.where} is temporarily unavailable: {exc or type(exc).__name__}"
        )

    async def connection(self) -> asyncpg.Connection:
        """The live connection, connecting first when there is none."""
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        self._drop()
        if self._down is not None and time.monotonic() < self._down_until:
            raise self.unavailable(self._down)
        try:
            self._conn = await asyncpg.connect(
                self.url,
                timeout=RECONNECT_TIMEOUT if self._connected_once else CONNECT_TIMEOUT,
                command_timeout=COMMAND_TIMEOUT,
                server_settings={
                    "application_name": "briefbot",
                    **server_bounds(self.timeout),
                    **KEEPALIVE,
                },
            )
        except _UNAVAILABLE as exc:
            if isinstance(exc, TimeoutError):
                # No answer at all (a host or network gone): callers queued behind this one
                # fail at once for a moment instead of each waiting out the timeout. A refused
                # connection fails fast by itself, and is tried again at the next call.
                self._down, self._down_until = exc, time.monotonic() + RECONNECT_PAUSE
            raise self.unavailable(exc) from exc
        except asyncpg.PostgresError as exc:
            raise StoreError(f"{self.where} refused the connection: {exc}") from exc
        self._connected_once, self._down = True, None
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
        self._conn = None
        self._statements.clear()
        self.in_transaction = False

    @contextlib.asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        # One store call, bounded: a server that stops answering mid-call (frozen, partitioned,
        # a half-open connection) is treated as lost once `timeout` has passed.
        try:
            async with asyncio.timeout(self.timeout):
                yield
        except TimeoutError as exc:
            self._drop()
            silent = TimeoutError(f"no answer within {self.timeout:g} s")
            # Callers queued behind this one are told at once for a moment, instead of each
            # waiting out a reconnect to a server that may still be silent.
            self._down, self._down_until = silent, time.monotonic() + RECONNECT_PAUSE
            log.warning(
                "%s did not answer within %g s; connection dropped", self.where, self.timeout
            )
            raise self.unavailable(silent) from exc
        except _UNAVAILABLE as exc:
            self._drop()
            raise self.unavailable(exc) from exc
        except asyncpg.PostgresError as exc:
            raise StoreError(f"{self.where}: {exc}") from exc

    async def _abandon(self, conn: asyncpg.Connection, exc: BaseException) -> None:
        # A write that failed: a statement error is rolled back; a lost, silent or interrupted
        # connection is dropped instead (the server rolls back), since a ROLLBACK sent into it
        # would wait past the call's bound.
        if isinstance(exc, (asyncio.CancelledError, *_UNAVAILABLE)):
            self._drop()
            return
        with contextlib.suppress(*_CLOSE_ERRORS):
            await conn.execute("ROLLBACK")

    @contextlib.asynccontextmanager
    async def long_operations(self, bound: float = LONG_TIMEOUT) -> AsyncIterator[None]:
        """Calls inside are bounded by `bound` (a migration), on the client and the server."""
        short = self.timeout
        if bound <= short:
            yield
            return
        self.timeout = bound
        try:
            await self._session_bounds()
            yield
        finally:
            self.timeout = short
            with contextlib.suppress(StoreError):
                await self._session_bounds()

    async def _session_bounds(self) -> None:
        # The server-side bounds of a live session follow `timeout` (a new one gets them at
        # connect); a session that cannot take them is dropped rather than kept unbounded.
        conn = self._conn
        if conn is None or conn.is_closed():
            return
        try:
            async with self._errors():
                for name, value in server_bounds(self.timeout).items():
                    await conn.execute("SELECT set_config($1, $2, false)", name, value)
        except StoreError:
            self._drop()
            raise

    async def _prepared(self, sql: str) -> asyncpg.prepared_stmt.PreparedStatement:
        statement = self._statements.get(sql)
        if statement is None:
            conn = await self.connection()
            statement = await conn.prepare(translate(sql))
            self._statements[sql] = statement
            if len(self._statements) > STATEMENTS:
                self._statements.popitem(last=False)
        else:
            self._statements.move_to_end(sql)
        return statement

    async def _fetch(self, sql: str, params: Sequence[Any]) -> _Cursor:
        statement = await self._prepared(sql)
        types = [p.name for p in statement.get_parameters()]
        args = [_coerce(v, t) for v, t in zip(params, types, strict=True)]
        rows = await statement.fetch(*args)
        return _Cursor(rows, statement.get_statusmsg())

    async def _retrying(self, first_contact: Callable[[], Awaitable[_T]]) -> _T:
        # A connection the server dropped while idle (a restart, a failover, an idle timeout)
        # fails at the first round trip, before anything was written: one fresh connection
        # is tried before the server counts as unavailable.
        try:
            return await first_contact()
        except _UNAVAILABLE:
            self._drop()
            return await first_contact()

    async def _begin_locked(self) -> None:
        conn = await self.connection()
        await conn.execute("BEGIN")
        try:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITER_LOCK)
        except BaseException as exc:
            await self._abandon(conn, exc)
            raise

    async def _run(self, sql: str, params: Sequence[Any]) -> _Cursor:
        async with self._errors():
            if self.in_transaction:
                return await self._fetch(sql, params)
            if not sql.lstrip()[:6].upper().startswith(_WRITES):
                return await self._retrying(lambda: self._fetch(sql, params))
            # A write on its own takes the writer lock like a transaction does.
            await self._retrying(self._begin_locked)
            conn = await self.connection()
            try:
                cursor = await self._fetch(sql, params)
            except BaseException as exc:
                await self._abandon(conn, exc)
                raise
            await conn.execute("COMMIT")
            return cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Pending:
        """Run one statement (a write outside a transaction takes the writer lock)."""
        return _Pending(self._run(sql, tuple(params)))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters (in one round trip in a transaction)."""
        if not self.in_transaction:
            for row in rows:
                await self._run(sql, tuple(row))
            return
        if not rows:
            return
        async with self._errors():
            statement = await self._prepared(sql)
            types = [p.name for p in statement.get_parameters()]
            await statement.executemany(
                [[_coerce(v, t) for v, t in zip(row, types, strict=True)] for row in rows]
            )

    async def ddl(self, sql: str) -> None:
        """A statement without parameters (a migration step), run as it is."""
        async with self._errors():
            conn = await self.connection()
            await conn.execute(sql)

    async def begin(self) -> None:
        """Start a write transaction holding the writer lock."""
        async with self._errors():
            await self._retrying(self._begin_locked)
            self.in_transaction = True

    async def end(self, *, commit: bool) -> None:
        """Commit or roll back the transaction `begin` started."""
        began, self.in_transaction = self.in_transaction, False
        conn = self._conn
        if not began or conn is None or conn.is_closed():
            # The connection was lost mid-transaction: the server rolled it back.
            if commit:
                raise self.unavailable(ConnectionError("connection lost before the commit"))
            return
        async with self._errors():
            await conn.execute("COMMIT" if commit else "ROLLBACK")

    def forget_statements(self) -> None:
        """Prepared statements are re-made after the schema changed."""
        self._statements.clear()

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        conn, self._conn = self._conn, None
        self._statements.clear()
        if conn is not None and not conn.is_closed():
            try:
                await conn.close(timeout=min(5.0, self.timeout))
            except _CLOSE_ERRORS:
                conn.terminate()


class PostgresStore(Store):
    """The PostgreSQL store; open with `await PostgresStore.open(url)`."""

    backend = "postgresql"

    def __init__(
        self,
        pg: PgConnection,
        clock: Clock,
        *,
        owner: ClaimOwner | None = None,
        lease: dt.timedelta = DEFAULT_LEASE,
    ) -> None:
        # The SQLite code talks to `_db` as to an aiosqlite connection; PgConnection provides
        # every call it makes (`execute`, `executemany`, `close`).
        super().__init__(
            cast(aiosqlite.Connection, pg),
            Path(describe_url(pg.url)),
            clock,
            owner=owner,
            lease=lease,
        )
        self._pg = pg
        self.url = pg.url

    @property
    def where(self) -> str:
        """host:port/database (never the password)."""
        return self._pg.where

    @classmethod
    async def open(  # type: ignore[override]
        cls,
        url: str,
        *,
        clock: Clock | None = None,
        owner: ClaimOwner | None = None,
        lease: dt.timedelta = DEFAULT_LEASE,
        migrate: bool = True,
        call_timeout: float = DEFAULT_TIMEOUT,
    ) -> PostgresStore:
        """Connect and migrate; `StoreUnavailable` (naming the host) when it cannot be reached,
        `SchemaTooNewError` when a newer briefbot wrote it. `call_timeout` bounds each later call
        (migrations get `LONG_TIMEOUT`)."""
        pg = PgConnection(url, call_timeout)
        store = cls(pg, clock or SystemClock(), owner=owner, lease=lease)
        try:
            try:
                await pg.connection()
            except StoreUnavailable as exc:
                cause = exc.__cause__ or exc
                raise StoreUnavailable(
                    f"cannot reach {pg.where}: {cause or type(cause).__name__}; check that the "
                    "server is running and that BRIEFBOT_DATABASE names it"
                ) from cause
            await store._too_new(await store._user_version())
            if migrate:
                await store._migrate()
        except BaseException:
            await pg.close()
            raise
        return store

    @classmethod
    async def open_read_only(cls, path: str | Path) -> PostgresStore:
        """Open for reading only (offline commands): nothing is migrated; the schema must be
        this briefbot's."""
        store = await cls.open(str(path), migrate=False)
        version = await store.schema_version()
        if version != pg_schema.SCHEMA_VERSION:
            await store.close()
            raise StoreError(
                f"{store.where} is at database schema version {version}, this briefbot reads "
                f"{pg_schema.SCHEMA_VERSION}; run the bot once to migrate it"
            )
        return store

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._pg.close()

    # ------------------------------------------------------------------ plumbing

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction under the writer lock (SQLite's BEGIN IMMEDIATE)."""
        await self._pg.begin()
        try:
            yield self._db
        except BaseException:
            with contextlib.suppress(StoreError):
                await self._pg.end(commit=False)
            raise
        await self._pg.end(commit=True)

    async def _user_version(self) -> int:
        row = await self._fetchone("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if row is None or not row[0]:
            return 0
        row = await self._fetchone("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return int(row[0]) if row else 0

    async def _too_new(self, version: int) -> None:
        latest = pg_schema.SCHEMA_VERSION
        if version > latest:
            raise SchemaTooNewError(
                f"{self.where} has database schema version {version}, but this briefbot knows "
                f"versions up to {latest} (it was written by a newer briefbot): upgrade "
                "briefbot, or set BRIEFBOT_DATABASE to another database"
            )

    async def _migrate(self) -> None:
        # A migration may rewrite a big table, and waits for another process's migration to
        # finish: it is not cut by the short bound of a command's call.
        async with self._lock, self._pg.long_operations():
            version = await self._user_version()
            await self._too_new(version)
            for number, statements in pg_schema.MIGRATIONS:
                if number <= version:
                    continue
                try:
                    async with self._transaction():
                        await self._pg.ddl(
                            "CREATE TABLE IF NOT EXISTS schema_migrations ("
                            "version INTEGER PRIMARY KEY, "
                            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                        )
                        # Re-read under the lock: another process may have migrated meanwhile.
                        self._pg.forget_statements()
                        if await self._user_version() >= number:
                            continue
                        for statement in statements:
                            await self._pg.ddl(statement)
                        await self._pg.ddl(
                            f"INSERT INTO schema_migrations (version) VALUES ({int(number)})"
                        )
                except StoreUnavailable:
                    raise
                except StoreError as exc:
                    raise StoreError(
                        f"{self.where}: migrating the database to schema version {number} "
                        f"failed and was rolled back (still at version {version}): {exc}"
                    ) from exc
                finally:
                    self._pg.forget_statements()
                version = number
                log.info("%s: migrated database to schema version %d", self.where, number)

    # ------------------------------------------------------------------ several processes

    async def reserve_send(self, interval: float, now: float) -> float:
        """Reserve the next send turn shared by every process; its Unix time on this host.

        The turn is kept on the database's clock (hosts' clocks need not agree): the later of
        the database's now and the shared next free time, the next free time moving one
        `interval` past it; the wait is then counted from this host's `now`.
        """
        async with self._lock:
            row = await self._fetchone(
                "UPDATE send_pacing SET next_at = greatest(next_at, "
                "extract(epoch FROM clock_timestamp())::double precision) + ? WHERE id = 1 "
                "RETURNING next_at - ?, extract(epoch FROM clock_timestamp())::double precision",
                (interval, interval),
            )
        if row is None:
            raise StoreDamagedError(f"{self.where}: the send_pacing row is missing")
        turn, database_now = float(row[0]), float(row[1])
        return now + max(0.0, turn - database_now)

    # ------------------------------------------------------------------ db copy

    async def table_names(self) -> list[str]:
        """The data tables, parents first (runtime tables left out)."""
        async with self._lock:
            rows = await self._fetchall(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        return schema.ordered_tables({str(r[0]) for r in rows})

    async def table_columns(self, table: str) -> list[str]:
        """The columns of a table, in order."""
        async with self._lock:
            rows = await self._fetchall(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ? "
                "ORDER BY ordinal_position",
                (_known(table),),
            )
        return [str(r[0]) for r in rows]

    async def write_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
    ) -> None:
        """Insert rows read from the other backend; identity counters move past their ids."""
        await super().write_rows(table, columns, rows)
        if "id" in columns:
            async with self._lock:
                await self._fetchone(
                    f"SELECT setval(pg_get_serial_sequence('{_known(table)}', 'id'), "
                    f'(SELECT coalesce(max(id), 0) + 1 FROM "{_known(table)}"), false)'
                )
