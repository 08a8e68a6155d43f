"""The SQLite store: digest subscriptions, daily slot claims and what each channel got.

What a channel got is its *history*: the archive cutoff its first digest recorded (the order
key, date and brief id, of the oldest brief that digest showed; see `bot.digest.content`)
and one row per brief sent to it since. The archive before the cutoff has no rows.

One SQLite file through aiosqlite. The schema is built by numbered migrations tracked in
`PRAGMA user_version`; a database written by a newer briefbot is refused, not guessed at.
Timestamps are stored as UTC ISO 8601 strings; local dates as YYYY-MM-DD.

The schema is `bot.store.schema`; the records it returns are `bot.store.records`; the interface
it shares with the PostgreSQL store is `bot.store.base.Store`. (`Store` in this module is the
SQLite class under its old name, kept so existing callers of `Store.open(path)` keep working.)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from bot.clock import Clock, SystemClock, Zone, format_time, require_aware
from bot.store import schema
from bot.store.records import (
    ArchiveCutoff,
    History,
    SchemaTooNewError,
    Slot,
    SlotClaim,
    SlotState,
    StoreError,
    Subscription,
)

log = logging.getLogger(__name__)

UTC = dt.UTC
BUSY_TIMEOUT_MS = 5000


def _stamp(when: dt.datetime) -> str:
    return require_aware(when).isoformat(timespec="microseconds")


def _instant(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise StoreError(f"naive timestamp {text!r} in the database")
    return value.astimezone(UTC)


def _ids(text: str) -> tuple[str, ...]:
    return tuple(str(x) for x in json.loads(text))


_SUBSCRIPTION_COLUMNS = (
    "channel_id, guild_id, local_time, timezone, topics, created_by, updated_by, created_at, "
    "updated_at, enabled, disabled_reason, disabled_at"
)
_SLOT_COLUMNS = (
    "channel_id, local_date, state, nonce, brief_ids, message_id, reason, attempts, claimed_at, "
    "finished_at"
)
_CLAIM_COLUMNS = "channel_id, local_date, nonce, brief_ids, attempts, claimed_at"


def _subscription(row: Any) -> Subscription:
    created_at = _instant(row["created_at"])
    updated_at = _instant(row["updated_at"])
    assert created_at is not None and updated_at is not None
    return Subscription(
        channel_id=row["channel_id"],
        guild_id=row["guild_id"],
        local_time=dt.time.fromisoformat(row["local_time"]),
        timezone=Zone.stored(row["timezone"]),
        topics=_ids(row["topics"]),
        created_by=row["created_by"],
        updated_by=row["updated_by"],
        created_at=created_at,
        updated_at=updated_at,
        enabled=bool(row["enabled"]),
        disabled_reason=row["disabled_reason"],
        disabled_at=_instant(row["disabled_at"]),
    )


def _slot(row: Any) -> Slot:
    return Slot(
        channel_id=row["channel_id"],
        local_date=dt.date.fromisoformat(row["local_date"]),
        state=SlotState(row["state"]),
        nonce=row["nonce"],
        brief_ids=_ids(row["brief_ids"]),
        message_id=row["message_id"],
        reason=row["reason"],
        attempts=row["attempts"],
        claimed_at=_instant(row["claimed_at"]),
        finished_at=_instant(row["finished_at"]),
    )


def _claim(row: Any) -> SlotClaim:
    claimed_at = _instant(row["claimed_at"])
    assert claimed_at is not None
    return SlotClaim(
        channel_id=row["channel_id"],
        local_date=dt.date.fromisoformat(row["local_date"]),
        nonce=row["nonce"],
        brief_ids=_ids(row["brief_ids"]),
        attempts=row["attempts"],
        claimed_at=claimed_at,
    )


class SqliteStore:
    """The SQLite store; open with `await SqliteStore.open(path)`."""

    backend = "sqlite"

    def __init__(self, db: aiosqlite.Connection, path: Path, clock: Clock) -> None:
        self._db = db
        self.path = path
        self._clock = clock
        # One connection serves every task: without this lock, one task's statement could
        # land inside another task's open transaction.
        self._lock = asyncio.Lock()
        self._closed = False
        self._next_send = 0.0  # loop time of the next free send turn (one process)

    @property
    def where(self) -> str:
        """The database file."""
        return f"SQLite file {self.path}"

    @classmethod
    async def open(
        cls, path: str | Path, *, clock: Clock | None = None, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ) -> SqliteStore:
        """Open (creating if need be) and migrate the database at `path`."""
        path = Path(path)
        if str(path) != ":memory:":
            await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; every write says BEGIN itself.
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            db.row_factory = aiosqlite.Row
            await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            async with db.execute("PRAGMA journal_mode = WAL") as cursor:
                mode = await cursor.fetchone()
            if mode is None or str(mode[0]).lower() not in ("wal", "memory"):
                log.warning("%s: WAL journal mode unavailable, using %s", path, mode)
            await db.execute("PRAGMA foreign_keys = ON")
            # NORMAL is durable across application crashes in WAL mode.
            await db.execute("PRAGMA synchronous = NORMAL")
            store = cls(db, path, clock or SystemClock())
            await store._migrate()
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        """Close the database; safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._db.close()

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
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; IMMEDIATE takes the write lock up front (no upgrade deadlock)."""
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise
        await self._db.execute("COMMIT")

    async def _user_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def schema_version(self) -> int:
        """The schema version of the open database."""
        async with self._lock:
            return await self._user_version()

    async def _migrate(self) -> None:
        version = await self._user_version()
        latest = schema.SCHEMA_VERSION
        if version > latest:
            raise SchemaTooNewError(
                f"{self.path} has database schema version {version}, but this briefbot knows "
                f"versions up to {latest}. It was written by a newer briefbot: upgrade "
                "briefbot, or set BRIEFBOT_DATABASE to another file."
            )
        for number, statements in schema.MIGRATIONS:
            if number <= version:
                continue
            try:
                async with self._transaction() as db:
                    # Re-read under the write lock: another process may have migrated meanwhile.
                    if await self._user_version() >= number:
                        continue
                    for statement in statements:
                        await db.execute(statement)
                    # PRAGMA takes no parameters; `number` comes from the schema, not from input.
                    await db.execute(f"PRAGMA user_version = {int(number)}")
            except sqlite3.Error as exc:
                raise StoreError(
                    f"{self.path}: migrating the database to schema version {number} failed "
                    f"and was rolled back (still at version {version}): {exc}"
                ) from exc
            version = number
            log.info("%s: migrated database to schema version %d", self.path, number)

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def _fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self._fetchall(sql, params)
        return rows[0] if rows else None

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
        now = _stamp(self._clock.now())
        params = (
            channel_id,
            guild_id,
            format_time(local_time),
            timezone.key,
            json.dumps(list(dict.fromkeys(topics))),
            created_by,
            created_by,
            now,
            now,
        )
        async with self._lock:
            row = await self._fetchone(
                f"""
                INSERT INTO subscriptions (channel_id, guild_id, local_time, timezone, topics,
                    created_by, updated_by, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (channel_id) DO UPDATE SET
                    guild_id = excluded.guild_id,
                    local_time = excluded.local_time,
                    timezone = excluded.timezone,
                    topics = excluded.topics,
                    updated_by = excluded.updated_by,
                    updated_at = excluded.updated_at,
                    enabled = 1,
                    disabled_reason = NULL,
                    disabled_at = NULL
                RETURNING {_SUBSCRIPTION_COLUMNS}
                """,
                params,
            )
        return _subscription(row)

    async def remove(self, channel_id: int) -> bool:
        """Unsubscribe a channel; its slots and history go with it (ON DELETE CASCADE, and the
        archive cutoff lives in its row): subscribing again starts afresh with a first digest."""
        async with self._lock:
            cursor = await self._db.execute(
                "DELETE FROM subscriptions WHERE channel_id = ?", (channel_id,)
            )
            return cursor.rowcount > 0

    async def get(self, channel_id: int) -> Subscription | None:
        """The channel's subscription, enabled or not."""
        async with self._lock:
            row = await self._fetchone(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE channel_id = ?",
                (channel_id,),
            )
        return _subscription(row) if row else None

    async def list_guild(self, guild_id: int) -> list[Subscription]:
        """Every subscription in a guild, enabled or not, by channel id."""
        async with self._lock:
            rows = await self._fetchall(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE guild_id = ? "
                "ORDER BY channel_id",
                (guild_id,),
            )
        return [_subscription(r) for r in rows]

    async def list_enabled(self) -> list[Subscription]:
        """Every enabled subscription, by channel id."""
        async with self._lock:
            rows = await self._fetchall(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE enabled = 1 "
                "ORDER BY channel_id"
            )
        return [_subscription(r) for r in rows]

    async def disable(self, channel_id: int, reason: str) -> bool:
        """Stop serving a channel; its open claims are closed as skipped with the same reason."""
        now = _stamp(self._clock.now())
        async with self._lock, self._transaction() as db:
            cursor = await db.execute(
                "UPDATE subscriptions SET enabled = 0, disabled_reason = ?, disabled_at = ? "
                "WHERE channel_id = ?",
                (reason, now, channel_id),
            )
            changed = cursor.rowcount > 0
            await db.execute(
                "UPDATE digest_slots SET state = 'skipped', reason = ?, finished_at = ? "
                "WHERE channel_id = ? AND state = 'claimed'",
                (reason, now, channel_id),
            )
        return changed

    # ------------------------------------------------------------------ what was sent

    async def history(self, channel_id: int) -> History:
        """The channel's archive cutoff (None before its first digest) and the briefs sent to it.

        Only briefs delivered since the first digest have rows (at most one digest's worth a
        day), so this stays cheap however large the archive is. (A channel subscribed before
        schema version 2 has no cutoff and keeps a row per brief of its old backlog.)
        """
        async with self._lock:
            row = await self._fetchone(
                "SELECT archive_date, archive_id FROM subscriptions WHERE channel_id = ?",
                (channel_id,),
            )
            rows = await self._fetchall(
                "SELECT brief_id FROM sent_briefs WHERE channel_id = ?", (channel_id,)
            )
        cutoff = (
            ArchiveCutoff(dt.date.fromisoformat(row["archive_date"]), row["archive_id"])
            if row is not None and row["archive_id"] is not None
            else None
        )
        return History(cutoff, frozenset(r[0] for r in rows))

    async def _insert_sent(
        self, db: aiosqlite.Connection, channel_id: int, brief_ids: Iterable[str], now: str
    ) -> None:
        # WHERE EXISTS: a channel unsubscribed meanwhile records nothing (instead of failing
        # on the foreign key).
        await db.executemany(
            "INSERT OR IGNORE INTO sent_briefs (channel_id, brief_id, sent_at) "
            "SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = ?)",
            [(channel_id, brief_id, now, channel_id) for brief_id in dict.fromkeys(brief_ids)],
        )

    async def mark_sent(self, channel_id: int, brief_ids: Iterable[str]) -> None:
        """Record briefs as delivered to a subscribed channel."""
        now = _stamp(self._clock.now())
        async with self._lock, self._transaction() as db:
            await self._insert_sent(db, channel_id, brief_ids, now)

    # ------------------------------------------------------------------ slots

    async def claim_slot(
        self, channel_id: int, local_date: dt.date, nonce: str, brief_ids: Sequence[str] = ()
    ) -> SlotClaim | None:
        """Claim a slot before sending; the open claim if one is left over; None if done."""
        # Returns a fresh claim; or the existing claim when an earlier attempt did not finish
        # (retry it with *its* nonce: `attempts` > 1); or None when the slot is already sent or
        # skipped, or the channel is not (or no longer) an enabled subscription.
        now = _stamp(self._clock.now())
        async with self._lock:
            # One statement, so atomic: insert, or bump the attempt count of an open claim,
            # or (sent/skipped) leave the row alone and return nothing.
            row = await self._fetchone(
                f"""
                INSERT INTO digest_slots (channel_id, local_date, state, nonce, brief_ids,
                    attempts, claimed_at)
                SELECT ?, ?, 'claimed', ?, ?, 1, ?
                WHERE EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = ? AND enabled = 1)
                ON CONFLICT (channel_id, local_date) DO UPDATE SET attempts = attempts + 1
                    WHERE state = 'claimed'
                RETURNING {_CLAIM_COLUMNS}
                """,
                (
                    channel_id,
                    local_date.isoformat(),
                    nonce,
                    json.dumps(list(brief_ids)),
                    now,
                    channel_id,
                ),
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
        # False (and nothing recorded) when there is no open claim: the channel unsubscribed or
        # was disabled while the message was on its way.
        now = _stamp(self._clock.now())
        async with self._lock, self._transaction() as db:
            cursor = await db.execute(
                "UPDATE digest_slots SET state = 'sent', message_id = ?, finished_at = ?, "
                "reason = NULL WHERE channel_id = ? AND local_date = ? AND state = 'claimed'",
                (message_id, now, channel_id, local_date.isoformat()),
            )
            if cursor.rowcount == 0:
                return False
            await self._insert_sent(db, channel_id, brief_ids, now)
            if cutoff is not None:
                await db.execute(
                    "UPDATE subscriptions SET archive_date = ?, archive_id = ? "
                    "WHERE channel_id = ? AND archive_id IS NULL",
                    (cutoff.date.isoformat(), cutoff.brief_id, channel_id),
                )
        return True

    async def skip_slot(self, channel_id: int, local_date: dt.date, reason: str) -> bool:
        """Record a slot as not posted (with why); a sent or skipped slot is left as it is."""
        now = _stamp(self._clock.now())
        async with self._lock:
            cursor = await self._db.execute(
                """
                INSERT INTO digest_slots (channel_id, local_date, state, reason, finished_at)
                SELECT ?, ?, 'skipped', ?, ?
                WHERE EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = ?)
                ON CONFLICT (channel_id, local_date) DO UPDATE SET
                    state = 'skipped', reason = excluded.reason, finished_at = excluded.finished_at
                    WHERE state = 'claimed'
                """,
                (channel_id, local_date.isoformat(), reason, now, channel_id),
            )
            return cursor.rowcount > 0

    async def get_slot(self, channel_id: int, local_date: dt.date) -> Slot | None:
        """The record of one channel's digest for one local date."""
        async with self._lock:
            row = await self._fetchone(
                f"SELECT {_SLOT_COLUMNS} FROM digest_slots WHERE channel_id = ? AND local_date = ?",
                (channel_id, local_date.isoformat()),
            )
        return _slot(row) if row else None

    async def open_claims(self) -> list[SlotClaim]:
        """Claims not yet sent or skipped, oldest first."""
        async with self._lock:
            rows = await self._fetchall(
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
        async with self._lock:
            row = await self._fetchone(
                f"SELECT {_SLOT_COLUMNS} FROM digest_slots WHERE channel_id = ? AND state = ? "
                "ORDER BY local_date DESC, finished_at DESC LIMIT 1",
                (channel_id, state.value),
            )
        return _slot(row) if row else None

    # ------------------------------------------------------------------ several processes

    async def renew_claims(self) -> int:
        """Claims carry no lease on SQLite yet (the hardening branch adds them): nothing."""
        return 0

    async def release_claims(self) -> int:
        """Claims carry no lease on SQLite yet: nothing to release."""
        return 0

    async def reserve_send(self, per_second: float) -> float:
        """The next send turn; kept in this process until SQLite gets the shared budget table."""
        if per_second <= 0:
            raise ValueError(f"per_second must be positive, got {per_second}")
        now = asyncio.get_running_loop().time()
        turn = max(now, self._next_send)
        self._next_send = turn + 1.0 / per_second
        return turn - now

    # ------------------------------------------------------------------ db commands

    async def table_names(self) -> list[str]:
        """The data tables, parents first."""
        async with self._lock:
            rows = await self._fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        return schema.ordered_tables({str(r[0]) for r in rows})

    async def table_columns(self, table: str) -> list[str]:
        """The columns of a table, in order."""
        async with self._lock:
            rows = await self._fetchall(f'PRAGMA table_info("{_known(table)}")')
        return [str(r["name"]) for r in rows]

    async def count_rows(self, table: str) -> int:
        """How many rows a table holds."""
        async with self._lock:
            row = await self._fetchone(f'SELECT count(*) FROM "{_known(table)}"')
        return int(row[0])

    async def read_rows(self, table: str, columns: Sequence[str]) -> list[tuple[object, ...]]:
        """Every row of a table, as stored (ISO text for times and dates, 0/1 for flags)."""
        names = ", ".join(f'"{c}"' for c in columns)
        async with self._lock:
            rows = await self._fetchall(f'SELECT {names} FROM "{_known(table)}"')
        return [tuple(row) for row in rows]

    async def write_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
    ) -> None:
        """Insert rows of portable values, written the way this store writes them."""
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        converted = [tuple(_to_sqlite(v) for v in row) for row in rows]
        async with self._lock, self._transaction() as db:
            await db.executemany(
                f'INSERT INTO "{_known(table)}" ({names}) VALUES ({marks})', converted
            )

    async def clear_tables(self, tables: Sequence[str]) -> None:
        """Delete every row of these tables (children first), in one transaction."""
        async with self._lock, self._transaction() as db:
            for table in reversed(schema.ordered_tables(set(tables))):
                await db.execute(f'DELETE FROM "{_known(table)}"')


Store = SqliteStore


def _known(table: str) -> str:
    # Table names come from the database's own catalogue, never from a user.
    if not table.replace("_", "").isalnum():
        raise StoreError(f"not a table name: {table!r}")
    return table


def _to_sqlite(value: object) -> object:
    if isinstance(value, dt.datetime):
        return _stamp(value.astimezone(UTC))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value
