"""What the store keeps, as plain records: subscriptions, digest slots and their claims, history.

Nothing here touches a database; `bot.store.sqlite` reads and writes these.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Zone


class StoreError(Exception):
    """The database cannot be used as it is."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer briefbot than this one."""


class SlotState(StrEnum):
    """Where one channel's digest for one local date stands."""

    CLAIMED = "claimed"  # about to be sent, or interrupted while sending: retry, same nonce
    SENT = "sent"
    SKIPPED = "skipped"  # not posted; `reason` says why


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel's daily digest subscription."""

    channel_id: int
    guild_id: int
    local_time: dt.time
    timezone: Zone
    topics: tuple[str, ...]  # topic ids; empty means every topic
    created_by: int
    updated_by: int
    created_at: dt.datetime
    # When the schedule was last set (subscribe, resubscribe): slots due before it are not owed.
    updated_at: dt.datetime
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ArchiveCutoff:
    """Where a channel's archive ends: the order key (date, brief id) its first digest set."""

    date: dt.date  # the brief's date; `dt.date.min` for an undated brief
    brief_id: str


@dataclass(frozen=True, slots=True)
class History:
    """What a channel has had: its archive cutoff (None before its first digest) and the ids
    of the briefs sent to it."""

    cutoff: ArchiveCutoff | None
    sent_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class SlotClaim:
    """The right to send one channel's digest for one local date."""

    channel_id: int
    local_date: dt.date
    nonce: str
    brief_ids: tuple[str, ...]  # what the message was planned to show
    attempts: int
    claimed_at: dt.datetime

    @property
    def resumed(self) -> bool:
        """Whether an earlier attempt claimed this slot and did not finish."""
        return self.attempts > 1


@dataclass(frozen=True, slots=True)
class Slot:
    """One channel's digest for one local date, as recorded."""

    channel_id: int
    local_date: dt.date
    state: SlotState
    nonce: str | None
    brief_ids: tuple[str, ...]
    message_id: int | None
    reason: str | None
    attempts: int
    claimed_at: dt.datetime | None
    finished_at: dt.datetime | None


class StoreUnavailable(StoreError):
    """The database cannot be reached right now (a server down or a connection lost)."""


@dataclass(frozen=True, slots=True)
class Owner:
    """Who holds a claim: the host, the process id and a random token of this process's start."""

    host: str
    pid: int
    token: str

    @classmethod
    def current(cls) -> Owner:
        """This process."""
        return cls(socket.gethostname(), os.getpid(), secrets.token_hex(8))
