"""Slot claims with an owner and a lease: the rule several processes on one database share
(each test on SQLite and on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import Zone
from bot.digest.scheduler import SharedPacer
from bot.store import open_store
from bot.store.records import ClaimOwner, SlotState
from bot.store.sqlite import Store, _start_ticks, owner_alive, this_process
from tests.digest.clock import FakeClock

START = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 6)
LEASE = dt.timedelta(seconds=10)
HOST = socket.gethostname()
ELSEWHERE = ClaimOwner("other-host", 4242, "123.aaaa")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def db(database: str) -> str:
    return database


async def opened(db: str | Path, clock: FakeClock, owner: ClaimOwner | None = None) -> Store:
    store = await open_store(db, clock=clock, owner=owner, lease=LEASE)
    for channel in (1, 2):
        await store.upsert_subscription(
            guild_id=9,
            channel_id=channel,
            local_time=dt.time(8, 30),
            timezone=Zone.named("UTC"),
            created_by=7,
        )
    return store


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process on this host that is not this one."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


async def test_a_live_claim_is_never_taken_over_and_an_expired_one_is_resumed_with_its_nonce(
    db: str, clock: FakeClock
) -> None:
    other = await opened(db, clock, ELSEWHERE)
    mine = await opened(db, clock)
    first = await other.claim_slot(1, DAY, "d1-20260306", ("a", "b"))
    assert first is not None and first.owner == ELSEWHERE
    assert first.lease_until == START + LEASE

    await clock.advance(LEASE - dt.timedelta(seconds=1))
    assert await mine.claim_slot(1, DAY, "other-nonce", ("c",)) is None
    assert not await mine.begin_send(1, DAY)  # not ours to send
    # Nor may a late skip close another process's live claim.
    assert not await mine.skip_slot(1, DAY, "missed")

    await clock.advance(dt.timedelta(seconds=1))  # the lease runs out
    resumed = await mine.claim_slot(1, DAY, "other-nonce", ("c",))
    assert resumed is not None and resumed.resumed
    assert (resumed.nonce, resumed.brief_ids, resumed.attempts) == ("d1-20260306", ("a", "b"), 2)
    assert resumed.owner == mine.owner and resumed.lease_until == clock.now() + LEASE
    # The old owner has lost it: it must not begin sending now.
    assert not await other.begin_send(1, DAY)
    assert await other.claim_slot(1, DAY, "x") is None
    assert await mine.begin_send(1, DAY)
    assert await mine.complete_slot(1, DAY, 77, ("a", "b"))
    slot = await other.get_slot(1, DAY)
    assert slot is not None and slot.state is SlotState.SENT and slot.message_id == 77
    await other.close()
    await mine.close()


async def test_each_slot_of_a_day_is_its_own_claim_and_a_takeover_keeps_its_forum_title(
    db: str, clock: FakeClock
) -> None:
    other = await opened(db, clock, ELSEWHERE)
    mine = await opened(db, clock)
    morning, evening = dt.time(8, 30), dt.time(18, 0)
    due = dt.datetime(2026, 3, 6, 8, 30, tzinfo=dt.UTC)
    seen = START - dt.timedelta(minutes=5)
    held = await other.claim_slot(
        1,
        DAY,
        "d1-2603060830",
        ("a",),
        slot_time=morning,
        due_at=due,
        seen_until=seen,
        title="Digest 2026-03-06 08:30 · 1 brief",
    )
    assert held is not None and held.slot_time == morning
    # The same channel's evening slot is another claim: free for this process.
    later = await mine.claim_slot(1, DAY, "d1-2603061800", ("b",), slot_time=evening)
    assert later is not None and later.owner == mine.owner and not later.resumed
    assert await mine.claim_slot(1, DAY, "mine", ("c",), slot_time=morning) is None

    await clock.advance(LEASE)
    resumed = await mine.claim_slot(
        1, DAY, "mine", ("c",), slot_time=morning, seen_until=START, title="another title"
    )
    # A forum post has no nonce: the resend looks for the post by the title first stored.
    assert resumed is not None and resumed.resumed
    assert (resumed.nonce, resumed.brief_ids, resumed.title, resumed.seen_until) == (
        "d1-2603060830",
        ("a",),
        "Digest 2026-03-06 08:30 · 1 brief",
        seen,
    )
    assert await mine.begin_send(1, DAY, slot_time=morning)
    assert await mine.complete_slot(1, DAY, 90, ("a",), slot_time=morning)
    # The evening claim is untouched by the morning's completion.
    [still_open] = await mine.open_claims()
    assert (still_open.slot_time, still_open.nonce) == (evening, "d1-2603061800")
    slot = await mine.get_slot(1, DAY, morning)
    assert slot is not None and slot.state is SlotState.SENT and slot.due_at == due
    await other.close()
    await mine.close()


async def test_renewal_keeps_a_claim_alive_past_its_first_lease(db: str, clock: FakeClock) -> None:
    other = await opened(db, clock, ELSEWHERE)
    mine = await opened(db, clock)
    assert await other.claim_slot(1, DAY, "n1") is not None
    assert await other.claim_slot(2, DAY, "n2") is not None
    for _ in range(3):
        await clock.advance(LEASE * 0.6)
        assert await other.renew_claims() == 2
        assert await mine.claim_slot(1, DAY, "x") is None
    # Renewal stops (the owner hangs or dies elsewhere): one lease later it is resumed.
    await clock.advance(LEASE)
    claim = await mine.claim_slot(2, DAY, "x")
    assert claim is not None and claim.nonce == "n2"
    assert await other.renew_claims() == 1  # only the claim it still holds
    await other.close()
    await mine.close()


async def test_a_dead_owner_on_this_host_is_resumed_at_once(db: str, clock: FakeClock) -> None:
    pid = dead_pid()
    crashed = ClaimOwner(HOST, pid, f"{_start_ticks(os.getpid())}.dead")
    assert not owner_alive(crashed)
    other = await opened(db, clock, crashed)
    mine = await opened(db, clock)
    assert await other.claim_slot(1, DAY, "n1", ("a",)) is not None
    claim = await mine.claim_slot(1, DAY, "x")  # lease still live, owner gone
    assert claim is not None and claim.resumed and claim.nonce == "n1"
    await other.close()
    await mine.close()


async def test_a_reused_pid_is_not_the_owner(db: str, clock: FakeClock) -> None:
    # Same host and pid as this process, another start time: a restart that got the same pid.
    restarted = ClaimOwner(HOST, os.getpid(), "1.before-restart")
    assert not owner_alive(restarted)
    other = await opened(db, clock, restarted)
    mine = await opened(db, clock)
    assert await other.claim_slot(1, DAY, "n1") is not None
    claim = await mine.claim_slot(1, DAY, "x")
    assert claim is not None and claim.nonce == "n1"
    await other.close()
    await mine.close()


async def test_a_live_owner_on_this_host_keeps_its_claim_until_it_dies(
    db: str, clock: FakeClock, sleeper: subprocess.Popen[bytes]
) -> None:
    alive = ClaimOwner(HOST, sleeper.pid, f"{_start_ticks(sleeper.pid)}.live")
    assert owner_alive(alive)
    other = await opened(db, clock, alive)
    mine = await opened(db, clock)
    assert await other.claim_slot(1, DAY, "n1") is not None
    assert await mine.claim_slot(1, DAY, "x") is None
    sleeper.kill()
    sleeper.wait(timeout=10)
    claim = await mine.claim_slot(1, DAY, "x")
    assert claim is not None and claim.nonce == "n1"
    await other.close()
    await mine.close()


async def test_a_graceful_stop_releases_only_the_claims_not_yet_being_sent(
    db: str, clock: FakeClock
) -> None:
    other = await opened(db, clock, ELSEWHERE)
    mine = await opened(db, clock)
    assert await other.claim_slot(1, DAY, "n1") is not None
    assert await other.claim_slot(2, DAY, "n2") is not None
    assert await other.begin_send(1, DAY)
    assert await other.release_claims() == 1
    # Released: resumed at once by anyone, with its nonce. Being sent: still held.
    claim = await mine.claim_slot(2, DAY, "x")
    assert claim is not None and claim.nonce == "n2" and claim.resumed
    assert await mine.claim_slot(1, DAY, "x") is None
    assert await other.release_claims() == 0
    await other.close()
    await mine.close()


async def test_this_process_resumes_its_own_claim(db: str, clock: FakeClock) -> None:
    store = await opened(db, clock)
    assert store.owner == this_process()
    assert await store.claim_slot(1, DAY, "n1") is not None
    again = await store.claim_slot(1, DAY, "n2")
    assert again is not None and again.nonce == "n1" and again.attempts == 2
    await store.close()


async def test_the_send_budget_is_shared_by_every_store_on_the_file(
    db: str, clock: FakeClock
) -> None:
    a = await opened(db, clock, ELSEWHERE)
    b = await opened(db, clock)
    now = START.timestamp()
    interval = 1 / 50
    turns = [await store.reserve_send(interval, now) for store in (a, b, a, b)]
    assert turns == pytest.approx([now + n * interval for n in range(4)])
    # Idle for a while: the next send goes at once, not at a turn in the past.
    assert await b.reserve_send(interval, now + 5) == pytest.approx(now + 5)
    await a.close()
    await b.close()


async def test_the_shared_pacer_counts_real_seconds_not_the_schedulers_clock(
    tmp_path: Path, clock: FakeClock
) -> None:
    # SQLite only: the time here is simulated, and PostgreSQL keeps turns on its own clock.
    # The store's clock is frozen on 5 March (as in every digest test); real time moves on.
    store = await opened(tmp_path / "briefbot.sqlite3", clock)
    real = [1_800_000_000.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        real[0] += seconds

    pacer = SharedPacer(store, 50, now=lambda: real[0], sleep=sleep)
    for _ in range(100):
        await pacer.wait()
        real[0] += 0.02  # each send takes one interval of real time
    # Sends that keep pace never wait; the frozen clock once made the 100th wait 2 s.
    assert slept == [] or max(slept) < 0.021
    await store.close()
