"""The daily digest scheduler: one background task that posts each channel's digest once a day.

Exactly once, across crashes and restarts:

1. For a due slot (channel, local date) the digest is built, then the slot is *claimed* in
   the database before anything is sent.
2. The message is sent with a nonce derived from channel and local date (`digest_nonce`), so
   a resend of the same slot is recognisably the same message: the Discord poster sends it
   with `enforce_nonce`, and Discord answers a repeat within a few minutes with the message it
   already created instead of posting a second one.
3. The slot is completed (sent, briefs marked delivered and, for a channel's first digest, its
   archive cutoff recorded) in one transaction.

A claim left open by a crash is found on the next pass and retried with its stored nonce and
the briefs it planned to show. A slot missed while the bot was down is posted late only within
the grace window; after that it is skipped and logged. Channels that are gone or forbid the
bot are disabled (kept, with the reason); any other failure is logged and retried with a
bounded backoff, and never stops the other channels or the loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import limits
from bot.briefs.models import Brief
from bot.clock import Clock, require_aware
from bot.digest.content import DEFAULT_CAP, Digest, build_digest
from bot.digest.due import Due, latest_due, next_due, slot_at
from bot.reply import Reply
from bot.store import Store
from bot.store.records import ArchiveCutoff, History, SlotState, StoreError, Subscription

log = logging.getLogger(__name__)

DEFAULT_GRACE = dt.timedelta(hours=3)
# With nothing scheduled the loop still wakes daily: a cheap safety net should a change ever
# be missed.
IDLE_WAKE = dt.timedelta(days=1)
MIN_WAKE = dt.timedelta(seconds=1)
RETRY_FIRST = dt.timedelta(minutes=1)
RETRY_MAX = dt.timedelta(minutes=15)
# With several processes, how often one looks again at claims other processes hold: a claim
# whose process died is resumed soon after its lease ends (or at once, from the same host).
CLAIM_POLL = dt.timedelta(seconds=5)
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


class DeliveryError(Exception):
    """A digest cannot be delivered to the channel, and retrying will not help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeliveryGone(DeliveryError):
    """The channel no longer exists (Discord 404 Unknown Channel)."""


class DeliveryForbidden(DeliveryError):
    """The bot may not see or post in the channel (Discord 403 Missing Access/Permissions)."""


class Poster(Protocol):
    """Sends a digest to a channel; the Discord adapter implements it."""

    async def post(self, channel_id: int, reply: Reply, nonce: str) -> int:
        """Post `reply` with `nonce` and enforce_nonce; the id of the message."""
        # Raise DeliveryGone / DeliveryForbidden when the channel cannot take it; any other
        # exception counts as a temporary failure and is retried with the same nonce.
        ...


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _BASE36[rest] + digits
        if not number:
            return digits


def digest_nonce(channel_id: int, local_date: dt.date) -> str:
    """The nonce of one channel's digest for one date: "d" + base36(channel id) + "-" + yyyymmdd."""
    # At most 23 characters for any 64-bit snowflake (Discord allows 25), the same on every
    # retry and restart, and readable: channel 1234567890123456789 on 2026-03-08 is
    # "d9do1sj396nf9-20260308".
    if channel_id < 0:
        raise ValueError(f"channel id must not be negative, got {channel_id}")
    nonce = f"d{_base36(channel_id)}-{local_date:%Y%m%d}"
    assert len(nonce) <= limits.NONCE, nonce
    return nonce


class Action(StrEnum):
    """What a pass did with one slot."""

    SENT = "sent"
    SKIPPED = "skipped"  # nothing new, missed beyond the grace window, or given up
    DISABLED = "disabled"  # the channel is gone or forbids the bot
    FAILED = "failed"  # will be retried


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one channel's digest in one pass."""

    channel_id: int
    local_date: dt.date
    action: Action
    detail: str = ""
    message_id: int | None = None


@dataclass(slots=True)
class _Failure:
    count: int
    retry_at: dt.datetime
    error: str


def _describe(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


class DigestScheduler:
    """Posts every enabled subscription's digest at its local time, once per local date."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        briefs_provider: Callable[[], Sequence[Brief]],
        poster: Poster,
        grace: dt.timedelta = DEFAULT_GRACE,
        *,
        cap: int = DEFAULT_CAP,
        concurrency: int = 8,
        topic_labels: Callable[[], Mapping[str, str]] | None = None,
        renew_every: dt.timedelta | None = None,
    ) -> None:
        """`renew_every`: how often this process renews the leases of its open claims (a
        third of the lease; None: never, as one process on SQLite needs)."""
        self._store = store
        self._renew_every = renew_every
        self._renewer: asyncio.Task[None] | None = None
        self._clock = clock
        self._briefs = briefs_provider
        self._poster = poster
        self.grace = grace
        self.cap = cap
        self._topic_labels = topic_labels
        # Bounded so one pass at a popular time does not open hundreds of requests at once.
        self._sending = asyncio.Semaphore(concurrency)
        self._failures: dict[tuple[int, dt.date], _Failure] = {}
        self._pass_lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        """Whether the background task is alive."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the background task (no-op when running)."""
        if self.running:
            return
        self._task = asyncio.create_task(self._loop(), name="digest-scheduler")
        self._task.add_done_callback(self._finished)
        if self._renew_every is not None and self._renewer is None:
            self._renewer = asyncio.create_task(self._renew(), name="digest-claim-renewer")

    async def stop(self) -> None:
        """Stop the background tasks, and hand this process's open claims to the others."""
        task, self._task = self._task, None
        renewer, self._renewer = self._renewer, None
        for waited in (task, renewer):
            if waited is None:
                continue
            waited.cancel()
            try:
                await waited
            except asyncio.CancelledError:
                current = asyncio.current_task()
                # Our own cancellation must propagate; the task's is the expected end.
                if current is not None and current.cancelling():
                    raise
        if task is not None and self._renew_every is not None:
            # A claim whose send was cut short may have reached Discord: whoever resumes it
            # uses the same nonce, so Discord drops a repeat.
            try:
                released = await self._store.release_claims()
            except StoreError as exc:
                log.warning("could not release open digest claims: %s", exc)
            else:
                if released:
                    log.info("released %d open digest claims to the other processes", released)

    async def _renew(self) -> None:
        """Keep this process's claims alive while it sends them."""
        assert self._renew_every is not None
        while True:
            await asyncio.sleep(self._renew_every.total_seconds())
            try:
                await self._store.renew_claims()
            except StoreError as exc:
                log.warning("could not renew digest claims: %s", exc)

    def poke(self) -> None:
        """Subscriptions changed: recompute the next wake-up now."""
        self._changed.set()

    @staticmethod
    def _finished(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("digest scheduler stopped", exc_info=task.exception())

    async def _loop(self) -> None:
        log.info("digest scheduler started (grace %s)", _describe(self.grace))
        while True:
            # Cleared before the pass: a poke during the pass makes the next wait return.
            self._changed.clear()
            now = self._clock.now()
            try:
                await self.run_due(now)
                wake = await self._wake_time(self._clock.now())
            except Exception:
                log.exception("digest scheduler pass failed; trying again in %s", RETRY_FIRST)
                wake = self._clock.now() + RETRY_FIRST
            await self._wait(wake)

    async def _wait(self, wake: dt.datetime) -> None:
        """Sleep until `wake`, or until `poke()`."""
        sleeper = asyncio.ensure_future(self._clock.sleep_until(wake))
        poked = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait((sleeper, poked), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (sleeper, poked):
                waiter.cancel()
            await asyncio.gather(sleeper, poked, return_exceptions=True)

    # ------------------------------------------------------------------ one pass

    async def run_due(self, now: dt.datetime | None = None) -> list[Outcome]:
        """Handle every slot due at `now` (default: the clock's); what was done."""
        now = require_aware(now or self._clock.now(), "run_due")
        async with self._pass_lock:
            subscriptions = await self._store.list_enabled()
            claims = await self._store.open_claims()
            open_days: dict[int, set[dt.date]] = {}
            for claim in claims:
                open_days.setdefault(claim.channel_id, set()).add(claim.local_date)
            slots = [
                (sub, tz, day)
                for sub in subscriptions
                if (tz := self._zone(sub)) is not None
                for day in sorted(
                    {latest_due(sub.local_time, tz, now).day, *open_days.get(sub.channel_id, ())}
                )
            ]
            # Forget failures of slots no longer in play (unsubscribed, disabled, superseded):
            # their retry times would otherwise wake the loop for nothing.
            live = {(sub.channel_id, day) for sub, _, day in slots}
            self._failures = {k: f for k, f in self._failures.items() if k in live}
            results = await asyncio.gather(*(self._guarded(*slot, now) for slot in slots))
        return [outcome for outcome in results if outcome is not None]

    @staticmethod
    def _zone(sub: Subscription) -> ZoneInfo | None:
        zone = sub.timezone.rules
        if zone is None:
            log.error(
                "channel %d: unknown timezone %r; not scheduled", sub.channel_id, sub.timezone.key
            )
        return zone

    async def _guarded(
        self, sub: Subscription, tz: ZoneInfo, day: dt.date, now: dt.datetime
    ) -> Outcome | None:
        """Handle one slot; a failure here is logged and retried, and harms no other channel."""
        key = (sub.channel_id, day)
        failure = self._failures.get(key)
        if failure is not None and failure.retry_at > now:
            return None
        try:
            async with self._sending:
                outcome = await self._handle(sub, tz, day, now)
        except Exception as exc:
            count = failure.count + 1 if failure else 1
            delay = min(RETRY_FIRST * 2 ** (count - 1), RETRY_MAX)
            error = f"{type(exc).__name__}: {exc}"
            self._failures[key] = _Failure(count, now + delay, error)
            log.exception(
                "channel %d: digest for %s failed (attempt %d); retrying in %s",
                sub.channel_id,
                day,
                count,
                _describe(delay),
            )
            return Outcome(sub.channel_id, day, Action.FAILED, error)
        self._failures.pop(key, None)
        return outcome

    async def _handle(
        self, sub: Subscription, tz: ZoneInfo, day: dt.date, now: dt.datetime
    ) -> Outcome | None:
        channel = sub.channel_id
        due_at = slot_at(day, sub.local_time, tz)
        if due_at is None or due_at > now:
            return None  # not due yet (an open claim whose schedule moved later), or no such day
        slot = await self._store.get_slot(channel, day)
        if slot is not None and slot.state is not SlotState.CLAIMED:
            return None  # done
        if slot is None and due_at < sub.updated_at:
            return None  # due before the schedule was set: not owed
        late = now - due_at
        if late > self.grace:
            failure = self._failures.get((channel, day))
            why = f"; last error: {failure.error}" if failure else ""
            reason = (
                f"missed: due {_describe(late)} ago, beyond the {_describe(self.grace)} "
                f"grace window{why}"
            )
            if await self._store.skip_slot(channel, day, reason):
                log.warning("channel %d: digest for %s skipped: %s", channel, day, reason)
            return Outcome(channel, day, Action.SKIPPED, reason)
        return await self._deliver(sub, day)

    async def _deliver(self, sub: Subscription, day: dt.date) -> Outcome | None:
        channel = sub.channel_id
        briefs = self._briefs()
        history = await self._store.history(channel)
        digest = self._build(briefs, history, sub, day)
        claim = await self._store.claim_slot(
            channel, day, digest_nonce(channel, day), digest.shown_ids if digest else ()
        )
        if claim is None:
            return None  # sent or skipped meanwhile, or unsubscribed
        if claim.resumed:
            log.info(
                "channel %d: resuming interrupted digest for %s (attempt %d, nonce %s)",
                channel,
                day,
                claim.attempts,
                claim.nonce,
            )
            if claim.brief_ids:
                # Show what the interrupted attempt planned: if it did reach Discord, the
                # resend is deduplicated by nonce and must not record other briefs as sent.
                digest = self._build(briefs, history, sub, day, pinned=claim.brief_ids) or digest
        if digest is None:
            await self._store.skip_slot(channel, day, "nothing new")
            log.info("channel %d: nothing new for %s; not posted", channel, day)
            return Outcome(channel, day, Action.SKIPPED, "nothing new")
        try:
            message_id = await self._poster.post(channel, digest.reply, claim.nonce)
        except DeliveryGone as exc:
            return await self._disable(channel, day, f"channel gone: {exc.reason}")
        except DeliveryForbidden as exc:
            return await self._disable(channel, day, f"no permission: {exc.reason}")
        cutoff = ArchiveCutoff(*digest.cutoff) if digest.cutoff else None
        if not await self._store.complete_slot(channel, day, message_id, digest.shown_ids, cutoff):
            log.info("channel %d: unsubscribed while its digest was sent", channel)
        log.info(
            "channel %d: digest for %s posted (message %d, %d briefs)",
            channel,
            day,
            message_id,
            len(digest.shown_ids),
        )
        return Outcome(channel, day, Action.SENT, message_id=message_id)

    async def _disable(self, channel: int, day: dt.date, reason: str) -> Outcome:
        await self._store.disable(channel, reason)
        log.warning("channel %d: digest subscription disabled: %s", channel, reason)
        return Outcome(channel, day, Action.DISABLED, reason)

    def _build(
        self,
        briefs: Sequence[Brief],
        history: History,
        sub: Subscription,
        day: dt.date,
        *,
        pinned: Sequence[str] | None = None,
    ) -> Digest | None:
        labels = self._topic_labels() if self._topic_labels else None
        cutoff = history.cutoff
        return build_digest(
            briefs,
            history.sent_ids,
            sub.topics,
            self.cap,
            cutoff=(cutoff.date, cutoff.brief_id) if cutoff else None,
            day=day,
            pinned=pinned,
            topic_labels=labels,
        )

    # ------------------------------------------------------------------ when next

    async def _next_slot(self, sub: Subscription, tz: ZoneInfo, after: dt.datetime) -> Due:
        """The first slot due after `after` that is not already done."""
        due = next_due(sub.local_time, tz, after)
        # A slot can be done ahead of its time only when the schedule moved later the same
        # day (08:00 sent, then changed to 12:00); a few steps cover any such case.
        for _ in range(3):
            slot = await self._store.get_slot(sub.channel_id, due.day)
            if slot is None or slot.state is SlotState.CLAIMED:
                break
            due = next_due(sub.local_time, tz, due.at)
        return due

    async def _wake_time(self, now: dt.datetime) -> dt.datetime:
        wake = now + IDLE_WAKE
        for sub in await self._store.list_enabled():
            tz = self._zone(sub)
            if tz is not None:
                wake = min(wake, (await self._next_slot(sub, tz, now)).at)
        for failure in self._failures.values():
            wake = min(wake, failure.retry_at)
        if self._renew_every is not None and await self._store.open_claims():
            # Another process is sending (or died sending): look again soon.
            wake = min(wake, now + min(self._renew_every, CLAIM_POLL))
        # Never wake for a time already past: whatever was due has been handled by the pass
        # just run, so this floor only guards against a spin should that ever be untrue.
        return max(wake, now + MIN_WAKE)

    async def next_run(self, channel_id: int) -> dt.datetime | None:
        """When the channel's next digest is due (a pending retry counts); None if not served."""
        sub = await self._store.get(channel_id)
        tz = self._zone(sub) if sub is not None and sub.enabled else None
        if sub is None or tz is None:
            return None
        now = self._clock.now()
        retries = [f.retry_at for (ch, _), f in self._failures.items() if ch == channel_id]
        due = (await self._next_slot(sub, tz, now)).at
        return min([*retries, due])

    async def preview(self, channel_id: int) -> Reply | None:
        """The channel's next digest as it would look now (private); None if not subscribed."""
        sub = await self._store.get(channel_id)
        if sub is None:
            return None
        tz = sub.timezone.rules or ZoneInfo("UTC")
        day = (await self._next_slot(sub, tz, self._clock.now())).day
        # Builds without recording: a preview of a first digest sets no cutoff.
        history = await self._store.history(channel_id)
        digest = self._build(self._briefs(), history, sub, day)
        note = (
            f"Paused: {sub.disabled_reason or 'disabled'}. Subscribe again to resume."
            if not sub.enabled
            else None
        )
        if digest is None:
            return Reply(
                title=f"Preview — daily digest for {day.isoformat()}",
                description=" ".join(
                    x
                    for x in (
                        note,
                        "Nothing new since the last digest. If no new briefs arrive by then, "
                        "the digest is skipped: an empty digest is never posted.",
                    )
                    if x
                ),
                private=True,
            )
        reply = digest.reply
        description = " ".join(x for x in (note, reply.description) if x)
        return Reply(
            title=f"Preview — {reply.title}",
            status=reply.status,
            description=description or None,
            sections=reply.sections,
            footer=reply.footer,
            url=reply.url,
            private=True,
        )
