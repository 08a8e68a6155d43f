"""A graceful stop of the scheduler: no new claims, sends in flight finish, bounded wait."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bot.clock import Zone
from bot.digest.scheduler import Delivery, DigestScheduler, digest_nonce
from bot.store import open_store
from bot.store.records import SlotState
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.digest.helpers import FakePoster, newest_first

START = dt.datetime(2026, 3, 5, 0, 0, tzinfo=dt.UTC)
DUE = dt.datetime(2026, 3, 5, 8, 31, tzinfo=dt.UTC)  # a minute after the 08:30 slots
DAY = DUE.date()


@dataclass
class GatedPoster(FakePoster):
    """A poster whose sends to some channels wait until the test opens their gate."""

    gates: dict[int, asyncio.Event] = field(default_factory=dict)
    waiting: set[int] = field(default_factory=set)

    async def post(self, delivery: Delivery) -> int:
        gate = self.gates.get(delivery.channel_id)
        if gate is not None:
            self.waiting.add(delivery.channel_id)
            await gate.wait()
        return await super().post(delivery)


@dataclass
class Setup:
    store: Store
    clock: FakeClock
    poster: GatedPoster

    def scheduler(self, concurrency: int = 8) -> DigestScheduler:
        briefs = newest_first(3)
        return DigestScheduler(
            self.store, self.clock, lambda: briefs, self.poster, concurrency=concurrency
        )

    async def state(self, channel: int) -> SlotState | None:
        slot = await self.store.get_slot(channel, DAY)
        return slot.state if slot else None


@pytest.fixture
async def setup(database: str) -> AsyncIterator[Setup]:
    clock = FakeClock(START)
    async with await open_store(database, clock=clock) as store:
        for channel in (1, 2, 3):
            await store.upsert_subscription(
                guild_id=10,
                channel_id=channel,
                local_time=dt.time(8, 30),
                timezone=Zone.named("UTC"),
                created_by=42,
            )
        await clock.set(DUE)
        poster = GatedPoster(clock)
        poster.gates[1] = asyncio.Event()
        yield Setup(store, clock, poster)


async def until(check: object, what: str) -> None:
    for _ in range(500):
        if callable(check) and check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_drain_lets_the_send_in_flight_finish(setup: Setup) -> None:
    scheduler = setup.scheduler()
    scheduler.start()
    await until(lambda: 1 in setup.poster.waiting and len(setup.poster.created) == 2, "sends")
    draining = asyncio.create_task(scheduler.drain(5.0))
    await asyncio.sleep(0.05)
    assert not draining.done()  # it waits for channel 1's send
    setup.poster.gates[1].set()
    assert await draining is True
    assert not scheduler.running
    assert [c for c, *_ in setup.poster.created] == [2, 3, 1]
    assert await setup.state(1) is SlotState.SENT


async def test_drain_takes_no_new_claims(setup: Setup) -> None:
    # One send at a time: channel 1 is in flight, 2 and 3 wait their turn when the stop comes.
    scheduler = setup.scheduler(concurrency=1)
    scheduler.start()
    await until(lambda: setup.poster.waiting == {1}, "channel 1's send")
    draining = asyncio.create_task(scheduler.drain(5.0))
    await asyncio.sleep(0.05)
    setup.poster.gates[1].set()
    assert await draining is True
    assert [c for c, *_ in setup.poster.created] == [1]
    assert [await setup.state(c) for c in (1, 2, 3)] == [SlotState.SENT, None, None]
    # The next start sends the two the stop left alone, once each.
    again = setup.scheduler()
    outcomes = await again.run_due(DUE)
    assert sorted(o.channel_id for o in outcomes) == [2, 3]
    assert sorted(c for c, *_ in setup.poster.created) == [1, 2, 3]


async def test_drain_gives_up_after_its_grace_and_the_claim_is_resumed(setup: Setup) -> None:
    scheduler = setup.scheduler()
    scheduler.start()
    await until(lambda: 1 in setup.poster.waiting and len(setup.poster.created) == 2, "sends")
    assert await scheduler.drain(0.1) is False  # channel 1's send never finished
    assert not scheduler.running
    assert await setup.state(1) is SlotState.CLAIMED
    # A restart resumes it with the same nonce.
    setup.poster.gates[1].set()
    outcomes = await setup.scheduler().run_due(DUE)
    assert [o.channel_id for o in outcomes] == [1]
    (resend,) = [a for a in setup.poster.attempts if a.channel_id == 1]
    assert resend.nonce == digest_nonce(1, DAY, dt.time(8, 30))
    assert resend.delivery is not None and resend.delivery.resumed
    assert [c for c, *_ in setup.poster.created].count(1) == 1
