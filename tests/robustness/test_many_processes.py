"""Two and three real bot processes on one SQLite file, all due at once: every digest is posted
exactly once; and one of two SIGKILLed mid fan-out is resumed by the other after the lease.

The processes (``tests.robustness.botproc``: the production bot, real Store, real clock) run
against one fake Discord with its rate limits on (50 requests/s global, shared by the token
they all use). The fake holds every READY until all of them have identified, so their
schedulers start together and race for the same claims.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.robustness.botproc import launch
from tests.robustness.test_hard_kill import (
    BotProc,
    KillingFake,
    created,
    opened,
    reap,
    reaper,
    subscribe_all,
    wait_all_sent,
    wait_for,
)

CHANNELS = 120
LEASE = 3.0
FINISH_TIMEOUT = 30.0
RESUMED = re.compile(r"channel (\d+): resuming interrupted digest")
POSTED = re.compile(r"channel (\d+): digest for \S+ \S+ posted")


class GatedFake(KillingFake):
    """Answers IDENTIFY only once `expected` clients have sent it: they get READY together."""

    expected = 1
    _arrived = 0
    _gate: asyncio.Event | None = None

    async def _identify(self, conn: Any, data: dict[str, Any]) -> None:
        if self._gate is None:
            self._gate = asyncio.Event()
        self._arrived += 1
        if self._arrived >= self.expected:
            self._gate.set()
        await asyncio.wait_for(self._gate.wait(), 30)
        await super()._identify(conn, data)


def spawn(fake: GatedFake, db: Path, briefs: Path, log_path: Path, host: str) -> BotProc:
    urls = (fake.base_url, fake.gateway_url)
    proc = launch(urls, db, briefs, log_path, lease_seconds=str(LEASE), host=host)
    return BotProc(proc, log_path)


def exactly_once(fake: GatedFake, channels: list[int]) -> None:
    counts = created(fake)
    wrong = {c: counts.get(c, 0) for c in channels if counts.get(c, 0) != 1}
    assert not wrong, f"channels without exactly one digest: {wrong}"


@pytest.mark.parametrize("processes", [2, 3])
async def test_processes_on_one_file_post_each_digest_exactly_once(
    tmp_path: Path, briefs_dir: Path, processes: int
) -> None:
    started = time.monotonic()
    async with GatedFake(check_responses=True) as fake:
        fake.expected = processes
        limiter = fake.enable_rate_limits()
        channels = [fake.channel_id + i for i in range(CHANNELS)]
        db = tmp_path / "briefbot.sqlite3"
        day = await subscribe_all(db, fake.guild_id, channels)
        with reaper() as procs:
            for n in range(processes):
                procs.append(spawn(fake, db, briefs_dir, tmp_path / f"p{n}.log", "this-host"))
            try:
                await wait_for(
                    lambda: all(fake.messages(c) for c in channels),
                    FINISH_TIMEOUT,
                    "every channel's digest",
                    procs[0],
                )
            except AssertionError as exc:
                # Any of them may be the one that went wrong: every process's story.
                stories = "\n".join(f"--- process {n}:\n{bp.story()}" for n, bp in enumerate(procs))
                raise AssertionError(f"{exc}\n{stories}") from None
            await wait_all_sent(db, channels, day, procs[0])
            for bp in procs:
                bp.proc.send_signal(signal.SIGTERM)
            for bp in procs:
                await reap(bp)
        exactly_once(fake, channels)
        # Not even a deduplicated resend: no slot was ever sent by two processes.
        posts = Counter(
            int(r.path.split("/")[2])
            for r in fake.requests("POST", path_contains="/messages")
            if r.status == 200
        )
        assert set(posts.values()) == {1}, posts
        shares = [len(POSTED.findall(bp.log)) for bp in procs]
        assert sum(shares) == CHANNELS, shares
        for bp in procs:
            assert "Traceback" not in bp.log, bp.tail()
            # Opening the index while another process builds it never takes that build for
            # a damaged index (deleting it left that process serving no briefs).
            assert "rebuilding" not in bp.log, bp.story()
        fake.assert_no_violations()
    print(
        f"\n{processes} processes: digests per process {shares}, "
        f"{limiter.hits} 429s, {time.monotonic() - started:.1f}s"
    )


async def test_a_process_killed_mid_fanout_is_resumed_by_the_other_after_the_lease(
    tmp_path: Path, briefs_dir: Path
) -> None:
    async with GatedFake(check_responses=True) as fake:
        fake.expected = 2
        fake.enable_rate_limits()
        channels = [fake.channel_id + i for i in range(CHANNELS)]
        db = tmp_path / "briefbot.sqlite3"
        day = await subscribe_all(db, fake.guild_id, channels)
        with reaper() as procs:
            # Two hosts: the survivor cannot see that the victim died, only its lease end.
            victim = spawn(fake, db, briefs_dir, tmp_path / "victim.log", "host-a")
            survivor = spawn(fake, db, briefs_dir, tmp_path / "survivor.log", "host-b")
            procs += [victim, survivor]
            fake.arm(victim.proc.pid, CHANNELS // 5)
            await wait_for(lambda: victim.proc.poll() is not None, FINISH_TIMEOUT, "the kill")
            killed_at = time.monotonic()
            assert victim.proc.returncode == -signal.SIGKILL, victim.tail()
            async with opened(db) as store:
                held = {
                    c.channel_id
                    for c in await store.open_claims()
                    if c.owner is not None and c.owner.pid == victim.proc.pid
                }
            assert held, "the victim held no claim at the kill"
            assert len(created(fake)) < CHANNELS  # killed mid fan-out

            await wait_for(
                lambda: all(fake.messages(c) for c in channels),
                FINISH_TIMEOUT,
                "every channel's digest",
                survivor,
            )
            done_at = time.monotonic()
            await wait_all_sent(db, channels, day, survivor)
            survivor.proc.send_signal(signal.SIGTERM)
            await reap(survivor)
        exactly_once(fake, channels)
        # Exactly the victim's open claims were resumed, with their nonces, after the lease.
        resumed = {int(m) for m in RESUMED.findall(survivor.log)}
        assert resumed == held, (resumed, held)
        assert done_at - killed_at >= LEASE - 1.0, done_at - killed_at
        # Every send of a held slot, the victim's and the survivor's, carried the slot's nonce.
        async with opened(db) as store:
            nonces = {c: (await store.get_slot(c, day)) for c in held}
        for request in fake.requests("POST", path_contains="/messages"):
            channel = int(request.path.split("/")[2])
            if channel in held:
                slot = nonces[channel]
                assert slot is not None and request.json["nonce"] == slot.nonce
                assert f"-{day:%y%m%d}" in request.json["nonce"]
        assert "Traceback" not in survivor.log, survivor.tail()
        fake.assert_no_violations()
    print(
        f"\nkill: victim held {len(held)} claims, {len(fake.deduplicated())} resends deduplicated"
    )
