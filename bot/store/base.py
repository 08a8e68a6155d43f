"""The store interface: what the features call, implemented by SQLite and PostgreSQL alike.

Derived from what the digest (scheduler, service, cog), the app's readiness check and the
`db` commands use; a feature types against `Store` and never against a backend. A new
feature's store methods are added here and to both backends (and to the shared tests in
tests/store/, which run every test on both).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Protocol, Self

from bot.clock import Zone
from bot.store.records import ArchiveCutoff, History, Slot, SlotClaim, Subscription


class Store(Protocol):
    """Subscriptions, digest slots and their claims, what each channel was sent."""

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql`."""
        ...

    @property
    def where(self) -> str:
        """Where the data lives, for messages (a path, or host/database; never a password)."""
        ...

    async def close(self) -> None:
        """Close the store; safe to call twice."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def schema_version(self) -> int:
        """The schema version of the open database (also a connectivity check)."""
        ...

    # subscriptions
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
        """Subscribe a channel, or update its schedule and re-enable it."""
        ...

    async def remove(self, channel_id: int) -> bool:
        """Unsubscribe a channel with its slots and history."""
        ...

    async def get(self, channel_id: int) -> Subscription | None:
        """The channel's subscription, enabled or not."""
        ...

    async def list_guild(self, guild_id: int) -> list[Subscription]:
        """Every subscription in a guild, by channel id."""
        ...

    async def list_enabled(self) -> list[Subscription]:
        """Every enabled subscription, by channel id."""
        ...

    async def disable(self, channel_id: int, reason: str) -> bool:
        """Pause a channel's subscription; its open claims are skipped with the reason."""
        ...

    # what was sent
    async def history(self, channel_id: int) -> History:
        """The channel's archive cutoff and the ids of the briefs sent to it."""
        ...

    async def mark_sent(self, channel_id: int, brief_ids: Iterable[str]) -> None:
        """Record briefs as delivered to a subscribed channel."""

    # slots and claims
    async def claim_slot(
        self, channel_id: int, local_date: dt.date, nonce: str, brief_ids: Sequence[str] = ()
    ) -> SlotClaim | None:
        """Claim a slot before sending; a resumable claim if one is left; None otherwise."""
        ...

    async def complete_slot(
        self,
        channel_id: int,
        local_date: dt.date,
        message_id: int,
        brief_ids: Iterable[str],
        cutoff: ArchiveCutoff | None = None,
    ) -> bool:
        """Mark a claimed slot sent and its briefs delivered, in one transaction."""
        ...

    async def skip_slot(self, channel_id: int, local_date: dt.date, reason: str) -> bool:
        """Record a slot as not posted, with why."""
        ...

    async def get_slot(self, channel_id: int, local_date: dt.date) -> Slot | None:
        """The record of one channel's digest for one local date."""
        ...

    async def open_claims(self) -> list[SlotClaim]:
        """Claims not yet sent or skipped, oldest first."""
        ...

    async def last_sent(self, channel_id: int) -> Slot | None:
        """The channel's most recently sent digest."""
        ...

    async def last_skipped(self, channel_id: int) -> Slot | None:
        """The channel's most recently skipped digest."""
        ...

    # several processes
    async def renew_claims(self) -> int:
        """Extend the lease of this process's open claims; how many."""
        ...

    async def release_claims(self) -> int:
        """Let other processes resume this process's open claims at once (graceful stop)."""
        ...

    async def reserve_send(self, per_second: float) -> float:
        """Take the next turn of the send budget shared by every process; seconds to wait."""
        ...

    # db commands
    async def table_names(self) -> list[str]:
        """The tables of the schema (without bookkeeping ones)."""
        ...

    async def table_columns(self, table: str) -> list[str]:
        """The columns of a table, in order."""
        ...

    async def count_rows(self, table: str) -> int:
        """How many rows a table holds."""
        ...

    async def read_rows(self, table: str, columns: Sequence[str]) -> list[tuple[object, ...]]:
        """Every row of a table, values in portable Python types (int, str, date, aware
        datetime, bool, None)."""
        ...

    async def write_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
    ) -> None:
        """Insert rows (portable values, as read_rows gives them) into an empty table."""

    async def clear_tables(self, tables: Sequence[str]) -> None:
        """Delete every row of these tables (children first), in one transaction."""
