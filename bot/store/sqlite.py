"""The SQLite store: digest subscriptions, slot claims, what each channel got; drafts and audit.

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

The schema is `bot.store.schema`; the records it returns are `bot.store.records`. The
statements here are written once for both backends: `bot.store.postgres.PostgresStore` runs
them on PostgreSQL (same tables and values, `pg_schema`), overriding only opening, migrating,
transactions and the send budget. Keep them portable (docs/store.md lists what that means).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
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
from bot.store.feeds import FeedTables
from bot.store.records import (
    ArchiveCutoff,
    AuditAction,
    AuditEntry,
    ChannelKind,
    ClaimOwner,
    Draft,
    DraftOrigin,
    DraftState,
    GuildSettings,
    History,
    NewDraft,
    PauseKind,
    SchemaTooNewError,
    Slot,
    SlotClaim,
    SlotState,
    StoreDamagedError,
    StoreError,
    Subscription,
    Uncertain,
    Weekdays,
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


def _times(text: str) -> tuple[dt.time, ...]:
    return tuple(dt.time.fromisoformat(str(x)) for x in json.loads(text))


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


_SUBSCRIPTION_COLUMNS = (
    "channel_id, guild_id, local_time, timezone, topics, created_by, updated_by, created_at, "
    "updated_at, enabled, disabled_reason, disabled_at, times, days, pause_kind, paused_until, "
    "paused_by, notice_at, notice_dm, quiet, mention_role_id, publish, kind"
)
_SLOT_COLUMNS = (
    "channel_id, local_date, slot_time, state, nonce, brief_ids, message_id, reason, attempts, "
    "claimed_at, finished_at, due_at, seen_until, title, post_id, last_error"
)
_CLAIM_COLUMNS = (
    "channel_id, local_date, slot_time, nonce, brief_ids, attempts, claimed_at, title, seen_until, "
    "owner_host, owner_pid, owner_token, lease_until"
)
# Where a slot is in every statement that names one.
_SLOT_KEY = "channel_id = ? AND local_date = ? AND slot_time = ?"


def _key(channel_id: int, local_date: dt.date, slot_time: dt.time) -> tuple[int, str, str]:
    return (channel_id, local_date.isoformat(), format_time(slot_time))


_DRAFT_COLUMNS = (
    "id, guild_id, requester_id, created_at, updated_at, expires_at, brief_id, brief_yaml, notes, "
    "source_text, source_sha256, origin, origin_name, state, state_by, state_at, previews"
)
_AUDIT_COLUMNS = "id, at, guild_id, user_id, draft_id, brief_id, source_sha256, action"
_SETTINGS_COLUMNS = "guild_id, editor_role_id, review_channel_id, notices_channel_id, updated_at"


def source_sha256(text: str) -> str:
    """The hex SHA-256 of a source text as UTF-8: what the audit trail records."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _notes(text: str) -> tuple[Uncertain, ...]:
    return tuple(Uncertain(int(n["quote"]), str(n["reason"])) for n in json.loads(text))


def _notes_json(notes: Iterable[Uncertain]) -> str:
    return json.dumps([{"quote": n.quote, "reason": n.reason} for n in notes])


def _draft(row: Any) -> Draft:
    return _decoded("drafts", row, _decode_draft)


def _decode_draft(row: Any) -> Draft:
    return Draft(
        id=row["id"],
        guild_id=row["guild_id"],
        requester_id=row["requester_id"],
        created_at=_required(row["created_at"], "created_at"),
        updated_at=_required(row["updated_at"], "updated_at"),
        expires_at=_required(row["expires_at"], "expires_at"),
        brief_id=row["brief_id"],
        brief_yaml=row["brief_yaml"],
        notes=_notes(row["notes"]),
        source_text=row["source_text"],
        source_sha256=row["source_sha256"],
        origin=DraftOrigin(row["origin"]),
        origin_name=row["origin_name"],
        state=DraftState(row["state"]),
        state_by=row["state_by"],
        state_at=_instant(row["state_at"]),
        previews=tuple((int(c), int(m)) for c, m in json.loads(row["previews"])),
    )


def _audit(row: Any) -> AuditEntry:
    return _decoded("audit", row, _decode_audit)


def _decode_audit(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=_required(row["at"], "at"),
        guild_id=row["guild_id"],
        user_id=row["user_id"],
        draft_id=row["draft_id"],
        brief_id=row["brief_id"],
        source_sha256=row["source_sha256"],
        action=AuditAction(row["action"]),
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
        times=_times(row["times"]),
        days=Weekdays(row["days"]),
        pause_kind=PauseKind(row["pause_kind"]) if row["pause_kind"] else None,
        paused_until=_date(row["paused_until"]),
        paused_by=row["paused_by"],
        notice_at=_instant(row["notice_at"]),
        notice_dm=bool(row["notice_dm"]),
        quiet=bool(row["quiet"]),
        mention_role_id=row["mention_role_id"],
        publish=bool(row["publish"]),
        kind=ChannelKind(row["kind"]),
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
        slot_time=dt.time.fromisoformat(row["slot_time"]),
        due_at=_instant(row["due_at"]),
        seen_until=_instant(row["seen_until"]),
        title=row["title"],
        post_id=row["post_id"],
        last_error=row["last_error"],
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
        slot_time=dt.time.fromisoformat(row["slot_time"]),
        title=row["title"],
        seen_until=_instant(row["seen_until"]),
        owner=_owner(row),
        lease_until=_instant(row["lease_until"]),
    )


def _owner(row: Any) -> ClaimOwner | None:
    if row["owner_token"] is None:
        return None
    return ClaimOwner(str(row["owner_host"]), int(row["owner_pid"]), str(row["owner_token"]))


# Serving again: the pause, its reason and its notice are forgotten (settings are kept).
_RESUMED = (
    "enabled = 1, disabled_reason = NULL, disabled_at = NULL, pause_kind = NULL, "
    "paused_until = NULL, paused_by = NULL, notice_at = NULL"
)


class Store(FeedTables):
    """The SQLite store; open with `await Store.open(path)`. Feed state: `bot.store.feeds`."""

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

    backend = "sqlite"

    @property
    def where(self) -> str:
        """Where the data lives, for messages."""
        return f"SQLite file {self.path}"

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

    @classmethod
    async def open_read_only(cls, path: str | Path) -> Store:
        """Open an existing database for reading only: nothing is created, migrated or written."""
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"{path}: no database here")
        try:
            db = await aiosqlite.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise open_error(path, exc) from exc
        try:
            db.row_factory = aiosqlite.Row
            store = cls(db, path, SystemClock())
            version = await store._user_version()
        except sqlite3.Error as exc:
            await db.close()
            raise open_error(path, exc) from exc
        except BaseException:
            await db.close()
            raise
        if version != schema.SCHEMA_VERSION:
            await db.close()
            raise StoreError(
                f"{path} is at database schema version {version}, this briefbot reads "
                f"{schema.SCHEMA_VERSION}; run the bot once to migrate it"
            )
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
        local_time: dt.time | None = None,
        timezone: Zone,
        topics: Sequence[str] = (),
        created_by: int,
        times: Sequence[dt.time] = (),
        days: Weekdays = Weekdays.EVERY_DAY,
        quiet: bool = True,
        mention_role_id: int | None = None,
        publish: bool = False,
        kind: ChannelKind = ChannelKind.TEXT,
    ) -> Subscription:
        """Subscribe a channel, or replace its settings and resume it (clearing any pause)."""
        slot_times = sorted(set(times)) or ([local_time] if local_time is not None else [])
        if not slot_times:
            raise ValueError("a subscription needs a time of day")
        now = _stamp(self._clock.now())
        params = (
            channel_id,
            guild_id,
            format_time(slot_times[0]),
            timezone.key,
            json.dumps(list(dict.fromkeys(topics))),
            created_by,
            created_by,
            now,
            now,
            json.dumps([format_time(t) for t in slot_times]),
            int(days),
            int(quiet),
            mention_role_id,
            int(publish),
            kind.value,
        )
        async with self._lock:
            row = await self._fetchone(
                f"""
                INSERT INTO subscriptions (channel_id, guild_id, local_time, timezone, topics,
                    created_by, updated_by, created_at, updated_at, times, days, quiet,
                    mention_role_id, publish, kind)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (channel_id) DO UPDATE SET
                    guild_id = excluded.guild_id,
                    local_time = excluded.local_time,
                    timezone = excluded.timezone,
                    topics = excluded.topics,
                    updated_by = excluded.updated_by,
                    updated_at = excluded.updated_at,
                    times = excluded.times,
                    days = excluded.days,
                    quiet = excluded.quiet,
                    mention_role_id = excluded.mention_role_id,
                    publish = excluded.publish,
                    kind = excluded.kind,
                    {_RESUMED}
                RETURNING {_SUBSCRIPTION_COLUMNS}
                """,
                params,
            )
        return _subscription(row)

    async def pause(
        self, channel_id: int, by: int, until: dt.date | None = None
    ) -> Subscription | None:
        """A member pauses a channel's digest (until a local date, or until resumed); every
        setting is kept. None when the channel is not subscribed."""
        now = _stamp(self._clock.now())
        reason = f"paused by <@{by}>" + (f" until {until.isoformat()}" if until else "")
        async with self._lock, self._transaction() as db:
            row = await self._fetchone(
                f"""
                UPDATE subscriptions SET enabled = 0, pause_kind = 'member', disabled_reason = ?,
                    disabled_at = ?, paused_until = ?, paused_by = ?, notice_at = NULL
                WHERE channel_id = ?
                RETURNING {_SUBSCRIPTION_COLUMNS}
                """,
                (reason, now, until.isoformat() if until else None, by, channel_id),
            )
            await self._close_claims(db, channel_id, "paused", now)
        return _subscription(row) if row else None

    async def resume(self, channel_id: int) -> Subscription | None:
        """Serve a paused channel again with every setting it had; slots due before now are
        not owed. None when the channel is not subscribed."""
        now = _stamp(self._clock.now())
        async with self._lock:
            row = await self._fetchone(
                f"""
                UPDATE subscriptions SET updated_at = ?, {_RESUMED}
                WHERE channel_id = ?
                RETURNING {_SUBSCRIPTION_COLUMNS}
                """,
                (now, channel_id),
            )
        return _subscription(row) if row else None

    async def claim_notice(self, channel_id: int) -> bool:
        """Take the right to tell someone about the channel's current pause: True once per
        pause (False when it was told already, or the channel is not paused)."""
        now = _stamp(self._clock.now())
        async with self._lock:
            cursor = await self._db.execute(
                "UPDATE subscriptions SET notice_at = ? "
                "WHERE channel_id = ? AND enabled = 0 AND notice_at IS NULL",
                (now, channel_id),
            )
            return cursor.rowcount > 0

    async def set_notice_dm(self, channel_id: int, on: bool) -> Subscription | None:
        """Whether the member who subscribed is sent a DM when the bot pauses the channel."""
        async with self._lock:
            row = await self._fetchone(
                f"UPDATE subscriptions SET notice_dm = ? WHERE channel_id = ? "
                f"RETURNING {_SUBSCRIPTION_COLUMNS}",
                (int(on), channel_id),
            )
        return _subscription(row) if row else None

    async def clear_mention(self, channel_id: int) -> Subscription | None:
        """The digest stops mentioning a role; every other setting is kept."""
        async with self._lock:
            row = await self._fetchone(
                f"UPDATE subscriptions SET mention_role_id = NULL WHERE channel_id = ? "
                f"RETURNING {_SUBSCRIPTION_COLUMNS}",
                (channel_id,),
            )
        return _subscription(row) if row else None

    async def list_all(self) -> list[Subscription]:
        """Every subscription, enabled or paused, by channel id."""
        async with self._lock:
            rows = await self._fetchall(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions ORDER BY channel_id"
            )
        return [_subscription(r) for r in rows]

    # ------------------------------------------------------------------ guild settings

    async def set_notices_channel(self, guild_id: int, channel_id: int | None) -> GuildSettings:
        """Where the bot tells a server's staff that it paused a digest (None: DMs)."""
        now = _stamp(self._clock.now())
        async with self._lock:
            await self._db.execute(
                "INSERT INTO guild_settings (guild_id, notices_channel_id, updated_at) "
                "VALUES (?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
                "notices_channel_id = excluded.notices_channel_id, "
                "updated_at = excluded.updated_at",
                (guild_id, channel_id, now),
            )
        return await self.guild_settings(guild_id)

    # ------------------------------------------------------------------ first seen

    async def record_seen(self, brief_ids: Iterable[str]) -> None:
        """Note the briefs the bot sees now for the first time (one already seen keeps its
        first time)."""
        now = _stamp(self._clock.now())
        rows = [(brief_id, now) for brief_id in dict.fromkeys(brief_ids)]
        if not rows:
            return
        async with self._lock, self._transaction() as db:
            await db.executemany(
                "INSERT OR IGNORE INTO briefs_seen (brief_id, first_seen) VALUES (?, ?)", rows
            )

    async def seen_after(self, since: dt.datetime) -> frozenset[str]:
        """The briefs first seen after `since`."""
        async with self._lock:
            rows = await self._fetchall(
                "SELECT brief_id FROM briefs_seen WHERE first_seen > ?", (_stamp(since),)
            )
        return frozenset(r[0] for r in rows)

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
        """The bot pauses a channel it cannot deliver to (with why); its open claims are closed
        as skipped with the same reason. False when it is not subscribed or paused already."""
        now = _stamp(self._clock.now())
        async with self._lock, self._transaction() as db:
            cursor = await db.execute(
                "UPDATE subscriptions SET enabled = 0, pause_kind = 'bot', disabled_reason = ?, "
                "disabled_at = ?, paused_until = NULL, paused_by = NULL, notice_at = NULL "
                "WHERE channel_id = ? AND enabled = 1",
                (reason, now, channel_id),
            )
            changed = cursor.rowcount > 0
            await self._close_claims(db, channel_id, reason, now)
        return changed

    @staticmethod
    async def _close_claims(
        db: aiosqlite.Connection, channel_id: int, reason: str, now: str
    ) -> None:
        await db.execute(
            "UPDATE digest_slots SET state = 'skipped', reason = ?, finished_at = ? "
            "WHERE channel_id = ? AND state = 'claimed'",
            (reason, now, channel_id),
        )

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
        self,
        channel_id: int,
        local_date: dt.date,
        nonce: str,
        brief_ids: Sequence[str] = (),
        *,
        slot_time: dt.time = dt.time(0),
        due_at: dt.datetime | None = None,
        seen_until: dt.datetime | None = None,
        title: str | None = None,
    ) -> SlotClaim | None:
        """Claim a slot for this process before sending; None if it is not ours to send.

        A claim taken over keeps its nonce, planned briefs and title (a forum post is looked
        for by that title before a resend), so the retry is the same message.

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
        key = _key(channel_id, local_date, slot_time)
        async with self._lock, self._transaction():
            row = await self._fetchone(
                f"SELECT state, {_CLAIM_COLUMNS} FROM digest_slots WHERE {_SLOT_KEY}", key
            )
            if row is None:
                row = await self._fetchone(
                    f"""
                    INSERT INTO digest_slots (channel_id, local_date, slot_time, state, nonce,
                        brief_ids, attempts, claimed_at, due_at, seen_until, title, owner_host,
                        owner_pid, owner_token, lease_until)
                    SELECT ?, ?, ?, 'claimed', ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?
                    WHERE EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = ? AND enabled = 1)
                    RETURNING {_CLAIM_COLUMNS}
                    """,
                    (
                        *key,
                        nonce,
                        json.dumps(list(brief_ids)),
                        _stamp(now),
                        _stamp(due_at) if due_at else None,
                        _stamp(seen_until) if seen_until else None,
                        title,
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
                    "channel %d: digest for %s %s is held by %s until %s",
                    channel_id,
                    local_date,
                    format_time(slot_time),
                    held.owner,
                    held.lease_until,
                )
                return None
            row = await self._fetchone(
                f"""
                UPDATE digest_slots SET attempts = attempts + 1, owner_host = ?, owner_pid = ?,
                    owner_token = ?, lease_until = ?, send_started_by = NULL
                WHERE {_SLOT_KEY}
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

    async def begin_send(
        self, channel_id: int, local_date: dt.date, *, slot_time: dt.time = dt.time(0)
    ) -> bool:
        """Mark a claim as being sent (renewing its lease); False if this process lost it."""
        until = _stamp(self._clock.now() + self.lease)
        async with self._lock:
            cursor = await self._db.execute(
                "UPDATE digest_slots SET send_started_by = owner_token, lease_until = ? "
                f"WHERE {_SLOT_KEY} AND state = 'claimed' AND owner_token = ?",
                (until, *_key(channel_id, local_date, slot_time), self.owner.token),
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

    async def reserve_send(self, interval: float, now: float) -> float:
        """Reserve the next send turn shared by every process on this file; its Unix time.

        One statement: the turn is the later of `now` (real Unix time) and the shared next
        free time, and the next free time moves one `interval` past it. The caller waits
        until its turn.
        """
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
        *,
        slot_time: dt.time = dt.time(0),
        post_id: int | None = None,
    ) -> bool:
        """Mark a claimed slot sent and `brief_ids` delivered, in one transaction; a first
        digest also sets the channel's archive `cutoff` (one already set is kept)."""
        # False (and nothing recorded) when there is no open claim: the channel unsubscribed or
        # was disabled while the message was on its way.
        now = _stamp(self._clock.now())
        async with self._lock, self._transaction() as db:
            cursor = await db.execute(
                "UPDATE digest_slots SET state = 'sent', message_id = ?, finished_at = ?, "
                f"reason = NULL, post_id = ? WHERE {_SLOT_KEY} AND state = 'claimed'",
                (message_id, now, post_id or channel_id, *_key(channel_id, local_date, slot_time)),
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

    async def skip_slot(
        self,
        channel_id: int,
        local_date: dt.date,
        reason: str,
        *,
        slot_time: dt.time = dt.time(0),
        due_at: dt.datetime | None = None,
    ) -> bool:
        """Record a slot as not posted (with why); a sent or skipped slot is left as it is, and
        so is another process's live claim."""
        now = _stamp(self._clock.now())
        async with self._lock:
            cursor = await self._db.execute(
                """
                INSERT INTO digest_slots (channel_id, local_date, slot_time, state, reason,
                    finished_at, due_at)
                SELECT ?, ?, ?, 'skipped', ?, ?, ?
                WHERE EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = ?)
                ON CONFLICT (channel_id, local_date, slot_time) DO UPDATE SET
                    state = 'skipped', reason = excluded.reason, finished_at = excluded.finished_at
                    -- Qualified: PostgreSQL reads a bare name here as ambiguous.
                    WHERE digest_slots.state = 'claimed' AND (digest_slots.owner_token IS NULL
                        OR digest_slots.owner_token = ? OR digest_slots.lease_until IS NULL
                        OR digest_slots.lease_until <= ?)
                """,
                (
                    *_key(channel_id, local_date, slot_time),
                    reason,
                    now,
                    _stamp(due_at) if due_at else None,
                    channel_id,
                    self.owner.token,
                    now,
                ),
            )
            return cursor.rowcount > 0

    async def fail_slot(
        self, channel_id: int, local_date: dt.date, error: str, *, slot_time: dt.time = dt.time(0)
    ) -> bool:
        """Note a temporary failure on an open claim (it is retried); shown in the log."""
        async with self._lock:
            cursor = await self._db.execute(
                f"UPDATE digest_slots SET last_error = ? WHERE {_SLOT_KEY} AND state = 'claimed'",
                (error, *_key(channel_id, local_date, slot_time)),
            )
            return cursor.rowcount > 0

    async def get_slot(
        self, channel_id: int, local_date: dt.date, slot_time: dt.time | None = None
    ) -> Slot | None:
        """The record of one channel's digest for one slot (no time: the date's latest slot)."""
        if slot_time is None:
            sql = (
                f"SELECT {_SLOT_COLUMNS} FROM digest_slots WHERE channel_id = ? "
                "AND local_date = ? ORDER BY slot_time DESC LIMIT 1"
            )
            params: tuple[Any, ...] = (channel_id, local_date.isoformat())
        else:
            sql = f"SELECT {_SLOT_COLUMNS} FROM digest_slots WHERE {_SLOT_KEY}"
            params = _key(channel_id, local_date, slot_time)
        async with self._lock:
            row = await self._fetchone(sql, params)
        return _slot(row) if row else None

    async def open_claims(self) -> list[SlotClaim]:
        """Claims not yet sent or skipped, oldest first."""
        async with self._lock:
            rows = await self._fetchall(
                f"SELECT {_CLAIM_COLUMNS} FROM digest_slots WHERE state = 'claimed' "
                "ORDER BY local_date, slot_time, channel_id"
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
                "ORDER BY local_date DESC, slot_time DESC, finished_at DESC LIMIT 1",
                (channel_id, state.value),
            )
        return _slot(row) if row else None

    async def slot_log(self, channel_id: int, limit: int = 20) -> list[Slot]:
        """The channel's latest slots, newest first."""
        async with self._lock:
            rows = await self._fetchall(
                f"SELECT {_SLOT_COLUMNS} FROM digest_slots WHERE channel_id = ? "
                "ORDER BY local_date DESC, slot_time DESC LIMIT ?",
                (channel_id, limit),
            )
        return [_slot(r) for r in rows]

    async def prune_slots(self, before: dt.datetime) -> int:
        """Forget finished slots older than `before` (the delivery log keeps 90 days)."""
        async with self._lock:
            cursor = await self._db.execute(
                "DELETE FROM digest_slots WHERE state != 'claimed' AND finished_at < ?",
                (_stamp(before),),
            )
            return cursor.rowcount

    # ------------------------------------------------------------------ guild settings

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's settings (every field None when it has set nothing)."""
        async with self._lock:
            row = await self._fetchone(
                f"SELECT {_SETTINGS_COLUMNS} FROM guild_settings WHERE guild_id = ?", (guild_id,)
            )
        if row is None:
            return GuildSettings(guild_id)
        return GuildSettings(
            guild_id=row["guild_id"],
            editor_role_id=row["editor_role_id"],
            review_channel_id=row["review_channel_id"],
            notices_channel_id=row["notices_channel_id"],
            updated_at=_instant(row["updated_at"]),
        )

    async def save_guild_settings(self, settings: GuildSettings) -> GuildSettings:
        """Store every field of a guild's settings (None clears one back to the default)."""
        now = self._clock.now()
        async with self._lock:
            await self._db.execute(
                """
                INSERT INTO guild_settings (guild_id, editor_role_id, review_channel_id,
                    notices_channel_id, updated_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (guild_id) DO UPDATE SET
                    editor_role_id = excluded.editor_role_id,
                    review_channel_id = excluded.review_channel_id,
                    notices_channel_id = excluded.notices_channel_id,
                    updated_at = excluded.updated_at
                """,
                (
                    settings.guild_id,
                    settings.editor_role_id,
                    settings.review_channel_id,
                    settings.notices_channel_id,
                    _stamp(now),
                ),
            )
        return GuildSettings(
            settings.guild_id,
            settings.editor_role_id,
            settings.review_channel_id,
            settings.notices_channel_id,
            now,
        )

    # ------------------------------------------------------------------ drafts

    async def create_draft(self, new: NewDraft, lifetime: dt.timedelta) -> Draft:
        """Store a draft under review; it expires `lifetime` from now."""
        now = self._clock.now()
        async with self._lock:
            row = await self._fetchone(
                f"""
                INSERT INTO drafts (guild_id, requester_id, created_at, updated_at, expires_at,
                    brief_id, brief_yaml, notes, source_text, source_sha256, origin, origin_name)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                RETURNING {_DRAFT_COLUMNS}
                """,
                (
                    new.guild_id,
                    new.requester_id,
                    _stamp(now),
                    _stamp(now),
                    _stamp(now + lifetime),
                    new.brief_id,
                    new.brief_yaml,
                    _notes_json(new.notes),
                    new.source_text,
                    source_sha256(new.source_text),
                    new.origin.value,
                    new.origin_name,
                ),
            )
        return _draft(row)

    async def get_draft(self, draft_id: int) -> Draft | None:
        """The stored draft (in any state), or None if it was never stored or is deleted."""
        async with self._lock:
            row = await self._fetchone(
                f"SELECT {_DRAFT_COLUMNS} FROM drafts WHERE id = ?", (draft_id,)
            )
        return _draft(row) if row else None

    async def drafts_of(self, guild_id: int, requester_id: int) -> list[Draft]:
        """A member's drafts still under review in a guild, newest first."""
        async with self._lock:
            rows = await self._fetchall(
                f"SELECT {_DRAFT_COLUMNS} FROM drafts WHERE guild_id = ? AND requester_id = ? "
                "AND state = 'draft' AND expires_at > ? ORDER BY created_at DESC, id DESC",
                (guild_id, requester_id, _stamp(self._clock.now())),
            )
        return [_draft(r) for r in rows]

    async def update_draft(
        self, draft_id: int, brief_yaml: str, notes: Sequence[Uncertain]
    ) -> Draft | None:
        """Save an edited draft; None when it is no longer under review."""
        now = _stamp(self._clock.now())
        async with self._lock:
            row = await self._fetchone(
                f"UPDATE drafts SET brief_yaml = ?, notes = ?, updated_at = ? "
                f"WHERE id = ? AND state = 'draft' AND expires_at > ? RETURNING {_DRAFT_COLUMNS}",
                (brief_yaml, _notes_json(notes), now, draft_id, now),
            )
        return _draft(row) if row else None

    async def add_preview(self, draft_id: int, channel_id: int, message_id: int) -> None:
        """Remember a message that shows the draft's preview (to redraw or retire it)."""
        async with self._lock, self._transaction() as db:
            async with db.execute("SELECT previews FROM drafts WHERE id = ?", (draft_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                return
            previews = [tuple(p) for p in json.loads(row[0])]
            if (channel_id, message_id) not in previews:
                previews.append((channel_id, message_id))
            await db.execute(
                "UPDATE drafts SET previews = ? WHERE id = ?", (json.dumps(previews), draft_id)
            )

    async def claim_publish(
        self, draft_id: int, user_id: int, stale_after: dt.timedelta
    ) -> Draft | None:
        """Take the right to publish a draft: one statement, so one editor wins a race.

        None when the draft is gone, expired, published, or another publish is under way (one
        begun more than `stale_after` ago was interrupted, and may be taken over).
        """
        now = self._clock.now()
        async with self._lock:
            row = await self._fetchone(
                f"""
                UPDATE drafts SET state = 'publishing', state_by = ?, state_at = ?
                WHERE id = ? AND expires_at > ?
                  AND (state = 'draft' OR (state = 'publishing' AND state_at < ?))
                RETURNING {_DRAFT_COLUMNS}
                """,
                (user_id, _stamp(now), draft_id, _stamp(now), _stamp(now - stale_after)),
            )
        return _draft(row) if row else None

    async def release_publish(self, draft_id: int, user_id: int) -> None:
        """Give a claimed publish back (it failed): the draft is under review again."""
        async with self._lock:
            await self._db.execute(
                "UPDATE drafts SET state = 'draft', state_by = NULL, state_at = NULL "
                "WHERE id = ? AND state = 'publishing' AND state_by = ?",
                (draft_id, user_id),
            )

    async def finish_publish(
        self, draft_id: int, user_id: int, action: AuditAction = AuditAction.PUBLISHED
    ) -> AuditEntry | None:
        """Mark a claimed draft published and record it in the audit, in one transaction."""
        now = _stamp(self._clock.now())
        async with self._lock, self._transaction() as db:
            async with db.execute(
                "UPDATE drafts SET state = 'published', state_at = ? "
                "WHERE id = ? AND state = 'publishing' AND state_by = ? "
                "RETURNING guild_id, brief_id, source_sha256",
                (now, draft_id, user_id),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            return await self._insert_audit(
                db, now, row[0], user_id, draft_id, row[1], row[2], action
            )

    async def discard_draft(self, draft_id: int, user_id: int) -> AuditEntry | None:
        """Delete a draft under review, recording who discarded it; None if it was not."""
        now = _stamp(self._clock.now())
        async with self._lock, self._transaction() as db:
            async with db.execute(
                "DELETE FROM drafts WHERE id = ? AND state = 'draft' AND expires_at > ? "
                "RETURNING guild_id, brief_id, source_sha256",
                (draft_id, now),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            return await self._insert_audit(
                db, now, row[0], user_id, draft_id, row[1], row[2], AuditAction.DISCARDED
            )

    async def expire_drafts(self) -> int:
        """Delete every draft past its expiry; unpublished ones are recorded as expired."""
        now = _stamp(self._clock.now())
        async with self._lock, self._transaction() as db:
            async with db.execute(
                "DELETE FROM drafts WHERE expires_at <= ? "
                "RETURNING id, guild_id, requester_id, brief_id, source_sha256, state",
                (now,),
            ) as cursor:
                rows = list(await cursor.fetchall())
            for row in rows:
                if row["state"] in ("draft", "publishing"):
                    await self._insert_audit(
                        db,
                        now,
                        row["guild_id"],
                        row["requester_id"],
                        row["id"],
                        row["brief_id"],
                        row["source_sha256"],
                        AuditAction.EXPIRED,
                    )
        return len(rows)

    # ------------------------------------------------------------------ audit

    async def _insert_audit(
        self,
        db: aiosqlite.Connection,
        at: str,
        guild_id: int | None,
        user_id: int,
        draft_id: int | None,
        brief_id: str,
        sha256: str | None,
        action: AuditAction,
    ) -> AuditEntry:
        async with db.execute(
            f"INSERT INTO audit (at, guild_id, user_id, draft_id, brief_id, source_sha256, action) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_AUDIT_COLUMNS}",
            (at, guild_id, user_id, draft_id, brief_id, sha256, action.value),
        ) as cursor:
            row = await cursor.fetchone()
        return _audit(row)

    async def audit_of_draft(self, draft_id: int) -> list[AuditEntry]:
        """What happened to one draft, oldest first."""
        async with self._lock:
            rows = await self._fetchall(
                f"SELECT {_AUDIT_COLUMNS} FROM audit WHERE draft_id = ? ORDER BY at, id",
                (draft_id,),
            )
        return [_audit(r) for r in rows]

    async def audit_history(self, brief_id: str | None = None, limit: int = 50) -> list[AuditEntry]:
        """The audit trail of one brief, or of every brief, newest first."""
        where, params = ("WHERE brief_id = ?", (brief_id,)) if brief_id else ("", ())
        async with self._lock:
            rows = await self._fetchall(
                f"SELECT {_AUDIT_COLUMNS} FROM audit {where} ORDER BY at DESC, id DESC LIMIT ?",
                (*params, limit),
            )
        return [_audit(r) for r in rows]

    async def last_publication(self, brief_id: str) -> AuditEntry | None:
        """Who published the live version of a brief, and when (None: not from Discord)."""
        async with self._lock:
            row = await self._fetchone(
                f"SELECT {_AUDIT_COLUMNS} FROM audit WHERE brief_id = ? "
                "AND action IN ('published', 'replaced') ORDER BY at DESC, id DESC LIMIT 1",
                (brief_id,),
            )
        return _audit(row) if row else None

    # ------------------------------------------------------------------ db copy

    async def table_names(self) -> list[str]:
        """The data tables, parents first (runtime tables such as send_pacing left out)."""
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
        """Every row of a table as stored (both backends store the same values)."""
        names = ", ".join(f'"{_known(c)}"' for c in columns)
        async with self._lock:
            rows = await self._fetchall(f'SELECT {names} FROM "{_known(table)}"')
        return [tuple(row) for row in rows]

    async def write_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
    ) -> None:
        """Insert rows read from the other backend, in one transaction."""
        names = ", ".join(f'"{_known(c)}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        async with self._lock, self._transaction() as db:
            await db.executemany(
                f'INSERT INTO "{_known(table)}" ({names}) VALUES ({marks})', list(rows)
            )

    async def clear_tables(self, tables: Sequence[str]) -> None:
        """Delete every row of these tables (children first), in one transaction."""
        async with self._lock, self._transaction() as db:
            for table in reversed(schema.ordered_tables(set(tables))):
                await db.execute(f'DELETE FROM "{_known(table)}"')


SqliteStore = Store


def _known(name: str) -> str:
    # Table and column names come from the database's own catalogue, never from a user.
    if not name.replace("_", "").isalnum():
        raise StoreError(f"not a table or column name: {name!r}")
    return name


async def read_schema_version(path: str | Path) -> int:
    """The schema version of the database at `path`, read only: nothing is created or migrated."""
    resolved = await asyncio.to_thread(Path(path).resolve)
    uri = f"{resolved.as_uri()}?mode=ro"
    async with aiosqlite.connect(uri, uri=True) as db, db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0
