"""The store interface: every method the features call, on SQLite and PostgreSQL alike.

`bot.store.sqlite.Store` (SQLite) defines the behaviour and `bot.store.postgres.PostgresStore`
runs the same statements on PostgreSQL; a feature types against this Protocol (or the SQLite
class, which both are). tests/store/test_interface.py checks that it lists every public method
of the SQLite store with the same signature, so a new store method is added here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Protocol, Self

from bot.clock import Zone
from bot.store.feeds import EntryKeys, Feed, KnownKeys
from bot.store.records import (
    ArchiveCutoff,
    AuditAction,
    AuditEntry,
    ChannelKind,
    ClaimOwner,
    Draft,
    GuildSettings,
    History,
    NewDraft,
    Slot,
    SlotClaim,
    Subscription,
    Uncertain,
    Weekdays,
)


class Store(Protocol):
    """Subscriptions, digest slots and their claims, sent history, feeds, drafts, audit."""

    backend: str
    owner: ClaimOwner
    lease: dt.timedelta

    @property
    def where(self) -> str:
        """Where the data lives, for messages (a path, or host/database; never a password)."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def close(self) -> None:
        """Close the database; safe to call twice."""
        ...

    async def schema_version(self) -> int:
        """The schema version of the open database."""
        ...

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
        ...

    async def pause(
        self, channel_id: int, by: int, until: dt.date | None = None
    ) -> Subscription | None:
        """A member pauses a channel's digest (until a local date, or until resumed)."""
        ...

    async def resume(self, channel_id: int) -> Subscription | None:
        """Serve a paused channel again with every setting it had."""
        ...

    async def claim_notice(self, channel_id: int) -> bool:
        """Take the right to tell someone about the channel's current pause."""
        ...

    async def set_notice_dm(self, channel_id: int, on: bool) -> Subscription | None:
        """Whether the member who subscribed is sent a DM when the bot pauses the channel."""
        ...

    async def clear_mention(self, channel_id: int) -> Subscription | None:
        """The digest stops mentioning a role; every other setting is kept."""
        ...

    async def list_all(self) -> list[Subscription]:
        """Every subscription, enabled or paused, by channel id."""
        ...

    async def set_notices_channel(self, guild_id: int, channel_id: int | None) -> GuildSettings:
        """Where the bot tells a server's staff that it paused a digest (None: DMs)."""
        ...

    async def record_seen(self, brief_ids: Iterable[str]) -> None:
        """Note the briefs the bot sees now for the first time."""
        ...

    async def seen_after(self, since: dt.datetime) -> frozenset[str]:
        """The briefs first seen after `since`."""
        ...

    async def remove(self, channel_id: int) -> bool:
        """Unsubscribe a channel."""
        ...

    async def get(self, channel_id: int) -> Subscription | None:
        """The channel's subscription, enabled or not."""
        ...

    async def list_guild(self, guild_id: int) -> list[Subscription]:
        """Every subscription in a guild, enabled or not, by channel id."""
        ...

    async def list_enabled(self) -> list[Subscription]:
        """Every enabled subscription, by channel id."""
        ...

    async def disable(self, channel_id: int, reason: str) -> bool:
        """The bot pauses a channel it cannot deliver to (with why)."""
        ...

    async def history(self, channel_id: int) -> History:
        """The channel's archive cutoff (None before its first digest) and the briefs sent to it."""
        ...

    async def mark_sent(self, channel_id: int, brief_ids: Iterable[str]) -> None:
        """Record briefs as delivered to a subscribed channel."""
        ...

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
        """Claim a slot for this process before sending; None if it is not ours to send."""
        ...

    async def renew_claims(self) -> int:
        """Extend the lease of every open claim this process holds; how many."""
        ...

    async def begin_send(
        self, channel_id: int, local_date: dt.date, *, slot_time: dt.time = dt.time(0)
    ) -> bool:
        """Mark a claim as being sent (renewing its lease); False if this process lost it."""
        ...

    async def release_claims(self) -> int:
        """Give up the open claims this process has not begun to send (a graceful stop)."""
        ...

    async def reserve_send(self, interval: float, now: float) -> float:
        """Reserve the next send turn shared by every process on this file; its Unix time."""
        ...

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
        """Mark a claimed slot sent and `brief_ids` delivered, in one transaction."""
        ...

    async def skip_slot(
        self,
        channel_id: int,
        local_date: dt.date,
        reason: str,
        *,
        slot_time: dt.time = dt.time(0),
        due_at: dt.datetime | None = None,
    ) -> bool:
        """Record a slot as not posted (with why)."""
        ...

    async def fail_slot(
        self, channel_id: int, local_date: dt.date, error: str, *, slot_time: dt.time = dt.time(0)
    ) -> bool:
        """Note a temporary failure on an open claim (it is retried); shown in the log."""
        ...

    async def get_slot(
        self, channel_id: int, local_date: dt.date, slot_time: dt.time | None = None
    ) -> Slot | None:
        """The record of one channel's digest for one slot (no time: the date's latest slot)."""
        ...

    async def open_claims(self) -> list[SlotClaim]:
        """Claims not yet sent or skipped, oldest first."""
        ...

    async def last_sent(self, channel_id: int) -> Slot | None:
        """The channel's most recently sent digest."""
        ...

    async def last_skipped(self, channel_id: int) -> Slot | None:
        """The channel's most recently skipped digest, with its reason."""
        ...

    async def slot_log(self, channel_id: int, limit: int = 20) -> list[Slot]:
        """The channel's latest slots, newest first."""
        ...

    async def prune_slots(self, before: dt.datetime) -> int:
        """Forget finished slots older than `before` (the delivery log keeps 90 days)."""
        ...

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's settings (every field None when it has set nothing)."""
        ...

    async def save_guild_settings(self, settings: GuildSettings) -> GuildSettings:
        """Store every field of a guild's settings (None clears one back to the default)."""
        ...

    async def create_draft(self, new: NewDraft, lifetime: dt.timedelta) -> Draft:
        """Store a draft under review; it expires `lifetime` from now."""
        ...

    async def get_draft(self, draft_id: int) -> Draft | None:
        """The stored draft (in any state), or None if it was never stored or is deleted."""
        ...

    async def drafts_of(self, guild_id: int, requester_id: int) -> list[Draft]:
        """A member's drafts still under review in a guild, newest first."""
        ...

    async def update_draft(
        self, draft_id: int, brief_yaml: str, notes: Sequence[Uncertain]
    ) -> Draft | None:
        """Save an edited draft; None when it is no longer under review."""
        ...

    async def add_preview(self, draft_id: int, channel_id: int, message_id: int) -> None:
        """Remember a message that shows the draft's preview (to redraw or retire it)."""
        ...

    async def claim_publish(
        self, draft_id: int, user_id: int, stale_after: dt.timedelta
    ) -> Draft | None:
        """Take the right to publish a draft: one statement, so one editor wins a race."""
        ...

    async def release_publish(self, draft_id: int, user_id: int) -> None:
        """Give a claimed publish back (it failed): the draft is under review again."""
        ...

    async def finish_publish(
        self, draft_id: int, user_id: int, action: AuditAction = AuditAction.PUBLISHED
    ) -> AuditEntry | None:
        """Mark a claimed draft published and record it in the audit, in one transaction."""
        ...

    async def discard_draft(self, draft_id: int, user_id: int) -> AuditEntry | None:
        """Delete a draft under review, recording who discarded it; None if it was not."""
        ...

    async def expire_drafts(self) -> int:
        """Delete every draft past its expiry; unpublished ones are recorded as expired."""
        ...

    async def audit_of_draft(self, draft_id: int) -> list[AuditEntry]:
        """What happened to one draft, oldest first."""
        ...

    async def audit_history(self, brief_id: str | None = None, limit: int = 50) -> list[AuditEntry]:
        """The audit trail of one brief, or of every brief, newest first."""
        ...

    async def last_publication(self, brief_id: str) -> AuditEntry | None:
        """Who published the live version of a brief, and when (None: not from Discord)."""
        ...

    async def table_names(self) -> list[str]:
        """The data tables, parents first (runtime tables such as send_pacing left out)."""
        ...

    async def table_columns(self, table: str) -> list[str]:
        """The columns of a table, in order."""
        ...

    async def count_rows(self, table: str) -> int:
        """How many rows a table holds."""
        ...

    async def read_rows(self, table: str, columns: Sequence[str]) -> list[tuple[object, ...]]:
        """Every row of a table as stored (both backends store the same values)."""
        ...

    async def write_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
    ) -> None:
        """Insert rows read from the other backend, in one transaction."""
        ...

    async def clear_tables(self, tables: Sequence[str]) -> None:
        """Delete every row of these tables (children first), in one transaction."""
        ...

    async def add_feed(
        self,
        *,
        guild_id: int,
        url: str,
        topics: Sequence[str],
        interval: dt.timedelta,
        created_by: int,
    ) -> tuple[Feed, bool]:
        """Watch a feed (polled at once), or update one already watched and resume it."""
        ...

    async def remove_feed(self, feed_id: int) -> bool:
        """Stop watching a feed; its entries stay known, so adding it again redrafts nothing."""
        ...

    async def get_feed(self, feed_id: int) -> Feed | None:
        """One feed by id."""
        ...

    async def guild_feeds(self, guild_id: int) -> list[Feed]:
        """Every feed a guild watches, paused or not, in the order they were added."""
        ...

    async def all_feeds(self) -> list[Feed]:
        """Every feed of every guild, paused or not."""
        ...

    async def due_feeds(self, now: dt.datetime) -> list[Feed]:
        """Feeds not paused whose next poll is at or before `now`, most overdue first."""
        ...

    async def next_feed_poll(self) -> dt.datetime | None:
        """When the next feed not paused is due, or None when there is none."""
        ...

    async def feed_polled(
        self,
        feed_id: int,
        *,
        title: str | None,
        etag: str | None,
        last_modified: str | None,
        result: str,
        next_poll: dt.datetime,
    ) -> None:
        """Record a successful poll: validators for the next conditional GET, what it did."""
        ...

    async def feed_failed(
        self, feed_id: int, *, error: str, next_poll: dt.datetime, pause_after: dt.timedelta
    ) -> tuple[Feed | None, bool]:
        """Record a failed poll; a feed failing for `pause_after` is paused."""
        ...

    async def known_entries(
        self, feed_id: int | None, guild_id: int, keys: Iterable[EntryKeys]
    ) -> KnownKeys:
        """Which of `keys` were seen before."""
        ...

    async def claim_entry(
        self, feed_id: int | None, guild_id: int, keys: EntryKeys, *, title: str | None
    ) -> int | str:
        """Claim a new story before drafting it."""
        ...

    async def finish_entry(self, claim: int, *, outcome: str, draft_id: str | None) -> None:
        """Record what became of a claimed story (drafted with its draft id, or skipped: why)."""
        ...

    async def release_entry(self, claim: int) -> None:
        """Forget a claimed story that could not be drafted for now, so a later poll retries."""
        ...

    async def release_stale_entries(self, before: dt.datetime) -> int:
        """Forget stories claimed before `before` and still 'drafting'."""
        ...

    async def feed_entries(self, feed_id: int) -> list[tuple[str | None, str | None, str]]:
        """(title, draft id, outcome) of every story seen in a feed, oldest first."""
        ...

    async def feed_entry_count(self, feed_id: int) -> tuple[int, int]:
        """How many entries of a feed were seen, and how many of them were drafted."""
        ...
