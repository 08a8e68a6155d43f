"""The SQLite store: digest subscriptions, daily slot claims and what each channel got.

What a channel got is its *history*: the archive cutoff its first digest recorded (the order
key, date and brief id, of the oldest brief that digest showed; see `bot.digest.content`)
and one row per brief sent to it since. The archive before the cutoff has no rows.

One SQLite file through aiosqlite. The schema is built by numbered migrations tracked in
`PRAGMA user_version`; a database written by a newer briefbot is refused, not guessed at.
Timestamps are stored as UTC ISO 8601 strings; local dates as YYYY-MM-DD.

Opening checks the file before trusting it: a regular file (or none yet) in a folder that
exists or can be made, a SQLite database, `PRAGMA quick_check` within a time budget, and
writable; each failure is a `StoreError` of one line naming the path and what to do.

Slot claims have an owner (this process: host, pid, start token) and a lease; several
processes on one file claim, renew, resume and release by the rule in `Store.claim_slot`.

The schema is `bot.store.schema`; the records it returns are `bot.store.records`. When a second
backend (PostgreSQL) arrives, the interface both share is derived from what the features use.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import secrets
import socket
import sqlite3
import stat
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import aiosqlite

from bot.clock import Clock, SystemClock, Zone, format_time, require_aware
from bot.store import schema
from bot.store.records import (
    ArchiveCutoff,
    ClaimOwner,
    History,
    SchemaTooNewError,
    Slot,
    SlotClaim,
    SlotState,
    StoreDamagedError,
    StoreError,
    Subscription,
)

log = logging.getLogger(__name__)
_T = TypeVar("_T")

UTC = dt.UTC
BUSY_TIMEOUT_MS = 5000
DEFAULT_LEASE = dt.timedelta(seconds=60)
# `PRAGMA quick_check` reads the whole file: on a huge one, opening stops checking after this
# long (and says so) rather than delay the start; `briefbot db check` checks it all.
QUICK_CHECK_SECONDS = 2.0
# What an operator can do about a damaged database, appended to the one-line errors.
REMEDY = "restore a backup, or run `briefbot db check` for details"


def _stamp(when: dt.datetime) -> str:
    return require_aware(when).isoformat(timespec="microseconds")


def _instant(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"naive timestamp {text!r}")
    return value.astimezone(UTC)


def _required(text: str | None, column: str) -> dt.datetime:
    value = _instant(text)
    if value is None:
        raise ValueError(f"{column} is missing")
    return value


def _ids(text: str) -> tuple[str, ...]:
    value = json.loads(text)
    if not isinstance(value, list):
        raise ValueError(f"expected a JSON list of ids, got {text!r}")
    return tuple(str(x) for x in value)


# What a database fault can raise from any Store method: features catch these (they may not
# import sqlite3) to report "the database needs attention" instead of a traceback per row.
DATABASE_ERRORS: tuple[type[Exception], ...] = (StoreError, sqlite3.Error)


# ---------------------------------------------------------------------- claim owners


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first); None if unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name is in parentheses and may itself hold spaces or parentheses.
    return text[text.rfind(")") + 2 :].split()


def _start_ticks(pid: int) -> str:
    """When the process started (clock ticks since boot), or "0" where /proc cannot say."""
    fields = _proc_stat(pid)
    # Field 22 of stat is starttime; fields[0] here is field 3.
    return fields[19] if fields is not None and len(fields) > 19 else "0"


def this_process() -> ClaimOwner:
    """The claim owner for the running process (new after a fork: the pid is part of it)."""
    pid = os.getpid()
    owner = _OWNERS.get(pid)
    if owner is None:
        owner = ClaimOwner(socket.gethostname(), pid, f"{_start_ticks(pid)}.{secrets.token_hex(4)}")
        _OWNERS[pid] = owner
    return owner


_OWNERS: dict[int, ClaimOwner] = {}


def owner_alive(owner: ClaimOwner) -> bool:
    """Whether the process that holds a claim on *this* host is still the one running."""
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, run by another user
    fields = _proc_stat(owner.pid)
    if fields is not None and fields[0] in ("Z", "X"):
        return False  # killed, not yet reaped
    started = owner.token.partition(".")[0]
    now_started = _start_ticks(owner.pid)
    # A different start time under the same pid: the owner is gone and the pid reused (or the
    # bot restarted with the same pid, as in a container).
    return "0" in (started, now_started) or started == now_started


# ---------------------------------------------------------------------- opening


def prepare_path(path: Path) -> None:
    """Refuse what cannot be a database file; create its folder; one line per problem."""
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        info = None  # the folder part is looked at below
    except OSError as exc:
        raise StoreError(
            f"database {path} cannot be read ({exc.strerror}): check the path "
            "(BRIEFBOT_DATABASE, BRIEFBOT_DATA_DIR) and its permissions"
        ) from exc
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise StoreError(
                f"database {path} is a directory, not a file: set BRIEFBOT_DATABASE to a file "
                "path, or move the directory away"
            )
        if not stat.S_ISREG(info.st_mode):
            raise StoreError(
                f"database {path} is not a regular file (a device, pipe or socket): set "
                "BRIEFBOT_DATABASE to a file path"
            )
        return
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise StoreError(
            f"database folder {folder} cannot be created: {exc.filename or folder} is a file, "
            "not a folder; move it away or set BRIEFBOT_DATA_DIR (or BRIEFBOT_DATABASE)"
        ) from exc
    except OSError as exc:
        raise StoreError(
            f"database folder {folder} cannot be created ({exc.strerror}): create it, or set "
            "BRIEFBOT_DATA_DIR (or BRIEFBOT_DATABASE) to a folder briefbot may write"
        ) from exc


def open_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """The one-line `StoreError` for a SQLite error met while opening or checking `path`."""
    text = " ".join(str(exc).split())
    lowered = text.lower()
    if "not a database" in lowered:
        return StoreDamagedError(
            f"database {path} is not a SQLite database (or its header is damaged): {REMEDY}, "
            "or set BRIEFBOT_DATABASE to another file"
        )
    if "malformed" in lowered or "corrupt" in lowered:
        return StoreDamagedError(f"database {path} is damaged ({text}): {REMEDY}")
    if "readonly" in lowered or "read-only" in lowered:
        return StoreError(
            f"database {path} is read-only: make the file and its folder (for the -wal and "
            "-shm files beside it) writable by the user running briefbot"
        )
    if "unable to open" in lowered:
        return StoreError(
            f"database {path} cannot be opened ({text}): check the path and the permissions "
            "of the file and its folder"
        )
    return StoreError(f"database {path}: {text}: {REMEDY}")


_SUBSCRIPTION_COLUMNS = (
    "channel_id, guild_id, local_time, timezone, topics, created_by, updated_by, created_at, "
    "updated_at, enabled, disabled_reason, disabled_at"
)
_SLOT_COLUMNS = (
    "channel_id, local_date, state, nonce, brief_ids, message_id, reason, attempts, claimed_at, "
    "finished_at"
)
_CLAIM_COLUMNS = (
    "channel_id, local_date, nonce, brief_ids, attempts, claimed_at, owner_host, owner_pid, "
    "owner_token, lease_until"
)


def _decoded(table: str, row: Any, decode: Callable[[Any], _T]) -> _T:
    """Decode one row; damage (a missing or malformed value) is a StoreDamagedError."""
    try:
        return decode(row)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        try:
            where = f" (channel {int(row['channel_id'])})"
        except (ValueError, TypeError, KeyError, IndexError):
            where = ""
        raise StoreDamagedError(f"a damaged row in {table}{where}: {exc}") from exc


def _subscription(row: Any) -> Subscription:
    return _decoded("subscriptions", row, _decode_subscription)


def _decode_subscription(row: Any) -> Subscription:
    created_at = _required(row["created_at"], "created_at")
    updated_at = _required(row["updated_at"], "updated_at")
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
    return _decoded("digest_slots", row, _decode_slot)


def _decode_slot(row: Any) -> Slot:
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
    return _decoded("digest_slots", row, _decode_claim)


def _decode_claim(row: Any) -> SlotClaim:
    nonce = row["nonce"]
    if not isinstance(nonce, str) or not nonce:
        raise ValueError("the claim has no nonce")
    return SlotClaim(
        channel_id=int(row["channel_id"]),
        local_date=dt.date.fromisoformat(row["local_date"]),
        nonce=nonce,
        brief_ids=_ids(row["brief_ids"]),
        attempts=int(row["attempts"]),
        claimed_at=_required(row["claimed_at"], "claimed_at"),
        owner=_owner(row),
        lease_until=_instant(row["lease_until"]),
    )


def _owner(row: Any) -> ClaimOwner | None:
    if row["owner_token"] is None:
        return None
    return ClaimOwner(str(row["owner_host"]), int(row["owner_pid"]), str(row["owner_token"]))


class Store:
    """The SQLite store; open with `await Store.open(path)`."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        path: Path,
        clock: Clock,
        *,
        owner: ClaimOwner | None = None,
        lease: dt.timedelta = DEFAULT_LEASE,
    ) -> None:
        if lease <= dt.timedelta(0):
            raise ValueError(f"the claim lease must be positive, got {lease}")
        self._db = db
        self.path = path
        self._clock = clock
        self.owner = owner or this_process()
        self.lease = lease
        # One connection serves every task: without this lock, one task's statement could
        # land inside another task's open transaction.
        self._lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        clock: Clock | None = None,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        owner: ClaimOwner | None = None,
        lease: dt.timedelta = DEFAULT_LEASE,
        check_seconds: float = QUICK_CHECK_SECONDS,
    ) -> Store:
        """Open (creating if need be), check and migrate the database at `path`.

        Raises `StoreError` with one line naming the path and what to do when the file is not
        a usable database: a directory or device, in a folder that cannot be made, not SQLite,
        damaged, read-only, or written by a newer briefbot.
        """
        path = Path(path)
        if str(path) != ":memory:":
            await asyncio.to_thread(prepare_path, path)
        try:
            # isolation_level=None: no implicit transactions; every write says BEGIN itself.
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise open_error(path, exc) from exc
        try:
            db.row_factory = aiosqlite.Row
            await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            store = cls(db, path, clock or SystemClock(), owner=owner, lease=lease)
            # Reading the version first: random bytes fail here, before anything is written.
            await store._too_new(await store._user_version())
            await store._quick_check(check_seconds)
            async with db.execute("PRAGMA journal_mode = WAL") as cursor:
                mode = await cursor.fetchone()
            if mode is None or str(mode[0]).lower() not in ("wal", "memory"):
                log.warning("%s: WAL journal mode unavailable, using %s", path, mode)
            await db.execute("PRAGMA foreign_keys = ON")
            # NORMAL is durable across application crashes in WAL mode.
            await db.execute("PRAGMA synchronous = NORMAL")
            await store._probe_write()
            await store._migrate()
        except sqlite3.Error as exc:
            await db.close()
            raise open_error(path, exc) from exc
        except BaseException:
            await db.close()
            raise
        return store

    async def _quick_check(self, seconds: float) -> None:
        """`PRAGMA quick_check(1)`, stopped (with a warning) after `seconds` on a huge file."""
        deadline = time.monotonic() + seconds
        stopped = False

        def over_budget() -> int:
            nonlocal stopped
            stopped = time.monotonic() > deadline
            return 1 if stopped else 0

        await self._db.set_progress_handler(over_budget, 10_000)
        try:
            async with self._db.execute("PRAGMA quick_check(1)") as cursor:
                row = await cursor.fetchone()
        except sqlite3.OperationalError:
            if not stopped:
                raise
            log.warning(
                "%s: quick check stopped after %.0fs (a large database); run `briefbot db "
                "check` for a full check",
                self.path,
                seconds,
            )
            return
        finally:
            # None clears the handler (sqlite3 allows it; the stub does not say so).
            await self._db.set_progress_handler(None, 0)  # type: ignore[arg-type]
        # SQLite reports over several lines; the error is one.
        result = " ".join(str(row[0]).split()) if row else "no answer"
        if result != "ok":
            raise StoreDamagedError(
                f"database {self.path} is damaged (quick_check: {result}): {REMEDY}"
            )

    async def _probe_write(self) -> None:
        """Fail now, not at the first write, when the file cannot be written."""
        version = await self._user_version()
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            # A real write, rolled back: BEGIN alone succeeds on a read-only file.
            await self._db.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            # A failed write may have ended the transaction already.
            with contextlib.suppress(sqlite3.OperationalError):
                await self._db.execute("ROLLBACK")

    async def _too_new(self, version: int) -> None:
        latest = schema.SCHEMA_VERSION
        if version > latest:
            raise SchemaTooNewError(
                f"database {self.path} has schema version {version}, but this briefbot knows "
                f"versions up to {latest} (it was written by a newer briefbot): upgrade "
                "briefbot, or set BRIEFBOT_DATABASE to another file"
            )

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
        await self._too_new(version)
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
        """Claim a slot for this process before sending; None if it is not ours to send.

        The rule (one IMMEDIATE transaction, so two processes never both win):
        no row: a fresh claim, owned by this process until now + the lease. An open claim is
        taken over (same nonce and planned briefs, `attempts` + 1) when it is this process's
        own, released, its lease has run out, or its owner ran on this host and is gone (pid
        not alive, or reused by another process). A live claim of another process, a sent or
        skipped slot, and a channel not (or no longer) subscribed: None.
        """
        now = self._clock.now()
        until = _stamp(now + self.lease)
        me = self.owner
        key = (channel_id, local_date.isoformat())
        async with self._lock, self._transaction():
            row = await self._fetchone(
                f"SELECT state, {_CLAIM_COLUMNS} FROM digest_slots "
                "WHERE channel_id = ? AND local_date = ?",
                key,
            )
            if row is None:
                row = await self._fetchone(
                    f"""
                    INSERT INTO digest_slots (channel_id, local_date, state, nonce, brief_ids,
                        attempts, claimed_at, owner_host, owner_pid, owner_token, lease_until)
                    SELECT ?, ?, 'claimed', ?, ?, 1, ?, ?, ?, ?, ?
                    WHERE EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = ? AND enabled = 1)
                    RETURNING {_CLAIM_COLUMNS}
                    """,
                    (
                        *key,
                        nonce,
                        json.dumps(list(brief_ids)),
                        _stamp(now),
                        me.host,
                        me.pid,
                        me.token,
                        until,
                        channel_id,
                    ),
                )
                return _claim(row) if row else None
            if row["state"] != SlotState.CLAIMED.value:
                return None
            held = _claim(row)
            if not self._may_take(held, now):
                log.debug(
                    "channel %d: digest for %s is held by %s until %s",
                    channel_id,
                    local_date,
                    held.owner,
                    held.lease_until,
                )
                return None
            row = await self._fetchone(
                f"""
                UPDATE digest_slots SET attempts = attempts + 1, owner_host = ?, owner_pid = ?,
                    owner_token = ?, lease_until = ?, send_started_by = NULL
                WHERE channel_id = ? AND local_date = ?
                RETURNING {_CLAIM_COLUMNS}
                """,
                (me.host, me.pid, me.token, until, *key),
            )
        return _claim(row) if row else None

    def _may_take(self, claim: SlotClaim, now: dt.datetime) -> bool:
        owner = claim.owner
        if owner is None or owner == self.owner:
            return True  # released (or from before owners), or this process's own
        if claim.lease_until is None or claim.lease_until <= now:
            return True  # expired: its owner stopped renewing
        # A restart after a crash resumes at once: the dead owner cannot be sending.
        return owner.host == self.owner.host and not owner_alive(owner)

    async def renew_claims(self) -> int:
        """Extend the lease of every open claim this process holds; how many."""
        until = _stamp(self._clock.now() + self.lease)
        async with self._lock:
            cursor = await self._db.execute(
                "UPDATE digest_slots SET lease_until = ? "
                "WHERE state = 'claimed' AND owner_token = ?",
                (until, self.owner.token),
            )
            return cursor.rowcount

    async def begin_send(self, channel_id: int, local_date: dt.date) -> bool:
        """Mark a claim as being sent (renewing its lease); False if this process lost it."""
        until = _stamp(self._clock.now() + self.lease)
        async with self._lock:
            cursor = await self._db.execute(
                "UPDATE digest_slots SET send_started_by = owner_token, lease_until = ? "
                "WHERE channel_id = ? AND local_date = ? AND state = 'claimed' "
                "AND owner_token = ?",
                (until, channel_id, local_date.isoformat(), self.owner.token),
            )
            return cursor.rowcount > 0

    async def release_claims(self) -> int:
        """Give up the open claims this process has not begun to send (a graceful stop): any
        process may then resume them at once, with their nonce. How many were released."""
        async with self._lock:
            cursor = await self._db.execute(
                "UPDATE digest_slots SET owner_host = NULL, owner_pid = NULL, "
                "owner_token = NULL, lease_until = NULL "
                "WHERE state = 'claimed' AND owner_token = ? "
                "AND (send_started_by IS NULL OR send_started_by != owner_token)",
                (self.owner.token,),
            )
            return cursor.rowcount

    async def reserve_send(self, interval: float) -> float:
        """Reserve the next send turn shared by every process on this file; its Unix time.

        One statement: the turn is the later of now and the shared next free time, and the
        next free time moves one `interval` past it. The caller waits until its turn.
        """
        now = self._clock.now().timestamp()
        async with self._lock:
            row = await self._fetchone(
                "UPDATE send_pacing SET next_at = max(next_at, ?) + ? WHERE id = 1 "
                "RETURNING next_at - ?",
                (now, interval, interval),
            )
        if row is None:
            raise StoreDamagedError(f"database {self.path}: the send_pacing row is missing")
        return float(row[0])

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
        """Record a slot as not posted (with why); a sent or skipped slot is left as it is, and
        so is another process's live claim."""
        now = _stamp(self._clock.now())
        async with self._lock:
            cursor = await self._db.execute(
                """
                INSERT INTO digest_slots (channel_id, local_date, state, reason, finished_at)
                SELECT ?, ?, 'skipped', ?, ?
                WHERE EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = ?)
                ON CONFLICT (channel_id, local_date) DO UPDATE SET
                    state = 'skipped', reason = excluded.reason, finished_at = excluded.finished_at
                    WHERE state = 'claimed' AND (owner_token IS NULL OR owner_token = ?
                        OR lease_until IS NULL OR lease_until <= ?)
                """,
                (
                    channel_id,
                    local_date.isoformat(),
                    reason,
                    now,
                    channel_id,
                    self.owner.token,
                    now,
                ),
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
