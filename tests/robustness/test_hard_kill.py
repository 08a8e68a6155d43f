"""A hard kill: SIGKILL the bot in the middle of a digest fan-out, restart it, and check that
every channel ends with exactly one digest for the day.

The bot runs as a separate process (``tests.robustness.botproc``: the real BriefBot, real
``Store`` on a SQLite file, real ``SystemClock``) against a :class:`FakeDiscord` served from
this test's event loop. The fake's rate limits (50 requests/s global) stretch the fan-out of
``TOTAL`` channels over a few seconds. The kill is fired from inside the fake's
create-message handler, after it created the ``kill_at``-th digest and before the answer is
written: so at the kill some digests are out and recorded, at least one is out on Discord but
still only *claimed* in the database (its sender never heard back), others are claimed and
waiting on the rate limit, and the rest are not started.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.clock import Zone
from bot.digest.scheduler import digest_nonce
from bot.store.records import SlotState
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord
from tests.fakediscord.server import RECORD
from tests.robustness.botproc import launch

TOTAL = 150
# Kill once this many channels have their digest; the later points are tried only when the
# kill landed after the whole fan-out (a very slow poll), so the test always kills mid-way.
KILL_POINTS = (TOTAL // 4, 1)
START_TIMEOUT = 15.0  # first digest of the first process, from spawn
FINISH_TIMEOUT = 20.0  # all digests and slots, from the restart
EXIT_TIMEOUT = 5.0
RESUMED = re.compile(r"channel (\d+): resuming interrupted digest")


class KillingFake(FakeDiscord):
    """A fake Discord that SIGKILLs a process right after creating its n-th message."""

    victim: int | None = None
    kill_after = 0
    trigger_channel: int | None = None  # where the message that set off the kill went

    def arm(self, pid: int, after: int) -> None:
        self.victim, self.kill_after = pid, after

    async def _create_message(self, request: web.Request) -> web.Response:
        response = await super()._create_message(request)
        if self.victim is not None and response.status == 200 and not request[RECORD].deduplicated:
            self.kill_after -= 1
            if self.kill_after <= 0:
                # The message exists on "Discord"; its sender dies before reading the answer.
                os.kill(self.victim, signal.SIGKILL)
                self.victim = None
                self.trigger_channel = int(request.match_info["channel_id"])
        return response


@dataclass
class Kill:
    """What the database and the fake held once the killed process was gone."""

    with_digest: int  # channels with a digest message
    open_claims: set[int]  # channels claimed but not completed: the restart must resume them


@dataclass
class BotProc:
    """One bot process and its log file."""

    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.splitlines()[-lines:])

    def story(self, lines: int = 25) -> str:
        """The start of the log (how the process came up) and its end."""
        every = self.log.splitlines()
        if len(every) <= 2 * lines:
            return "\n".join(every)
        return "\n".join([*every[:lines], "…", *every[-lines:]])


@contextlib.contextmanager
def reaper() -> Iterator[list[BotProc]]:
    """Processes started in the block are killed (SIGKILL) and reaped on the way out."""
    procs: list[BotProc] = []
    try:
        yield procs
    finally:
        for bp in procs:
            if bp.proc.poll() is None:
                bp.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                bp.proc.wait(timeout=EXIT_TIMEOUT)


def spawn(fake: FakeDiscord, db: Path, briefs: Path, log_path: Path) -> BotProc:
    urls = (fake.base_url, fake.gateway_url)
    proc = launch(urls, db, briefs, log_path, dev_guild_id=str(fake.guild_id))
    return BotProc(proc, log_path)


async def wait_for(
    check: Callable[[], bool], seconds: float, what: str, bp: BotProc | None = None
) -> None:
    """Poll ``check`` every 10 ms; fail (with the bot's log) on timeout or if the bot died."""
    deadline = time.monotonic() + seconds
    while not check():
        if bp is not None and bp.proc.poll() is not None:
            raise AssertionError(
                f"bot exited ({bp.proc.returncode}) while waiting for {what}:\n{bp.tail()}"
            )
        if time.monotonic() > deadline:
            log = f":\n{bp.story()}" if bp is not None else ""
            raise AssertionError(f"timed out after {seconds}s waiting for {what}{log}")
        await asyncio.sleep(0.01)


async def reap(bp: BotProc) -> None:
    await wait_for(lambda: bp.proc.poll() is not None, EXIT_TIMEOUT, "the bot to exit")


@contextlib.asynccontextmanager
async def opened(db: Path) -> AsyncIterator[Store]:
    async with await Store.open(db) as store:
        yield store


async def subscribe_all(db: Path, guild_id: int, channels: list[int]) -> dt.date:
    """Subscribe every channel to a digest due a minute ago (UTC); its local date."""
    now = dt.datetime.now(dt.UTC)
    due = now - dt.timedelta(minutes=1)
    # Subscribed ten minutes ago, so today's slot (60-120 s ago) is owed, not "due before
    # the schedule was set".
    clock = FakeClock(now - dt.timedelta(minutes=10))
    async with await Store.open(db, clock=clock) as store:
        for channel in channels:
            await store.upsert_subscription(
                guild_id=guild_id,
                channel_id=channel,
                local_time=dt.time(due.hour, due.minute),
                timezone=Zone.named("UTC"),
                created_by=1,
            )
    return due.date()


async def slot_states(db: Path, channels: list[int], day: dt.date) -> dict[int, SlotState | None]:
    async with opened(db) as store:
        states: dict[int, SlotState | None] = {}
        for channel in channels:
            slot = await store.get_slot(channel, day)
            states[channel] = slot.state if slot else None
        return states


def created(fake: FakeDiscord) -> Counter[int]:
    """Digest messages *created* per channel (nonce-deduplicated replays excluded)."""
    return Counter(
        int(r.path.split("/")[2])
        for r in fake.requests("POST", path_contains="/messages")
        if r.status == 200 and not r.deduplicated
    )


async def kill_mid_fanout(
    fake: KillingFake, channels: list[int], bp: BotProc, kill_at: int, db: Path, day: dt.date
) -> Kill:
    def with_digest() -> int:
        return sum(1 for c in channels if fake.messages(c))

    fake.arm(bp.proc.pid, kill_at)
    deadline = time.monotonic() + START_TIMEOUT
    while bp.proc.poll() is None:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no kill after {START_TIMEOUT}s ({with_digest()} digests)\n{bp.tail()}"
            )
        await asyncio.sleep(0.01)
    assert bp.proc.returncode == -signal.SIGKILL, (bp.proc.returncode, bp.tail())
    # Requests the dead process had fully sent are still answered by the fake: let them land.
    await asyncio.sleep(0.2)
    states = await slot_states(db, channels, day)
    return Kill(with_digest(), {c for c, s in states.items() if s is SlotState.CLAIMED})


async def test_sigkill_mid_fanout_then_restart_posts_each_digest_exactly_once(
    tmp_path: Path, briefs_dir: Path
) -> None:
    started = time.monotonic()
    for attempt, kill_at in enumerate(KILL_POINTS, start=1):
        summary = await kill_and_restart(tmp_path / f"attempt{attempt}", briefs_dir, kill_at)
        if summary is not None:
            print(f"\nhard kill (attempt {attempt}): {summary}, {time.monotonic() - started:.1f}s")
            return
    raise AssertionError(f"every kill landed after the whole fan-out of {TOTAL} digests")


async def kill_and_restart(root: Path, briefs_dir: Path, kill_at: int) -> str | None:
    """One run: kill the bot after ``kill_at`` digests, restart, check; None if not mid-way."""
    async with KillingFake(check_responses=True) as fake:
        fake.enable_rate_limits()  # 50 req/s global: the fan-out takes about 3 s
        channels = [fake.channel_id + i for i in range(TOTAL)]
        db = root / "briefbot.sqlite3"
        day = await subscribe_all(db, fake.guild_id, channels)
        with reaper() as procs:
            procs.append(spawn(fake, db, briefs_dir, root / "first.log"))
            kill = await kill_mid_fanout(fake, channels, procs[0], kill_at, db, day)
            if kill.with_digest == TOTAL:
                return None  # the kill landed after the fan-out: try an earlier kill point
            # The point of the test: the process died mid-way through the fan-out.
            assert 0 < kill.with_digest < TOTAL, kill

            second = spawn(fake, db, briefs_dir, root / "second.log")
            procs.append(second)
            await wait_for(
                lambda: all(fake.messages(c) for c in channels),
                FINISH_TIMEOUT,
                "every channel's digest",
                second,
            )
            await wait_all_sent(db, channels, day, second)
            second.proc.send_signal(signal.SIGTERM)
            await reap(second)
        await check_outcome(fake, db, channels, day, kill, second)
        return (
            f"{kill.with_digest}/{TOTAL} digests out at the kill, "
            f"{len(kill.open_claims)} claims open, "
            f"{len(fake.deduplicated())} resends deduplicated by nonce"
        )


async def wait_all_sent(db: Path, channels: list[int], day: dt.date, bp: BotProc) -> None:
    deadline = time.monotonic() + FINISH_TIMEOUT
    while True:
        states = await slot_states(db, channels, day)
        pending = {c: s for c, s in states.items() if s is not SlotState.SENT}
        if not pending:
            return
        assert time.monotonic() < deadline, f"slots not recorded as sent: {pending}\n{bp.tail()}"
        await asyncio.sleep(0.05)


async def check_outcome(
    fake: KillingFake, db: Path, channels: list[int], day: dt.date, kill: Kill, second: BotProc
) -> None:
    # Exactly one created digest per channel: none lost, none doubled.
    counts = created(fake)
    wrong = {c: counts.get(c, 0) for c in channels if counts.get(c, 0) != 1}
    assert not wrong, f"channels without exactly one created digest: {wrong}"
    assert all(len(fake.messages(c)) == 1 for c in channels)

    # A deduplicated resend is the mechanism working: the first process got the message to
    # Discord but died before recording it; the restart resent it with the same nonce and
    # Discord (the fake) answered with the message it already had. Only a slot still claimed
    # at the kill can be resent, and every such slot must be resumed by the restart.
    deduped = {int(r.path.split("/")[2]) for r in fake.deduplicated()}
    assert deduped <= kill.open_claims, (deduped, kill.open_claims)
    # The digest that set off the kill was created but never acknowledged to the bot: its
    # resend must have been one of the deduplicated ones.
    assert fake.trigger_channel in deduped, (fake.trigger_channel, deduped)
    resumed = {int(m) for m in RESUMED.findall(second.log)}
    assert resumed == kill.open_claims, (resumed, kill.open_claims)
    sends = fake.requests("POST", path_contains="/messages")

    # The database: every slot sent, with the id of the one message the channel has.
    async with opened(db) as store:
        assert await store.open_claims() == []
        for channel in channels:
            slot = await store.get_slot(channel, day)
            assert slot is not None and slot.state is SlotState.SENT, (channel, slot)
            nonce = digest_nonce(channel, day, slot.slot_time)
            for request in sends:
                if int(request.path.split("/")[2]) == channel:
                    assert request.json["nonce"] == nonce
                    assert request.json["enforce_nonce"] is True
            (message,) = fake.messages(channel)
            assert slot.message_id == int(message["id"]), (channel, slot)
    assert "Traceback" not in second.log, second.tail()
    fake.assert_no_violations()
