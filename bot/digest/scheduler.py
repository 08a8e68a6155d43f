"""The digest scheduler: one background task that posts each channel's digest at its slots.

A slot is (channel, local date, time): up to three times a day, on the schedule's weekdays.
Exactly once per slot, across crashes and restarts:

1. For a due slot the digest is built, then the slot is *claimed* in the database before
   anything is sent.
2. The message is sent with a nonce derived from channel, local date and time (`digest_nonce`), so
   a resend of the same slot is recognisably the same message: the Discord poster sends it
   with `enforce_nonce`, and Discord answers a repeat within a few minutes with the message it
   already created instead of posting a second one.
3. The slot is completed (sent, briefs marked delivered and, for a channel's first digest, its
   archive cutoff recorded) in one transaction.

A claim has an owner (this process) and a lease, renewed while the pass runs; just before
sending, the claim is checked to be still ours (`Store.begin_send`). Several processes on one
database file may run this scheduler: only one wins each claim; one that finds a slot held by
another wakes when that lease runs out, and resumes the slot if it was not renewed. A claim
left open by a crash is retried with its stored nonce and the briefs it planned to show (at
once by a restart on the same host). A graceful stop releases the claims not begun. A broken
database is one log line per pass and `database_problem` for /digest status, not a traceback
per channel.

A slot missed while the bot was down is posted late only within
the grace window; after that it is skipped and logged. Channels that are gone or forbid the
bot are paused (kept, with the reason, and someone is told once: `Notifier`); any other
failure is logged, noted in the slot's log and retried with a bounded backoff, and never stops
the other channels or the loop.

After a channel's first digest, a brief is new for it when it was not sent to it and is either
ordered after its archive cutoff or first seen by the bot after its previous digest (the
first-seen time is kept in the store), whatever the story's date. A member's pause ends on its
own date; slots while paused are logged as skipped. Finished slots are kept 90 days.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import limits
from bot.briefs.library import Library
from bot.briefs.models import Brief, OrderKey
from bot.clock import Clock, format_time, require_aware
from bot.digest.content import DEFAULT_CAP, Digest, Eligible, build_digest, digest_of, nothing_new
from bot.digest.due import Due, due_at, latest_slot, next_slot, slot_at
from bot.digest.seen import IndexSeen
from bot.reply import Reply
from bot.store.records import (
    ArchiveCutoff,
    ChannelKind,
    History,
    PauseKind,
    SlotState,
    Subscription,
)
from bot.store.sqlite import DATABASE_ERRORS, Store

log = logging.getLogger(__name__)

DEFAULT_GRACE = dt.timedelta(hours=3)
# With nothing scheduled the loop still wakes daily: a cheap safety net should a change ever
# be missed.
IDLE_WAKE = dt.timedelta(days=1)
MIN_WAKE = dt.timedelta(seconds=1)
RETRY_FIRST = dt.timedelta(minutes=1)
RETRY_MAX = dt.timedelta(minutes=15)
LOG_DAYS = 90  # the delivery log (/digest log) keeps this many days of slots
PRUNE_EVERY = dt.timedelta(hours=6)
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


# How a pause's reason starts when Discord said the channel no longer exists.
CHANNEL_GONE = "channel gone"


class BriefsNotReady(Exception):
    """This process's view of the briefs cannot be trusted yet: the pass waits (no digest is
    built, nor any slot skipped as "nothing new") and runs again a minute later."""


class DeliveryError(Exception):
    """A digest cannot be delivered to the channel, and retrying will not help: pause it."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix  # what a member can do about it, for the notice


class DeliveryGone(DeliveryError):
    """The channel no longer exists (Discord 404 Unknown Channel)."""


class DeliveryForbidden(DeliveryError):
    """The bot may not see or post in the channel (Discord 403 Missing Access/Permissions)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One digest message to send, and how the channel takes it."""

    channel_id: int
    reply: Reply
    nonce: str
    guild_id: int = 0
    kind: ChannelKind = ChannelKind.TEXT
    title: str | None = None  # forum: the new post's title (posts carry no nonce)
    mention_role_id: int | None = None  # the one role the message may ping
    publish: bool = False  # announcement channel: crosspost it
    resumed: bool = False  # an earlier attempt may have reached Discord


class Poster(Protocol):
    """Sends a digest to a channel; the Discord adapter implements it."""

    async def post(self, delivery: Delivery) -> int:
        """Post the delivery (nonce and enforce_nonce where Discord has them); the message id."""
        # Raise a DeliveryError (DeliveryGone, DeliveryForbidden …) when the channel cannot take
        # it; any other exception counts as a temporary failure and is retried, same nonce.
        ...


@dataclass(frozen=True, slots=True)
class Notice:
    """Telling someone the bot paused a channel's digest: where to, and what to say."""

    guild_id: int
    channel_id: int  # the paused channel
    notices_channel_id: int | None  # the server's notices channel, if set
    dm_user_id: int | None  # else the member who subscribed (None: they turned DMs off)
    reply: Reply


class DigestEvents(Protocol):
    """Told what each post attempt did (the ops metrics implement it; tests may count)."""

    def digest_sent(self, lateness: float) -> None:
        """A digest was posted `lateness` seconds after its slot time."""

    def digest_failed(self, reason: str) -> None:
        """A post attempt failed: forbidden, missing, refused (paused), or error (retried)."""

    def digest_retried(self) -> None:
        """A slot is being posted again after an earlier attempt did not finish."""

    def digest_rate_limits(self) -> int:
        """HTTP 429 answers met while posting digests so far (the poster counts them)."""
        ...


@dataclass(frozen=True, slots=True)
class PassReport:
    """What the last pass that handled any slot did (for /about)."""

    started: dt.datetime
    finished: dt.datetime
    sent: int
    skipped: int
    failed: int
    paused: int
    rate_limited: int  # HTTP 429s met during the pass


class Notifier(Protocol):
    """Delivers notices; the Discord adapter implements it."""

    async def notify(self, notice: Notice) -> str:
        """Send the notice; how it went ("channel", "dm", "none" …), for the log."""
        # A blocked DM (50007) or a notices channel the bot cannot post in is logged and
        # ignored: a notice never pauses or notifies anything itself.
        ...


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _BASE36[rest] + digits
        if not number:
            return digits


def digest_nonce(channel_id: int, local_date: dt.date, slot_time: dt.time) -> str:
    """The nonce of one slot: "d" + base36(channel id) + "-" + yymmdd + hhmm."""
    # At most 25 characters for any 64-bit snowflake (Discord allows 25), the same on every
    # retry and restart, and readable: channel 1234567890123456789 on 2026-03-08 at 08:30 is
    # "d9do1sj396nf9-2603080830".
    if channel_id < 0:
        raise ValueError(f"channel id must not be negative, got {channel_id}")
    nonce = f"d{_base36(channel_id)}-{local_date:%y%m%d}{slot_time:%H%M}"
    assert len(nonce) <= limits.NONCE, nonce
    return nonce


def forum_title(day: dt.date, at: dt.time, briefs: int) -> str:
    """A forum post's title: the slot and how many briefs it brings."""
    count = "nothing new" if briefs == 0 else f"{briefs} brief" + ("" if briefs == 1 else "s")
    return f"Digest {day.isoformat()} {format_time(at)} · {count}"


class SharedPacer:
    """Spaces the digest sends of every process on one database file at `per_second` in all.

    Each send reserves the next turn in the store (one atomic statement) and sleeps until it:
    Discord's global budget is per bot, however many processes share the token.
    """

    # Turns are real seconds (Unix time, shared by every process), never the scheduler's
    # clock: a test's or benchmark's frozen clock would turn each sleep into the whole queue
    # ahead of it (fan-out fell from 46 to 7 messages/s that way).
    def __init__(
        self,
        store: Store,
        per_second: float,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError(f"per_second must be positive, got {per_second}")
        self.interval = 1.0 / per_second
        self._store = store
        self._now = now
        self._sleep = sleep

    async def wait(self) -> None:
        """Return at this send's turn."""
        turn = await self._store.reserve_send(self.interval, self._now())
        delay = turn - self._now()
        if delay > 0:
            await self._sleep(delay)


class Action(StrEnum):
    """What a pass did with one slot."""

    SENT = "sent"
    SKIPPED = "skipped"  # nothing new, missed beyond the grace window, paused, or given up
    DISABLED = "disabled"  # the channel is gone or refuses the bot: paused
    FAILED = "failed"  # will be retried


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one channel's digest in one pass."""

    channel_id: int
    local_date: dt.date
    action: Action
    detail: str = ""
    message_id: int | None = None
    slot_time: dt.time = dt.time(0)


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
        briefs_provider: Callable[[], Sequence[Brief] | Library],
        poster: Poster,
        grace: dt.timedelta = DEFAULT_GRACE,
        *,
        cap: int = DEFAULT_CAP,
        concurrency: int = 8,
        topic_labels: Callable[[], Mapping[str, str]] | None = None,
        notifier: Notifier | None = None,
        events: DigestEvents | None = None,
        in_step: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._store = store
        # Awaited before each pass reads the briefs: brings this process's view of them in
        # step with the files (the bot: the start's catch-up, an index another process replaced).
        self._in_step = in_step
        self._events = events
        self.last_pass: PassReport | None = None
        # Set by drain(): no new claims are taken; sends already claimed finish.
        self._stopping = False
        self._notifier = notifier
        self._clock = clock
        self._briefs = briefs_provider
        self._poster = poster
        self.grace = grace
        self.cap = cap
        self._topic_labels = topic_labels
        # Bounded so one pass at a popular time does not open hundreds of requests at once.
        self._sending = asyncio.Semaphore(concurrency)
        self._failures: dict[tuple[int, dt.date, dt.time], _Failure] = {}
        self._seen: set[str] = set()  # brief ids whose first-seen time is recorded
        self._index_seen = IndexSeen()  # the same, for a library read from the brief index
        self._pruned_at: dt.datetime | None = None
        self._pass_lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # What is wrong with the database, as of the last pass (None: it worked).
        self.database_problem: str | None = None
        self._pass_problem: str | None = None

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

    async def stop(self) -> None:
        """Stop the background task and wait for it to end."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            # Our own cancellation must propagate; the task's is the expected end.
            if current is not None and current.cancelling():
                raise

    @property
    def stopping(self) -> bool:
        """Whether a graceful stop has begun (no new claims are taken)."""
        return self._stopping

    async def drain(self, grace: float) -> bool:
        """A graceful stop: take no new claims, let sends in flight finish (at most `grace`
        seconds), then stop and release the claims not begun. True if nothing was cut short."""
        self._stopping = True
        self._changed.set()  # wake the loop if it is waiting: it ends instead of passing again
        task = self._task
        finished = True
        if task is not None and not task.done():
            # The loop returns once the pass in progress (if any) is over.
            done, _ = await asyncio.wait({task}, timeout=grace)
            finished = bool(done)
            if not finished:
                log.warning(
                    "digest sends still in flight after %g s; stopping them (their claims "
                    "are resumed, with the same nonce, on the next start)",
                    grace,
                )
        await self.stop()
        released = await self.release_unsent_claims()
        if released:
            log.info("released %d digest claims not begun", released)
        return finished

    async def release_unsent_claims(self) -> int:
        """Release the claims this process took but has not begun to send, so another
        process resumes them at once (with their nonce); how many."""
        try:
            return await self._store.release_claims()
        except DATABASE_ERRORS as exc:
            # Not fatal: the claims' leases run out and another process resumes them then.
            log.warning("could not release digest claims: %s", exc)
            return 0

    def now(self) -> dt.datetime:
        """The scheduler's clock."""
        return self._clock.now()

    def poke(self) -> None:
        """Subscriptions changed: recompute the next wake-up now."""
        self._changed.set()

    @staticmethod
    def _finished(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("digest scheduler stopped", exc_info=task.exception())

    async def _loop(self) -> None:
        log.info("digest scheduler started (grace %s)", _describe(self.grace))
        while not self._stopping:
            # Cleared before the pass: a poke during the pass makes the next wait return.
            self._changed.clear()
            now = self._clock.now()
            try:
                await self.run_due(now)
                wake = await self._wake_time(self._clock.now())
            except DATABASE_ERRORS as exc:
                self._database_failed(exc)
                wake = self._clock.now() + RETRY_FIRST
            except BriefsNotReady as exc:
                log.warning("digests wait: %s; trying again in %s", exc, _describe(RETRY_FIRST))
                wake = self._clock.now() + RETRY_FIRST
            except Exception:
                log.exception("digest scheduler pass failed; trying again in %s", RETRY_FIRST)
                wake = self._clock.now() + RETRY_FIRST
            if self._stopping:
                break
            await self._wait(wake)
        log.info("digest scheduler stopped taking new digests")

    def _database_failed(self, exc: Exception) -> None:
        """One line per pass (the traceback only at DEBUG): the database needs an operator."""
        problem = " ".join(f"{exc}".split()) or type(exc).__name__
        self.database_problem = problem
        log.error(
            "digest database %s needs attention: %s; no digests until it is fixed (run "
            "`briefbot db check`, restore a backup); trying again in %s",
            self._store.path,
            problem,
            _describe(RETRY_FIRST),
            exc_info=log.isEnabledFor(logging.DEBUG),
        )

    async def _renew_claims(self) -> None:
        """Keep this process's claims alive while a pass sends (a third of the lease apart)."""
        while True:
            await asyncio.sleep(self._store.lease.total_seconds() / 3)
            try:
                await self._store.renew_claims()
            except DATABASE_ERRORS as exc:
                log.warning("could not renew digest claims: %s", exc)

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
            await self._prune(now)
            subscriptions = await self._resume_ended_pauses(await self._store.list_all(), now)
            await self._log_paused([s for s in subscriptions if not s.enabled], now)
            if self._in_step is not None:
                # Never a digest, nor a "nothing new" skip, from a view behind the files.
                await self._in_step()
            briefs = self._briefs()
            await self._record_seen(briefs)
            pass_ = _Pass(self._briefs, self._clock.now())
            claims = await self._store.open_claims()
            open_slots: dict[int, set[tuple[dt.date, dt.time]]] = {}
            for claim in claims:
                open_slots.setdefault(claim.channel_id, set()).add(
                    (claim.local_date, claim.slot_time)
                )
            slots: list[tuple[Subscription, ZoneInfo, Due]] = []
            for sub in subscriptions:
                tz = self._zone(sub) if sub.enabled else None
                if tz is None:
                    continue
                latest = latest_slot(sub.slot_times, sub.days, tz, now)
                keys = {(latest.day, latest.time), *open_slots.get(sub.channel_id, ())}
                slots += [(sub, tz, self._due(day, at, tz)) for day, at in sorted(keys)]
            # Forget failures of slots no longer in play (unsubscribed, disabled, superseded):
            # their retry times would otherwise wake the loop for nothing.
            live = {(sub.channel_id, due.day, due.time) for sub, _, due in slots}
            self._failures = {k: f for k, f in self._failures.items() if k in live}
            limited = self._events.digest_rate_limits() if self._events else 0
            started = self._clock.now()
            self._pass_problem = None
            renewer = asyncio.create_task(self._renew_claims(), name="digest-claim-renewal")
            try:
                results = await asyncio.gather(
                    *(self._guarded(sub, tz, due, now, pass_) for sub, tz, due in slots)
                )
            finally:
                renewer.cancel()
                await asyncio.gather(renewer, return_exceptions=True)
            if self._pass_problem is not None:
                self.database_problem = self._pass_problem
                log.error(
                    "digest database %s needs attention: %s; those digests wait (run "
                    "`briefbot db check`, restore a backup)",
                    self._store.path,
                    self._pass_problem,
                )
            else:
                self.database_problem = None
        outcomes = [outcome for outcome in results if outcome is not None]
        if outcomes:
            self._report(outcomes, started, limited)
        return outcomes

    def _report(self, outcomes: list[Outcome], started: dt.datetime, limited: int) -> None:
        """Keep what this pass did, for /about."""
        actions = [o.action for o in outcomes]
        self.last_pass = PassReport(
            started=started,
            finished=self._clock.now(),
            sent=actions.count(Action.SENT),
            skipped=actions.count(Action.SKIPPED),
            failed=actions.count(Action.FAILED),
            paused=actions.count(Action.DISABLED),
            rate_limited=(self._events.digest_rate_limits() - limited) if self._events else 0,
        )

    @staticmethod
    def _due(day: dt.date, at: dt.time, tz: ZoneInfo) -> Due:
        when = slot_at(day, at, tz)
        # A date the zone skipped: never due (an open claim on it is left for the next pass).
        return Due(when or dt.datetime.max.replace(tzinfo=dt.UTC), day, at)

    async def _prune(self, now: dt.datetime) -> None:
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        pruned = await self._store.prune_slots(now - dt.timedelta(days=LOG_DAYS))
        if pruned:
            log.info("pruned %d digest slots older than %d days", pruned, LOG_DAYS)

    async def _record_seen(self, briefs: Sequence[Brief] | Library) -> None:
        if isinstance(briefs, Library):

            def current() -> Library:
                # A reload closes the library it replaces: read the live one after each await.
                now = self._briefs()
                return now if isinstance(now, Library) else briefs

            # From the index's ids: the briefs it added since the last pass, none decoded.
            await self._index_seen.record(current, self._store.record_seen)
            return
        new = [b.id for b in briefs if b.id not in self._seen]
        if new:
            await self._store.record_seen(new)
            self._seen.update(new)

    async def _resume_ended_pauses(
        self, subscriptions: list[Subscription], now: dt.datetime
    ) -> list[Subscription]:
        """A member's pause until a date ends at the start of that local date."""
        result = []
        for sub in subscriptions:
            until = sub.paused_until
            tz = sub.timezone.rules
            if (
                not sub.enabled
                and sub.pause_kind is PauseKind.MEMBER
                and until is not None
                and tz is not None
                and due_at(until, dt.time(0), tz) <= now
            ):
                resumed = await self._store.resume(sub.channel_id)
                if resumed is not None:
                    log.info("channel %d: pause until %s ended", sub.channel_id, until)
                    result.append(resumed)
                    continue
            result.append(sub)
        return result

    async def _log_paused(self, paused: list[Subscription], now: dt.datetime) -> None:
        """Record a paused channel's latest slot as skipped, with the reason, for its log."""
        for sub in paused:
            tz = sub.timezone.rules
            if tz is None or sub.disabled_at is None:
                continue
            due = latest_slot(sub.slot_times, sub.days, tz, now)
            if due.at > sub.disabled_at:
                await self._store.skip_slot(
                    sub.channel_id,
                    due.day,
                    f"paused: {sub.disabled_reason or 'paused'}",
                    slot_time=due.time,
                    due_at=due.at,
                )

    @staticmethod
    def _zone(sub: Subscription) -> ZoneInfo | None:
        zone = sub.timezone.rules
        if zone is None:
            log.error(
                "channel %d: unknown timezone %r; not scheduled", sub.channel_id, sub.timezone.key
            )
        return zone

    async def _guarded(
        self, sub: Subscription, tz: ZoneInfo, due: Due, now: dt.datetime, pass_: _Pass
    ) -> Outcome | None:
        """Handle one slot; a failure here is logged and retried, and harms no other channel."""
        key = (sub.channel_id, due.day, due.time)
        failure = self._failures.get(key)
        if failure is not None and failure.retry_at > now:
            return None
        try:
            async with self._sending:
                outcome = await self._handle(sub, due, now, pass_)
        except DATABASE_ERRORS as exc:
            # Said once for the pass (in run_due), not once per channel.
            self._pass_problem = " ".join(f"{exc}".split()) or type(exc).__name__
            log.debug("channel %d: database error", sub.channel_id, exc_info=True)
            return Outcome(
                sub.channel_id, due.day, Action.FAILED, self._pass_problem, slot_time=due.time
            )
        except Exception as exc:
            count = failure.count + 1 if failure else 1
            delay = min(RETRY_FIRST * 2 ** (count - 1), RETRY_MAX)
            error = f"{type(exc).__name__}: {exc}"
            self._failures[key] = _Failure(count, now + delay, error)
            if self._events is not None:
                self._events.digest_failed("error")
            log.exception(
                "channel %d: digest for %s %s failed (attempt %d); retrying in %s",
                sub.channel_id,
                due.day,
                format_time(due.time),
                count,
                _describe(delay),
            )
            try:
                await self._store.fail_slot(sub.channel_id, due.day, error, slot_time=due.time)
            except Exception:
                log.exception("channel %d: could not note the failure", sub.channel_id)
            return Outcome(sub.channel_id, due.day, Action.FAILED, error, slot_time=due.time)
        self._failures.pop(key, None)
        return outcome

    async def _handle(
        self, sub: Subscription, due: Due, now: dt.datetime, pass_: _Pass
    ) -> Outcome | None:
        channel = sub.channel_id
        if due.at > now:
            return None  # not due yet (an open claim whose schedule moved later), or no such day
        slot = await self._store.get_slot(channel, due.day, due.time)
        if slot is not None and slot.state is not SlotState.CLAIMED:
            return None  # done
        if slot is None and due.at < sub.updated_at:
            return None  # due before the schedule was set (or resumed): not owed
        if self._stopping:
            return None  # a graceful stop: no new claims (design.md); the next start sends it
        late = now - due.at
        if late > self.grace:
            failure = self._failures.get((channel, due.day, due.time))
            why = f"; last error: {failure.error}" if failure else ""
            reason = (
                f"missed: due {_describe(late)} ago, beyond the {_describe(self.grace)} "
                f"grace window{why}"
            )
            if await self._store.skip_slot(
                channel, due.day, reason, slot_time=due.time, due_at=due.at
            ):
                log.warning("channel %d: digest for %s skipped: %s", channel, due.day, reason)
            return Outcome(channel, due.day, Action.SKIPPED, reason, slot_time=due.time)
        return await self._deliver(sub, due, pass_)

    async def _deliver(self, sub: Subscription, due: Due, pass_: _Pass) -> Outcome | None:
        channel, day = sub.channel_id, due.day
        history = await self._store.history(channel)
        previous = await self._store.last_sent(channel)
        since = previous.seen_until if previous is not None else None
        fresh = await self._store.seen_after(since) if since else frozenset()
        digest = self._build(pass_, history, sub, day, fresh=fresh)
        title = forum_title(day, due.time, len(digest.shown_ids) if digest else 0)
        if self._stopping:
            return None  # the stop began while the digest was built: leave it unclaimed
        claim = await self._store.claim_slot(
            channel,
            day,
            digest_nonce(channel, day, due.time),
            digest.shown_ids if digest else (),
            slot_time=due.time,
            due_at=due.at,
            seen_until=pass_.seen_until,
            title=title if sub.kind is ChannelKind.FORUM else None,
        )
        if claim is None:
            return None  # sent or skipped meanwhile, or unsubscribed
        if claim.resumed:
            if self._events is not None:
                self._events.digest_retried()
            log.info(
                "channel %d: resuming interrupted digest for %s %s (attempt %d, nonce %s)",
                channel,
                day,
                format_time(due.time),
                claim.attempts,
                claim.nonce,
            )
            if claim.brief_ids:
                # Show what the interrupted attempt planned: if it did reach Discord, the
                # resend is deduplicated by nonce and must not record other briefs as sent.
                digest = (
                    self._build(pass_, history, sub, day, pinned=claim.brief_ids, fresh=fresh)
                    or digest
                )
        if digest is None and sub.quiet:
            await self._store.skip_slot(channel, day, "nothing new", slot_time=due.time)
            log.info("channel %d: nothing new for %s; not posted", channel, day)
            return Outcome(channel, day, Action.SKIPPED, "nothing new", slot_time=due.time)
        reply = digest.reply if digest else nothing_new(day, previous, sub.timezone.key)
        delivery = Delivery(
            channel_id=channel,
            reply=reply,
            nonce=claim.nonce,
            guild_id=sub.guild_id,
            kind=sub.kind,
            title=claim.title or title,
            mention_role_id=sub.mention_role_id,
            publish=sub.publish,
            resumed=claim.resumed,
        )
        if not await self._store.begin_send(channel, day, slot_time=due.time):
            # Our lease ran out (a very slow pass) and another process took the slot over.
            log.warning(
                "channel %d: digest for %s %s was taken over; not sent here",
                channel,
                day,
                format_time(due.time),
            )
            return None
        try:
            message_id = await self._poster.post(delivery)
        except DeliveryError as exc:
            if self._events is not None:
                self._events.digest_failed(
                    "missing"
                    if isinstance(exc, DeliveryGone)
                    else "forbidden"
                    if isinstance(exc, DeliveryForbidden)
                    else "refused"
                )
            prefix = (
                CHANNEL_GONE
                if isinstance(exc, DeliveryGone)
                else "no permission"
                if isinstance(exc, DeliveryForbidden)
                else "cannot post"
            )
            return await self._pause(sub, due, f"{prefix}: {exc.reason}", exc.fix)
        if self._events is not None:
            self._events.digest_sent(max(0.0, (self._clock.now() - due.at).total_seconds()))
        shown = digest.shown_ids if digest else ()
        cutoff = ArchiveCutoff(*digest.cutoff) if digest and digest.cutoff else None
        post_id = message_id if sub.kind is ChannelKind.FORUM else channel
        if not await self._store.complete_slot(
            channel, day, message_id, shown, cutoff, slot_time=due.time, post_id=post_id
        ):
            log.info("channel %d: unsubscribed while its digest was sent", channel)
        log.info(
            "channel %d: digest for %s %s posted (message %d, %d briefs)",
            channel,
            day,
            format_time(due.time),
            message_id,
            len(shown),
        )
        return Outcome(channel, day, Action.SENT, message_id=message_id, slot_time=due.time)

    async def _pause(self, sub: Subscription, due: Due, reason: str, fix: str) -> Outcome:
        """The bot pauses a channel it cannot deliver to, and tells someone, once."""
        channel = sub.channel_id
        await self._store.disable(channel, reason)
        log.warning("channel %d: digest subscription paused: %s", channel, reason)
        await self._tell(sub, reason, fix)
        return Outcome(channel, due.day, Action.DISABLED, reason, slot_time=due.time)

    async def _tell(self, sub: Subscription, reason: str, fix: str) -> None:
        if self._notifier is None or not await self._store.claim_notice(sub.channel_id):
            return  # no one to tell, or this pause was told already
        settings = await self._store.guild_settings(sub.guild_id)
        notices = settings.notices_channel_id
        notice = Notice(
            guild_id=sub.guild_id,
            channel_id=sub.channel_id,
            # The paused channel cannot take its own notice.
            notices_channel_id=notices if notices != sub.channel_id else None,
            dm_user_id=sub.updated_by if sub.notice_dm else None,
            reply=pause_notice(sub.channel_id, reason, fix, gone=is_gone(reason)),
        )
        try:
            how = await self._notifier.notify(notice)
        except Exception:
            # Never a loop: a notice that fails is logged, not retried, and pauses nothing.
            log.exception("channel %d: the pause notice could not be sent", sub.channel_id)
            return
        log.info("channel %d: pause notice: %s", sub.channel_id, how)

    def _build(
        self,
        pass_: _Pass,
        history: History,
        sub: Subscription,
        day: dt.date,
        *,
        pinned: Sequence[str] | None = None,
        fresh: frozenset[str] = frozenset(),
    ) -> Digest | None:
        """The channel's digest; `fresh`: the briefs first seen since its previous digest."""
        labels = self._topic_labels() if self._topic_labels else None
        cutoff = (history.cutoff.date, history.cutoff.brief_id) if history.cutoff else None
        if isinstance(pass_.briefs, Library):
            return digest_of(
                pass_.eligible(sub.topics, cutoff, history.sent_ids, fresh),
                sub.topics,
                self.cap,
                first=cutoff is None and not history.sent_ids,
                day=day,
                pinned=pinned,
                topic_labels=labels,
            )
        return build_digest(
            pass_.briefs,
            history.sent_ids,
            sub.topics,
            self.cap,
            cutoff=cutoff,
            day=day,
            pinned=pinned,
            topic_labels=labels,
            fresh=pass_.fresh(fresh),
        )

    # ------------------------------------------------------------------ when next

    async def _next_slots(
        self, sub: Subscription, tz: ZoneInfo, after: dt.datetime, count: int = 1
    ) -> list[Due]:
        """The next `count` slots due after `after` that are not already done."""
        found: list[Due] = []
        due = next_slot(sub.slot_times, sub.days, tz, after)
        # A slot can be done ahead of its time only when the schedule moved later the same
        # day (08:00 sent, then changed to 12:00); a few extra steps cover any such case.
        for _ in range(count + 3):
            slot = await self._store.get_slot(sub.channel_id, due.day, due.time)
            if slot is None or slot.state is SlotState.CLAIMED:
                found.append(due)
                if len(found) == count:
                    break
            due = next_slot(sub.slot_times, sub.days, tz, due.at)
        return found

    async def _wake_time(self, now: dt.datetime) -> dt.datetime:
        wake = now + IDLE_WAKE
        for sub in await self._store.list_all():
            tz = sub.timezone.rules
            if tz is None:
                continue
            if sub.enabled:
                wake = min([wake, *(d.at for d in await self._next_slots(sub, tz, now))])
            elif sub.pause_kind is PauseKind.MEMBER and sub.paused_until is not None:
                wake = min(wake, due_at(sub.paused_until, dt.time(0), tz))
        for failure in self._failures.values():
            wake = min(wake, failure.retry_at)
        # A slot another process holds: look again when its lease runs out (resumed then if
        # that process stopped renewing it).
        for claim in await self._store.open_claims():
            if claim.owner != self._store.owner and claim.lease_until is not None:
                wake = min(wake, claim.lease_until)
        # Never wake for a time already past: whatever was due has been handled by the pass
        # just run, so this floor only guards against a spin should that ever be untrue.
        return max(wake, now + MIN_WAKE)

    async def next_due(self) -> dt.datetime | None:
        """When the next digest of any channel is due (a pending retry counts); None if none."""
        now = self._clock.now()
        found = [f.retry_at for f in self._failures.values()]
        for sub in await self._store.list_all():
            tz = sub.timezone.rules
            if sub.enabled and tz is not None:
                found += [d.at for d in await self._next_slots(sub, tz, now)]
        return min(found, default=None)

    async def upcoming(self, channel_id: int, count: int = 3) -> list[dt.datetime]:
        """When the channel's next `count` digests are due (a pending retry first); [] when
        it is not served (or paused without an end date)."""
        sub = await self._store.get(channel_id)
        tz = sub.timezone.rules if sub is not None else None
        if sub is None or tz is None:
            return []
        now = self._clock.now()
        if not sub.enabled:
            if sub.pause_kind is not PauseKind.MEMBER or sub.paused_until is None:
                return []
            # A pause until a date: the slots from that date on.
            now = max(now, due_at(sub.paused_until, dt.time(0), tz) - dt.timedelta(seconds=1))
        retries = sorted(f.retry_at for (ch, _, _), f in self._failures.items() if ch == channel_id)
        try:
            dues = [d.at for d in await self._next_slots(sub, tz, now, count)]
        except OverflowError:
            # A pause until the calendar's end (stored before such dates were refused).
            dues = []
        return sorted([*retries, *dues])[:count]

    async def next_run(self, channel_id: int) -> dt.datetime | None:
        """When the channel's next digest is due (a pending retry counts); None if not served."""
        sub = await self._store.get(channel_id)
        if sub is None or not sub.enabled:
            return None
        upcoming = await self.upcoming(channel_id, 1)
        return upcoming[0] if upcoming else None

    async def preview(self, channel_id: int) -> Reply | None:
        """The channel's next digest as it would look now (private); None if not subscribed."""
        sub = await self._store.get(channel_id)
        if sub is None:
            return None
        tz = sub.timezone.rules or ZoneInfo("UTC")
        [due] = await self._next_slots(sub, tz, self._clock.now())
        day = due.day
        # Builds without recording: a preview of a first digest sets no cutoff.
        history = await self._store.history(channel_id)
        previous = await self._store.last_sent(channel_id)
        since = previous.seen_until if previous is not None else None
        fresh = await self._store.seen_after(since) if since else frozenset()
        digest = self._build(_Pass(self._briefs, since), history, sub, day, fresh=fresh)
        note = (
            f"Paused: {sub.disabled_reason or 'disabled'}. Run /digest resume to resume."
            if not sub.enabled
            else None
        )
        if digest is None:
            after = (
                "the digest is skipped: an empty digest is never posted."
                if sub.quiet
                else "the digest says there is nothing new (quiet:false)."
            )
            return Reply(
                title=f"Preview — digest for {day.isoformat()}",
                description=" ".join(
                    x
                    for x in (
                        note,
                        f"Nothing new since the last digest. If no new briefs arrive by then, "
                        f"{after}",
                    )
                    if x
                ),
                private=True,
                zone=sub.timezone.key,
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
            zone=sub.timezone.key,
        )


class _Pass:
    """What one pass shares across channels: the briefs, indexed once, and when they were seen."""

    def __init__(
        self, briefs: Callable[[], Sequence[Brief] | Library], seen_until: dt.datetime | None
    ) -> None:
        self._current = briefs
        self.briefs = briefs()
        self.seen_until = seen_until
        self._by_id: dict[str, Brief] | None = None
        # Channels alike (same topics, nothing sent yet: every first digest) share one query.
        self._eligible: dict[tuple[object, ...], Eligible] = {}

    def fresh(self, ids: frozenset[str]) -> list[Brief]:
        """The briefs among `ids` that are in the library now."""
        if not ids or isinstance(self.briefs, Library):
            return []
        if self._by_id is None:
            self._by_id = {b.id: b for b in self.briefs}
        return [self._by_id[i] for i in ids if i in self._by_id]

    def eligible(
        self,
        topics: Sequence[str],
        cutoff: OrderKey | None,
        sent_ids: frozenset[str],
        fresh: frozenset[str],
    ) -> Eligible:
        """A channel's eligible briefs, chosen in the brief index (rules: `bot.digest.content`)."""
        # A reload closes the library it replaces: each digest reads the live one (and a
        # digest is built without awaiting anything, so it is never closed under it).
        library = self._current()
        assert isinstance(library, Library)
        if library is not self.briefs:
            self.briefs, self._eligible = library, {}
        # Fresh briefs matter only where the archive would hide them.
        late = fresh if cutoff is not None else frozenset()
        key = (frozenset(topics), cutoff, sent_ids, late)
        found = self._eligible.get(key)
        if found is None:
            found = library.eligible(topics, cutoff, sent_ids, late)
            self._eligible[key] = found
        return found


def is_gone(reason: str | None) -> bool:
    """Whether a pause's reason is Discord saying the channel no longer exists (404)."""
    return reason is not None and reason.startswith(f"{CHANNEL_GONE}:")


def pause_notice(channel_id: int, reason: str, fix: str, *, gone: bool = False) -> Reply:
    """What the bot says, once, when it pauses a channel's digest."""
    # No command can run in a deleted channel: its subscription is removed from elsewhere.
    then = (
        f"No command can run in a deleted channel: /digest unsubscribe channel:{channel_id}, "
        "run in any channel, removes this subscription (should the channel be back, "
        "/digest resume in it resumes it)."
        if gone
        else f"Fix: {fix or 'restore the bot access to that channel'}, then run /digest resume "
        "in that channel. Every setting is kept."
    )
    return Reply(
        "Digest paused",
        description=f"The digest for <#{channel_id}> is paused: {reason}.\n{then}",
        footer="One notice per pause. A direct message like this one can be turned off with "
        "/digest notices dm:false in that channel; /digest notices channel: sends them to a "
        "server channel instead.",
    )
