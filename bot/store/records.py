"""What the store keeps, as plain records: subscriptions, digest slots and their claims, history.

Nothing here touches a database; `bot.store.sqlite` reads and writes these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntFlag, StrEnum

from bot.clock import Zone


class StoreError(Exception):
    """The database cannot be used as it is."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer briefbot than this one."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now (a server down or a connection lost)."""


class StoreDamagedError(StoreError):
    """The database, or a row in it, is damaged: what was read cannot be trusted."""


@dataclass(frozen=True, slots=True)
class ClaimOwner:
    """Who holds a slot claim: a process, by host, pid and a start token unique to it."""

    host: str
    pid: int
    # "<process start time in clock ticks>.<random hex>": the start time tells a reused pid (or
    # a restart that got the same pid) from the process that made the claim.
    token: str


class SlotState(StrEnum):
    """Where one channel's digest for one local date stands."""

    CLAIMED = "claimed"  # about to be sent, or interrupted while sending: retry, same nonce
    SENT = "sent"
    SKIPPED = "skipped"  # not posted; `reason` says why


class Weekdays(IntFlag):
    """The days of the week a digest posts on (bit 0 Monday, as `date.weekday()` counts)."""

    MON = 1
    TUE = 2
    WED = 4
    THU = 8
    FRI = 16
    SAT = 32
    SUN = 64
    WEEKDAYS = MON | TUE | WED | THU | FRI
    EVERY_DAY = WEEKDAYS | SAT | SUN

    def has(self, day: dt.date) -> bool:
        """Whether the schedule posts on `day`."""
        return bool(self & (1 << day.weekday()))


class ChannelKind(StrEnum):
    """Where a digest goes; each kind has its permission set in `bot.limits`."""

    TEXT = "text"
    THREAD = "thread"
    FORUM = "forum"  # each digest is a new post
    ANNOUNCEMENT = "announcement"  # crossposted when `publish` is set


class PauseKind(StrEnum):
    """Who paused a subscription."""

    MEMBER = "member"  # /digest pause: resumes with /digest resume, or on its own `until` date
    BOT = "bot"  # the channel refused a digest (403, 404, archived thread …): fix, then resume


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel's digest subscription."""

    channel_id: int
    guild_id: int
    local_time: dt.time  # the first of `times`
    timezone: Zone
    topics: tuple[str, ...]  # topic ids; empty means every topic
    created_by: int
    updated_by: int  # the member who last subscribed it: the one told when it pauses
    created_at: dt.datetime
    # When the schedule was last set (subscribe, resubscribe, resume): slots due before it
    # are not owed.
    updated_at: dt.datetime
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_at: dt.datetime | None = None
    times: tuple[dt.time, ...] = ()  # up to three times a day, ascending; () reads as local_time
    days: Weekdays = Weekdays.EVERY_DAY
    pause_kind: PauseKind | None = None
    paused_until: dt.date | None = None  # a member pause ends on this local date
    paused_by: int | None = None
    notice_at: dt.datetime | None = None  # the pause's notice was claimed then
    notice_dm: bool = True  # no notices channel: DM `updated_by` when the bot pauses it
    quiet: bool = True  # nothing new: skip (False: post "nothing new since …")
    mention_role_id: int | None = None
    publish: bool = False  # announcement channels: crosspost each digest
    kind: ChannelKind = ChannelKind.TEXT

    @property
    def slot_times(self) -> tuple[dt.time, ...]:
        """The times of day the digest posts, ascending."""
        return self.times or (self.local_time,)


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
    """The right to send one channel's digest for one slot (local date, time)."""

    channel_id: int
    local_date: dt.date
    nonce: str
    brief_ids: tuple[str, ...]  # what the message was planned to show
    attempts: int
    claimed_at: dt.datetime
    slot_time: dt.time = dt.time(0)
    title: str | None = None  # a forum post's title, to find it again before a resend
    seen_until: dt.datetime | None = None
    owner: ClaimOwner | None = None  # None: released (or claimed before schema version 6)
    lease_until: dt.datetime | None = None  # past or None: anyone may resume it

    @property
    def resumed(self) -> bool:
        """Whether an earlier attempt claimed this slot and did not finish."""
        return self.attempts > 1


@dataclass(frozen=True, slots=True)
class Slot:
    """One channel's digest for one slot (local date, time), as recorded."""

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
    slot_time: dt.time = dt.time(0)
    due_at: dt.datetime | None = None
    seen_until: dt.datetime | None = None
    title: str | None = None
    post_id: int | None = None  # the channel or forum post the message is in
    last_error: str | None = None  # a failure the slot was retried after


# ---------------------------------------------------------------------------- review


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """A guild's own settings; None means "use the default from the environment"."""

    guild_id: int
    editor_role_id: int | None = None
    review_channel_id: int | None = None
    notices_channel_id: int | None = None
    updated_at: dt.datetime | None = None


class DraftState(StrEnum):
    """Where a stored draft stands."""

    DRAFT = "draft"  # being reviewed
    PUBLISHING = "publishing"  # one editor's publish is writing the files
    PUBLISHED = "published"
    DISCARDED = "discarded"


class DraftOrigin(StrEnum):
    """How the article reached the bot."""

    UPLOAD = "upload"
    PASTE = "paste"
    FEED = "feed"


@dataclass(frozen=True, slots=True)
class Uncertain:
    """An attribution the drafter was not sure of: which quote, and why."""

    quote: int  # index into the draft's quotes
    reason: str


@dataclass(frozen=True, slots=True)
class NewDraft:
    """What a draft is made of when it is stored."""

    guild_id: int
    requester_id: int
    brief_id: str
    brief_yaml: str
    source_text: str
    origin: DraftOrigin
    origin_name: str | None = None
    notes: tuple[Uncertain, ...] = ()


@dataclass(frozen=True, slots=True)
class Draft:
    """A stored draft brief and its source text."""

    id: int
    guild_id: int
    requester_id: int
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime
    brief_id: str
    brief_yaml: str
    notes: tuple[Uncertain, ...]
    source_text: str
    source_sha256: str
    origin: DraftOrigin
    origin_name: str | None
    state: DraftState
    state_by: int | None
    state_at: dt.datetime | None
    previews: tuple[tuple[int, int], ...]  # (channel id, message id) of each preview posted


class AuditAction(StrEnum):
    """What happened to a draft."""

    PUBLISHED = "published"
    REPLACED = "replaced"  # published over an existing brief with the same id
    DISCARDED = "discarded"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit trail."""

    id: int
    at: dt.datetime
    guild_id: int | None
    user_id: int
    draft_id: int | None
    brief_id: str
    source_sha256: str | None
    action: AuditAction
