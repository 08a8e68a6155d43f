"""The PostgreSQL store: the same behaviour as the SQLite store, shared by several processes.

An asyncpg pool. The schema is `bot.store.pg_schema` (numbered migrations mirroring SQLite's,
tracked in `schema_migrations`). What several processes need on top of one process's store:

- Claims carry an owner (host, pid, start token) and `lease_until`. A live claim of another
  process is never taken over; an expired one, or one whose process ran on this host and is
  gone, is resumed with its stored nonce (`attempts` + 1). Leases are renewed while sending
  (`renew_claims`) and given up on a graceful stop (`release_claims`).
- One send budget for every process (`reserve_send`): a row holding the next free turn,
  advanced under its row lock, timed by the database's clock so hosts need not agree.
- A lost connection raises `StoreUnavailable`; the caller says "temporarily unavailable" or
  retries later.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeAlias
from urllib.parse import parse_qs, urlsplit

import asyncpg

from bot.clock import Clock, SystemClock, Zone, format_time, require_aware
from bot.store import pg_schema, schema
from bot.store.records import (
    ArchiveCutoff,
    History,
    Owner,
    SchemaTooNewError,
    Slot,
    SlotClaim,
    SlotState,
    StoreError,
    StoreUnavailable,
    Subscription,
)

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    _Conn: TypeAlias = PoolConnectionProxy[asyncpg.Record]
else:
    _Conn = Any

log = logging.getLogger(__name__)

DEFAULT_LEASE = dt.timedelta(seconds=60)  # also bot.store.DEFAULT_LEASE
CONNECT_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0
# Any number: the lock that serialises migrations of processes starting together.
_MIGRATION_LOCK = 0x62726965
_BUDGET = "discord"

# Errors that mean "the server is not there right now", not "this query is wrong".
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.InterfaceError,
    # Raised by a pooled connection that broke mid-operation, as it is handed back.
    asyncpg.exceptions.InternalClientError,
)

_SUBSCRIPTION_COLUMNS = (
    "channel_id, guild_id, local_time, timezone, topics, created_by, updated_by, created_at, "
    "updated_at, enabled, disabled_reason, disabled_at"
)
_SLOT_COLUMNS = (
    "channel_id, local_date, state, nonce, brief_ids, message_id, reason, attempts, claimed_at, "
    "finished_at"
)
_CLAIM_COLUMNS = "channel_id, local_date, nonce, brief_ids, attempts, claimed_at"


def describe_url(url: str) -> str:
    """host:port/database of a postgresql:// URL, for messages (never the password)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or [""])[0] or os.environ.get("PGHOST", "")
    host = host or "localhost (default socket)"
    port = parts.port or (query.get("port") or [""])[0]
    database = parts.path.lstrip("/") or (query.get("dbname") or [""])[0] or "(default)"
    return f"{host}{':' + str(port) if port else ''}/{database}"


def _ids(text: str) -> tuple[str, ...]:
    return tuple(str(x) for x in json.loads(text))


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(dt.UTC) if value is not None else None


def _subscription(row: Any) -> Subscription:
    return Subscription(
        channel_id=row["channel_id"],
        guild_id=row["guild_id"],
        local_time=dt.time.fromisoformat(row["local_time"]),
        timezone=Zone.stored(row["timezone"]),
        topics=_ids(row["topics"]),
        created_by=row["created_by"],
        updated_by=row["updated_by"],
        created_at=row["created_at"].astimezone(dt.UTC),
        updated_at=row["updated_at"].astimezone(dt.UTC),
        enabled=bool(row["enabled"]),
        disabled_reason=row["disabled_reason"],
        disabled_at=_utc(row["disabled_at"]),
    )


def _slot(row: Any) -> Slot:
    return Slot(
        channel_id=row["channel_id"],
        local_date=row["local_date"],
        state=SlotState(row["state"]),
        nonce=row["nonce"],
        brief_ids=_ids(row["brief_ids"]),
        message_id=row["message_id"],
        reason=row["reason"],
        attempts=row["attempts"],
        claimed_at=_utc(row["claimed_at"]),
        finished_at=_utc(row["finished_at"]),
    )


def _claim(row: Any) -> SlotClaim:
    return SlotClaim(
        channel_id=row["channel_id"],
        local_date=row["local_date"],
        nonce=row["nonce"],
        brief_ids=_ids(row["brief_ids"]),
        attempts=row["attempts"],
        claimed_at=row["claimed_at"].astimezone(dt.UTC),
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


class PostgresStore:
    """The PostgreSQL store; open with `await PostgresStore.open(url)`."""

    backend = "postgresql"

    def __init__(
        self, pool: asyncpg.Pool, url: str, clock: Clock, owner: Owner, lease: dt.timedelta
    ) -> None:
        self._pool = pool
        self.url = url
        self._clock = clock
        self.owner = owner
        self.lease = lease
        self._closed = False

    @property
    def where(self) -> str:
        """host:port/database."""
        return f"PostgreSQL at {describe_url(self.url)}"

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        clock: Clock | None = None,
        owner: Owner | None = None,
        lease: dt.timedelta = DEFAULT_LEASE,
        max_size: int = 10,
        migrate: bool = True,
    ) -> PostgresStore:
        """Connect and migrate; `StoreUnavailable` (naming the host) if it cannot be reached."""
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=max_size,
                timeout=CONNECT_TIMEOUT,
                command_timeout=60,
                server_settings={"timezone": "UTC", "application_name": "briefbot"},
            )
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(
                f"cannot reach PostgreSQL at {describe_url(url)}: {exc or type(exc).__name__}"
            ) from exc
        except asyncpg.PostgresError as exc:
            raise StoreError(f"PostgreSQL at {describe_url(url)} refused: {exc}") from exc
        store = cls(pool, url, clock or SystemClock(), owner or Owner.current(), lease)
        try:
            if migrate:
                await store._migrate()
        except BaseException:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        """Close the pool; safe to call twice."""
        if not self._closed:
            self._closed = True
            try:
                # Graceful: waits for connections in use to come back to the pool.
                await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT)
            except TimeoutError:
                log.warning(
                    "%s: connections still busy after %ss; closing them", self.where, CLOSE_TIMEOUT
                )
                self._pool.terminate()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ plumbing

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[_Conn]:
        """A live pooled connection; a server that is down surfaces as StoreUnavailable."""
        conn = await self._live_connection()
        try:
            yield conn
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        finally:
            with contextlib.suppress(*_UNAVAILABLE):
                await self._pool.release(conn)

    async def _live_connection(self) -> _Conn:
        # A connection the server dropped while it sat in the pool (a restart, a failover)
        # would fail the caller's statement: one cheap round trip finds it first, and the
        # pool replaces it. Only when no connection works is the server unavailable.
        last: BaseException | None = None
        for _ in range(self._pool.get_max_size() + 1):
            try:
                conn = await self._pool.acquire()
            except _UNAVAILABLE as exc:
                raise self._unavailable(exc) from exc
            try:
                await conn.execute("SELECT 1")
            except _UNAVAILABLE as exc:
                last = exc
                with contextlib.suppress(*_UNAVAILABLE):
                    await self._pool.release(conn)
                continue
            return conn
        assert last is not None
        raise self._unavailable(last) from last

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return StoreUnavailable(
            f"PostgreSQL at {describe_url(self.url)} is temporarily unavailable: "
            f"{exc or type(exc).__name__}"
        )

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Conn]:
        async with self._conn() as conn, conn.transaction():
            yield conn

    def _now(self) -> dt.datetime:
        return require_aware(self._clock.now()).astimezone(dt.UTC)

    async def _version(self, conn: _Conn) -> int:
        exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if not exists:
            return 0
        return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    async def schema_version(self) -> int:
        """The schema version of the database (also a connectivity check)."""
        async with self._conn() as conn:
            return await self._version(conn)

    async def _migrate(self) -> None:
        latest = pg_schema.SCHEMA_VERSION
        async with self._conn() as conn:
            version = await self._version(conn)
            if version > latest:
                raise SchemaTooNewError(
                    f"{self.where} has database schema version {version}, but this briefbot "
                    f"knows versions up to {latest}. It was written by a newer briefbot: "
                    "upgrade briefbot, or set BRIEFBOT_DATABASE to another database."
                )
            for number, statements in pg_schema.MIGRATIONS:
                if number <= version:
                    continue
                try:
                    async with conn.transaction():
                        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
                        await conn.execute(
                            "CREATE TABLE IF NOT EXISTS schema_migrations ("
                            "version INTEGER PRIMARY KEY, "
                            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                        )
                        # Re-read under the lock: another process may have migrated meanwhile.
                        if await self._version(conn) >= number:
                            continue
                        for statement in statements:
                            await conn.execute(statement)
                        await conn.execute(
                            "INSERT INTO schema_migrations (version) VALUES ($1)", number
                        )
                except asyncpg.PostgresError as exc:
                    raise StoreError(
                        f"{self.where}: migrating the database to schema version {number} "
                        f"failed and was rolled back (still at version {version}): {exc}"
                    ) from exc
                version = number
                log.info("%s: migrated database to schema version %d", self.where, number)

    # ------------------------------------------------------------------ subscriptions

    async def upsert_subscription(
        self,
        *,
        guild_id: int,
        channel_id: int,
        local_time: dt.time,
        timezone: Zone,
        topics: Sequence[str] = (),
        created_by: int,
    ) -> Subscription:
        """Subscribe a channel, or update its schedule and re-enable it (clearing the reason)."""
        now = self._now()
        async with self._conn() as conn:
            row = await conn.fetchrow(
                f"""
                INSERT INTO subscriptions (channel_id, guild_id, local_time, timezone, topics,
                    created_by, updated_by, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $7)
                ON CONFLICT (channel_id) DO UPDATE SET
                    guild_id = excluded.guild_id,
                    local_time = excluded.local_time,
                    timezone = excluded.timezone,
                    topics = excluded.topics,
                    updated_by = excluded.updated_by,
                    updated_at = excluded.updated_at,
                    enabled = TRUE,
                    disabled_reason = NULL,
                    disabled_at = NULL
                RETURNING {_SUBSCRIPTION_COLUMNS}
                """,
                channel_id,
                guild_id,
                format_time(local_time),
                timezone.key,
                json.dumps(list(dict.fromkeys(topics))),
                created_by,
                now,
            )
        return _subscription(row)

    async def remove(self, channel_id: int) -> bool:
        """Unsubscribe a channel; its slots and history go with it (ON DELETE CASCADE)."""
        async with self._conn() as conn:
            status = await conn.execute(
                "DELETE FROM subscriptions WHERE channel_id = $1", channel_id
            )
        return bool(status != "DELETE 0")

    async def get(self, channel_id: int) -> Subscription | None:
        """The channel's subscription, enabled or not."""
        async with self._conn() as conn:
            row = await conn.fetchrow(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE channel_id = $1",
                channel_id,
            )
        return _subscription(row) if row else None

    async def list_guild(self, guild_id: int) -> list[Subscription]:
        """Every subscription in a guild, enabled or not, by channel id."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE guild_id = $1 "
                "ORDER BY channel_id",
                guild_id,
            )
        return [_subscription(r) for r in rows]

    async def list_enabled(self) -> list[Subscription]:
        """Every enabled subscription, by channel id."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE enabled "
                "ORDER BY channel_id"
            )
        return [_subscription(r) for r in rows]

    async def disable(self, channel_id: int, reason: str) -> bool:
        """Stop serving a channel; its open claims are closed as skipped with the same reason."""
        now = self._now()
        async with self._transaction() as conn:
            status = await conn.execute(
                "UPDATE subscriptions SET enabled = FALSE, disabled_reason = $1, "
                "disabled_at = $2 WHERE channel_id = $3",
                reason,
                now,
                channel_id,
            )
            await conn.execute(
                "UPDATE digest_slots SET state = 'skipped', reason = $1, finished_at = $2 "
                "WHERE channel_id = $3 AND state = 'claimed'",
                reason,
                now,
                channel_id,
            )
        return bool(status != "UPDATE 0")

    # ------------------------------------------------------------------ what was sent

    async def history(self, channel_id: int) -> History:
        """The channel's archive cutoff (None before its first digest) and the briefs sent."""
        async with self._conn() as conn:
            row = await conn.fetchrow(
                "SELECT archive_date, archive_id FROM subscriptions WHERE channel_id = $1",
                channel_id,
            )
            rows = await conn.fetch(
                "SELECT brief_id FROM sent_briefs WHERE channel_id = $1", channel_id
            )
        cutoff = (
            ArchiveCutoff(row["archive_date"], row["archive_id"])
            if row is not None and row["archive_id"] is not None
            else None
        )
        return History(cutoff, frozenset(r[0] for r in rows))

    @staticmethod
    async def _insert_sent(
        conn: _Conn, channel_id: int, brief_ids: Iterable[str], now: dt.datetime
    ) -> None:
        # WHERE EXISTS: a channel unsubscribed meanwhile records nothing.
        await conn.executemany(
            "INSERT INTO sent_briefs (channel_id, brief_id, sent_at) "
            "SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = $1) "
            "ON CONFLICT DO NOTHING",
            [(channel_id, brief_id, now) for brief_id in dict.fromkeys(brief_ids)],
        )

    async def mark_sent(self, channel_id: int, brief_ids: Iterable[str]) -> None:
        """Record briefs as delivered to a subscribed channel."""
        now = self._now()
        async with self._transaction() as conn:
            await self._insert_sent(conn, channel_id, brief_ids, now)

    # ------------------------------------------------------------------ slots

    def _resumable(self, row: Any, now: dt.datetime) -> bool:
        """Whether an open claim may be taken by this process."""
        if row["owner_token"] is None or row["owner_token"] == self.owner.token:
            return True  # unowned (written by a version without owners), or ours
        lease_until = row["lease_until"]
        if lease_until is None or lease_until <= now:
            return True  # its lease ran out
        # Its process ran here and is gone (a crash, a restart): no need to wait out the lease.
        # A claim with our pid but another start token was left by an earlier process that had
        # this pid: two live processes never share one.
        if row["owner_host"] != self.owner.host:
            return False
        return bool(row["owner_pid"] == self.owner.pid or not _pid_alive(row["owner_pid"]))

    async def claim_slot(
        self, channel_id: int, local_date: dt.date, nonce: str, brief_ids: Sequence[str] = ()
    ) -> SlotClaim | None:
        """Claim a slot before sending; a resumable open claim (same nonce, attempts + 1); None
        when the slot is done, another live process holds it, or the channel is not served."""
        now = self._now()
        owner = self.owner
        lease_until = now + self.lease
        async with self._transaction() as conn:
            # A concurrent insert of the same slot waits for the other transaction, then
            # conflicts: exactly one process inserts.
            row = await conn.fetchrow(
                f"""
                INSERT INTO digest_slots (channel_id, local_date, state, nonce, brief_ids,
                    attempts, claimed_at, owner_host, owner_pid, owner_token, lease_until)
                SELECT $1, $2, 'claimed', $3, $4, 1, $5, $6, $7, $8, $9
                WHERE EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = $1 AND enabled)
                ON CONFLICT (channel_id, local_date) DO NOTHING
                RETURNING {_CLAIM_COLUMNS}
                """,
                channel_id,
                local_date,
                nonce,
                json.dumps(list(brief_ids)),
                now,
                owner.host,
                owner.pid,
                owner.token,
                lease_until,
            )
            if row is not None:
                return _claim(row)
            current = await conn.fetchrow(
                "SELECT d.state, d.owner_host, d.owner_pid, d.owner_token, d.lease_until "
                "FROM digest_slots d JOIN subscriptions s USING (channel_id) "
                "WHERE d.channel_id = $1 AND d.local_date = $2 AND s.enabled "
                "FOR UPDATE OF d",
                channel_id,
                local_date,
            )
            if current is None or current["state"] != "claimed":
                return None
            if not self._resumable(current, now):
                return None
            row = await conn.fetchrow(
                f"""
                UPDATE digest_slots SET attempts = attempts + 1, owner_host = $3,
                    owner_pid = $4, owner_token = $5, lease_until = $6
                WHERE channel_id = $1 AND local_date = $2
                RETURNING {_CLAIM_COLUMNS}
                """,
                channel_id,
                local_date,
                owner.host,
                owner.pid,
                owner.token,
                lease_until,
            )
        return _claim(row) if row else None

    async def complete_slot(
        self,
        channel_id: int,
        local_date: dt.date,
        message_id: int,
        brief_ids: Iterable[str],
        cutoff: ArchiveCutoff | None = None,
    ) -> bool:
        """Mark a claimed slot sent and `brief_ids` delivered, in one transaction; a first
        digest also sets the channel's archive `cutoff` (one already set is kept)."""
        now = self._now()
        async with self._transaction() as conn:
            status = await conn.execute(
                "UPDATE digest_slots SET state = 'sent', message_id = $1, finished_at = $2, "
                "reason = NULL, lease_until = NULL "
                "WHERE channel_id = $3 AND local_date = $4 AND state = 'claimed'",
                message_id,
                now,
                channel_id,
                local_date,
            )
            if status == "UPDATE 0":
                return False
            await self._insert_sent(conn, channel_id, brief_ids, now)
            if cutoff is not None:
                await conn.execute(
                    "UPDATE subscriptions SET archive_date = $1, archive_id = $2 "
                    "WHERE channel_id = $3 AND archive_id IS NULL",
                    cutoff.date,
                    cutoff.brief_id,
                    channel_id,
                )
        return True

    async def skip_slot(self, channel_id: int, local_date: dt.date, reason: str) -> bool:
        """Record a slot as not posted (with why); a sent or skipped slot, or one another live
        process holds, is left as it is."""
        now = self._now()
        async with self._transaction() as conn:
            status = await conn.execute(
                """
                INSERT INTO digest_slots (channel_id, local_date, state, reason, finished_at)
                SELECT $1, $2, 'skipped', $3, $4
                WHERE EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = $1)
                ON CONFLICT (channel_id, local_date) DO NOTHING
                """,
                channel_id,
                local_date,
                reason,
                now,
            )
            if status != "INSERT 0 0":
                return True
            current = await conn.fetchrow(
                "SELECT state, owner_host, owner_pid, owner_token, lease_until FROM digest_slots "
                "WHERE channel_id = $1 AND local_date = $2 FOR UPDATE",
                channel_id,
                local_date,
            )
            if current is None or current["state"] != "claimed":
                return False
            if not self._resumable(current, now):
                return False
            await conn.execute(
                "UPDATE digest_slots SET state = 'skipped', reason = $3, finished_at = $4, "
                "lease_until = NULL WHERE channel_id = $1 AND local_date = $2",
                channel_id,
                local_date,
                reason,
                now,
            )
        return True

    async def get_slot(self, channel_id: int, local_date: dt.date) -> Slot | None:
        """The record of one channel's digest for one local date."""
        async with self._conn() as conn:
            row = await conn.fetchrow(
                f"SELECT {_SLOT_COLUMNS} FROM digest_slots "
                "WHERE channel_id = $1 AND local_date = $2",
                channel_id,
                local_date,
            )
        return _slot(row) if row else None

    async def open_claims(self) -> list[SlotClaim]:
        """Claims not yet sent or skipped (any process's), oldest first."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                f"SELECT {_CLAIM_COLUMNS} FROM digest_slots WHERE state = 'claimed' "
                "ORDER BY local_date, channel_id"
            )
        return [_claim(r) for r in rows]

    async def last_sent(self, channel_id: int) -> Slot | None:
        """The channel's most recently sent digest."""
        return await self._last_slot(channel_id, SlotState.SENT)

    async def last_skipped(self, channel_id: int) -> Slot | None:
        """The channel's most recently skipped digest, with its reason."""
        return await self._last_slot(channel_id, SlotState.SKIPPED)

    async def _last_slot(self, channel_id: int, state: SlotState) -> Slot | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(
                f"SELECT {_SLOT_COLUMNS} FROM digest_slots WHERE channel_id = $1 AND state = $2 "
                "ORDER BY local_date DESC, finished_at DESC LIMIT 1",
                channel_id,
                state.value,
            )
        return _slot(row) if row else None

    # ------------------------------------------------------------------ several processes

    async def renew_claims(self) -> int:
        """Extend the lease of this process's open claims; how many."""
        async with self._conn() as conn:
            status = await conn.execute(
                "UPDATE digest_slots SET lease_until = $1 "
                "WHERE owner_token = $2 AND state = 'claimed'",
                self._now() + self.lease,
                self.owner.token,
            )
        return int(status.split()[-1])

    async def release_claims(self) -> int:
        """End the lease of this process's open claims, so another resumes them at once."""
        async with self._conn() as conn:
            status = await conn.execute(
                "UPDATE digest_slots SET lease_until = $1 "
                "WHERE owner_token = $2 AND state = 'claimed'",
                self._now(),
                self.owner.token,
            )
        return int(status.split()[-1])

    async def reserve_send(self, per_second: float) -> float:
        """Take the next turn of the send budget every process shares; seconds to wait."""
        if per_second <= 0:
            raise ValueError(f"per_second must be positive, got {per_second}")
        async with self._conn() as conn:
            turn = await conn.fetchval(
                """
                INSERT INTO send_budget AS b (name, next_at)
                VALUES ($1, clock_timestamp() + make_interval(secs => $2))
                ON CONFLICT (name) DO UPDATE SET
                    next_at = greatest(b.next_at, clock_timestamp())
                              + make_interval(secs => $2)
                RETURNING extract(epoch FROM b.next_at - make_interval(secs => $2))::float8
                """,
                _BUDGET,
                1.0 / per_second,
            )
        # The turn is an instant (the database's clock), not a delay: however long the answer
        # took to arrive, every process sends at its own turn, so turns do not bunch up.
        # (Hosts keep their clocks in step with NTP; a few ms apart cost nothing here.)
        return max(0.0, float(turn) - time.time())

    # ------------------------------------------------------------------ db commands

    async def table_names(self) -> list[str]:
        """The data tables (not the migration log or the send budget), parents first."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        names = {r[0] for r in rows} - pg_schema.RUNTIME_TABLES
        return schema.ordered_tables(names)

    async def table_columns(self, table: str) -> list[str]:
        """The columns of a table, in order."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = $1 "
                "ORDER BY ordinal_position",
                table,
            )
        return [r[0] for r in rows]

    async def _column_types(self, conn: _Conn, table: str) -> dict[str, str]:
        rows = await conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = $1",
            table,
        )
        return {r[0]: r[1] for r in rows}

    async def count_rows(self, table: str) -> int:
        """How many rows a table holds."""
        async with self._conn() as conn:
            return int(await conn.fetchval(f'SELECT count(*) FROM "{_known(table)}"'))

    async def read_rows(self, table: str, columns: Sequence[str]) -> list[tuple[object, ...]]:
        """Every row of a table, in portable Python values."""
        names = ", ".join(f'"{c}"' for c in columns)
        async with self._conn() as conn:
            rows = await conn.fetch(f'SELECT {names} FROM "{_known(table)}"')
        return [tuple(_utc(v) if isinstance(v, dt.datetime) else v for v in row) for row in rows]

    async def write_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
    ) -> None:
        """Insert rows of portable values, converted to this table's column types."""
        async with self._transaction() as conn:
            types = await self._column_types(conn, _known(table))
            converters = [_to_pg(types[c]) for c in columns]
            records = [tuple(f(v) for f, v in zip(converters, row, strict=True)) for row in rows]
            await conn.copy_records_to_table(table, records=records, columns=list(columns))

    async def clear_tables(self, tables: Sequence[str]) -> None:
        """Delete every row of these tables, in one transaction."""
        if not tables:
            return
        async with self._transaction() as conn:
            names = ", ".join(f'"{_known(t)}"' for t in tables)
            await conn.execute(f"TRUNCATE {names} CASCADE")


def _known(table: str) -> str:
    # Table names come from the database's own catalogue, never from a user; this guards the
    # quoting anyway.
    if not table.replace("_", "").isalnum():
        raise StoreError(f"not a table name: {table!r}")
    return table


def _to_pg(data_type: str) -> Any:
    """A converter from a portable value to what asyncpg sends for `data_type`."""

    def convert(value: object) -> object:
        if value is None:
            return None
        if data_type == "timestamp with time zone" and isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise StoreError(f"naive timestamp {value!r}")
            return parsed
        if data_type == "date" and isinstance(value, str):
            return dt.date.fromisoformat(value)
        if data_type == "boolean" and isinstance(value, int):
            return bool(value)
        return value

    return convert
