"""Three bot processes, one PostgreSQL, one fake Discord: every channel due at the same minute
gets exactly one digest, one process is SIGKILLed mid fan-out and the others finish its
channels, and all of them together stay under Discord's 50 messages per second.

Each process is the production bot (``tests.robustness.botproc``: real BriefBot, sharded
with AutoShardedBot over its own shard of three, the real PostgreSQL store, real clock and
poster). The fake applies no rate limit of its own here: the pace must come from the budget
the processes share in PostgreSQL, and the fake's record of creates per second shows it.
The kill is fired from inside the fake's create-message handler once ``KILL_AT`` digests are
out, so the victim dies with claims open (some maybe already on Discord): the survivors, on
the same host, see its process is gone and resume those claims at once with the same nonces.
The big numbers (3,000 channels) are in bench/fanout_pg.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import time
from collections import Counter
from pathlib import Path

import asyncpg
from aiohttp import web

from bot.clock import Zone
from bot.digest.scheduler import digest_nonce
from bot.store import open_store
from bot.store.records import SlotState
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord
from tests.fakediscord.server import RECORD
from tests.pgcluster import PgCluster
from tests.robustness.botproc import launch
from tests.robustness.test_hard_kill import (
    RESUMED,
    BotProc,
    KillingFake,
    reaper,
    wait_for,
)

PROCESSES = 3
TOTAL = 240
KILL_AT = TOTAL // 3 // PROCESSES  # digests the victim itself sends before it dies
SEND_RATE = 40.0  # messages/s for the three together (below 50: room for jitter)
LIMIT = 50  # Discord's global limit per token
LEASE = 5.0  # seconds
FINISH_TIMEOUT = 40.0
STOP_TIMEOUT = 15.0  # SIGTERM to exit: a graceful close (gateway, claims released, pool)


class VictimFake(KillingFake):
    """Kills the victim right after creating the `kill_after`-th message *it* sent, before
    answering: so it dies with that digest on Discord but unrecorded, and others open."""

    async def _create_message(self, request: web.Request) -> web.Response:
        response = await FakeDiscord._create_message(self, request)
        agent = request.headers.get("User-Agent", "")
        mine = self.victim is not None and agent.endswith(f" botproc/{self.victim}")
        if mine and response.status == 200 and not request[RECORD].deduplicated:
            self.kill_after -= 1
            if self.kill_after <= 0 and self.victim is not None:
                os.kill(self.victim, signal.SIGKILL)
                self.victim = None
                self.trigger_channel = int(request.match_info["channel_id"])
        return response


def spawn(fake: KillingFake, url: str, briefs: Path, shard: int, log_path: Path) -> BotProc:
    proc = launch(
        (fake.base_url, fake.gateway_url),
        url,
        briefs,
        log_path,
        shards=f"{shard}/{PROCESSES}",
        send_rate=str(SEND_RATE),
        lease_seconds=str(LEASE),
    )
    return BotProc(proc, log_path)


async def subscribe_all(url: str, guild_id: int, channels: list[int]) -> tuple[dt.date, dt.time]:
    """Subscribe every channel to a digest due a minute ago (UTC); its local date."""
    now = dt.datetime.now(dt.UTC)
    due = now - dt.timedelta(minutes=1)
    async with await open_store(url, clock=FakeClock(now - dt.timedelta(minutes=10))) as store:
        for channel in channels:
            await store.upsert_subscription(
                guild_id=guild_id,
                channel_id=channel,
                local_time=dt.time(due.hour, due.minute),
                timezone=Zone.named("UTC"),
                created_by=1,
            )
    return due.date(), dt.time(due.hour, due.minute)


async def states(url: str, channels: list[int], day: dt.date) -> dict[int, SlotState | None]:
    async with await open_store(url) as store:
        found: dict[int, SlotState | None] = {}
        for channel in channels:
            slot = await store.get_slot(channel, day)
            found[channel] = slot.state if slot else None
        return found


async def claimed_by(url: str, pid: int) -> set[int]:
    """Channels whose open claim the process `pid` holds."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT channel_id FROM digest_slots WHERE state = 'claimed' AND owner_pid = $1", pid
        )
    finally:
        await conn.close()
    return {int(r[0]) for r in rows}


async def unsent(url: str, day: dt.date) -> int:
    """How many of the day's slots are not recorded as sent (missing ones count)."""
    conn = await asyncpg.connect(url)
    try:
        sent = await conn.fetchval(
            "SELECT count(*) FROM digest_slots WHERE local_date = $1 AND state = 'sent'",
            day.isoformat(),
        )
    finally:
        await conn.close()
    return TOTAL - int(sent)


async def open_rows(url: str) -> list[tuple[object, ...]]:
    """The open claims with their owners, for a failure message."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT channel_id, owner_pid, attempts, lease_until, clock_timestamp() "
            "FROM digest_slots WHERE state = 'claimed'"
        )
    finally:
        await conn.close()
    return [tuple(r) for r in rows]


def created(fake: KillingFake) -> Counter[int]:
    return Counter(
        int(r.path.split("/")[2])
        for r in fake.requests("POST", path_contains="/messages")
        if r.status == 200 and not r.deduplicated
    )


async def test_three_processes_send_each_digest_once_under_the_limit_despite_a_sigkill(
    tmp_path: Path, briefs_dir: Path, pg_cluster: PgCluster
) -> None:
    url = await pg_cluster.create_database()
    async with VictimFake(check_responses=True) as fake:
        channels = [fake.channel_id + i for i in range(TOTAL)]
        day, at = await subscribe_all(url, fake.guild_id, channels)
        with reaper() as procs:
            for shard in range(PROCESSES):
                procs.append(spawn(fake, url, briefs_dir, shard, tmp_path / f"bot{shard}.log"))
            victim, survivors = procs[1], [procs[0], procs[2]]
            fake.arm(victim.proc.pid, KILL_AT)
            await wait_for(lambda: victim.proc.poll() is not None, FINISH_TIMEOUT, "the kill")
            assert victim.proc.returncode == -signal.SIGKILL, victim.tail()
            out_at_kill = sum(1 for c in channels if fake.messages(c))
            assert out_at_kill < TOTAL, "the kill landed after the whole fan-out"
            await asyncio.sleep(0.2)  # what the victim had fully sent still lands
            open_at_kill = await claimed_by(url, victim.proc.pid)

            deadline = time.monotonic() + FINISH_TIMEOUT
            # One cheap query a poll: this loop shares its event loop with the fake, whose
            # timing of the creates is under test.
            while await unsent(url, day):
                assert time.monotonic() < deadline, (
                    f"{await unsent(url, day)} slots not sent: {await open_rows(url)}, victim "
                    f"{victim.proc.pid}\n" + "\n".join(bp.tail(15) for bp in survivors)
                )
                for bp in survivors:
                    assert bp.proc.poll() is None, bp.tail()
                await asyncio.sleep(0.2)
            for bp in survivors:
                bp.proc.send_signal(signal.SIGTERM)
            for bp in survivors:
                await wait_for(lambda bp=bp: bp.proc.poll() is not None, STOP_TIMEOUT, "exit", bp)

    # Exactly one created digest per channel, every one with its slot's nonce.
    counts = created(fake)
    wrong = {c: counts.get(c, 0) for c in channels if counts.get(c, 0) != 1}
    assert not wrong, f"channels without exactly one digest: {wrong}"
    for request in fake.requests("POST", path_contains="/messages"):
        channel = int(request.path.split("/")[2])
        assert request.json["nonce"] == digest_nonce(channel, day, at)

    # All three processes together never went over Discord's limit, in any one-second window.
    assert fake.peak_message_rate() <= LIMIT, fake.message_creates_per_second()

    # The work was shared, and the victim's open claims were resumed by the survivors.
    assert open_at_kill, "the victim died holding no claim: nothing to take over"
    resumed = {int(m) for bp in survivors for m in RESUMED.findall(bp.log)}
    assert open_at_kill <= resumed, (open_at_kill, resumed)
    # The digest that set off the kill reached Discord but was never recorded: a survivor
    # resent it with the same nonce, and Discord (the fake) kept the one it had.
    deduplicated = {int(r.path.split("/")[2]) for r in fake.deduplicated()}
    assert fake.trigger_channel in deduplicated, (fake.trigger_channel, deduplicated)
    for bp in survivors:
        assert "digest for" in bp.log and "posted" in bp.log, bp.tail()
        assert "Traceback" not in bp.log, bp.tail()

    # Each process ran its own shard of three.
    shards = sorted(tuple(f["d"]["shard"]) for f in fake.gateway_received if f.get("op") == 2)
    assert shards[:3] == [(0, 3), (1, 3), (2, 3)], shards

    async with await open_store(url) as store:
        assert await store.open_claims() == []
        for channel in channels:
            slot = await store.get_slot(channel, day)
            (message,) = fake.messages(channel)
            assert slot is not None and slot.message_id == int(message["id"]), (channel, slot)
    fake.assert_no_violations()
    print(
        f"\n3 processes: {out_at_kill}/{TOTAL} out at the kill, {len(open_at_kill)} claims "
        f"taken over, {len(fake.deduplicated())} resends deduplicated, peak "
        f"{fake.peak_message_rate()}/s"
    )
