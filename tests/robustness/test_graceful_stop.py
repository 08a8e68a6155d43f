"""A graceful stop: SIGTERM a real `briefbot run` in the middle of a digest fan-out.

The process (``tests.robustness.runcli run``: the real command line, settings from the
environment, only the base URLs pointed at the fake) must stop taking digests, finish the sends
in flight, close the gateway and the database, and exit 0. After a restart every channel has
exactly one digest: none lost, none sent twice, and nothing for Discord to deduplicate (a
graceful stop leaves no half-sent claim behind).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from aiohttp import web

from bot.store.records import SlotState
from tests.conftest import REPO
from tests.fakediscord import FakeDiscord
from tests.fakediscord.server import RECORD
from tests.robustness.test_hard_kill import (
    FINISH_TIMEOUT,
    START_TIMEOUT,
    BotProc,
    created,
    reaper,
    slot_states,
    subscribe_all,
    wait_all_sent,
    wait_for,
)

TOTAL = 120
STOP_AT = TOTAL // 4
STOP_SECONDS = 10.0  # BRIEFBOT_STOP_SECONDS: far more than the sends in flight need


class StoppingFake(FakeDiscord):
    """A fake Discord that sends SIGTERM to a process right after creating its n-th message."""

    victim: int | None = None
    stop_after = 0
    signalled_at = 0.0

    def arm(self, pid: int, after: int) -> None:
        self.victim, self.stop_after = pid, after

    async def _create_message(self, request: web.Request) -> web.Response:
        response = await super()._create_message(request)
        if self.victim is not None and response.status == 200 and not request[RECORD].deduplicated:
            self.stop_after -= 1
            if self.stop_after <= 0:
                os.kill(self.victim, signal.SIGTERM)
                self.victim = None
                self.signalled_at = time.monotonic()
        return response


def spawn_cli(fake: FakeDiscord, db: Path, briefs: Path, log_path: Path) -> BotProc:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "DISCORD_"))},
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(REPO),
        "BOTPROC_BASE_URL": fake.base_url,
        "BOTPROC_GATEWAY_URL": fake.gateway_url,
        "DISCORD_TOKEN": "fake-token",  # the fake accepts any token; never a real one
        "BRIEFBOT_DATABASE": str(db),
        "BRIEFBOT_BRIEFS_DIR": str(briefs),
        "BRIEFBOT_DEV_GUILD_ID": str(fake.guild_id),
        "BRIEFBOT_RELOAD_SECONDS": "0",
        "BRIEFBOT_DATA_DIR": str(db.parent),
        "BRIEFBOT_STOP_SECONDS": str(STOP_SECONDS),
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.robustness.runcli", "run"],
            cwd=log_path.parent,  # no .env of the repository's
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return BotProc(proc, log_path)


async def exited(bp: BotProc, seconds: float) -> int:
    await wait_for(lambda: bp.proc.poll() is not None, seconds, "the bot to exit")
    return bp.proc.returncode


async def test_sigterm_mid_fanout_finishes_in_flight_sends_and_exits_0(
    tmp_path: Path, briefs_dir: Path
) -> None:
    async with StoppingFake(check_responses=True) as fake:
        fake.enable_rate_limits()  # 50 req/s global: the fan-out takes a few seconds
        channels = [fake.channel_id + i for i in range(TOTAL)]
        db = tmp_path / "briefbot.sqlite3"
        day = await subscribe_all(db, fake.guild_id, channels)
        with reaper() as procs:
            first = spawn_cli(fake, db, briefs_dir, tmp_path / "first.log")
            procs.append(first)
            fake.arm(first.proc.pid, STOP_AT)
            await wait_for(lambda: fake.victim is None, START_TIMEOUT, "the SIGTERM", first)
            code = await exited(first, STOP_SECONDS + 5)
            took = time.monotonic() - fake.signalled_at
            assert code == 0, first.tail()
            at_stop = {c for c in channels if fake.messages(c)}
            states = await slot_states(db, channels, day)

            # Stopped mid-way: some digests out, the rest never claimed.
            assert STOP_AT <= len(at_stop) < TOTAL, len(at_stop)
            # Every claim taken was finished: each sent slot has its one message, and no slot
            # is left claimed (nothing half-sent for the restart to resume).
            sent = {c for c, s in states.items() if s is SlotState.SENT}
            assert sent == at_stop
            assert {c: s for c, s in states.items() if s not in (SlotState.SENT, None)} == {}
            log = first.log
            assert "stop signal received" in log and "stopped" in log.splitlines()[-1], log
            assert "Traceback" not in log, first.tail()
            print(f"\ngraceful stop: {len(at_stop)}/{TOTAL} digests out, exit 0 in {took:.1f}s")

            second = spawn_cli(fake, db, briefs_dir, tmp_path / "second.log")
            procs.append(second)
            await wait_for(
                lambda: all(fake.messages(c) for c in channels),
                FINISH_TIMEOUT,
                "every channel's digest",
                second,
            )
            await wait_all_sent(db, channels, day, second)
            second.proc.send_signal(signal.SIGINT)  # Ctrl-C stops as gracefully
            assert await exited(second, STOP_SECONDS + 5) == 0, second.tail()
        await asyncio.sleep(0)
        counts = created(fake)
        assert {c: counts.get(c, 0) for c in channels if counts.get(c, 0) != 1} == {}
        assert fake.deduplicated() == []  # nothing was resent: nothing was left half-sent
        assert "resuming interrupted digest" not in second.log
        fake.assert_no_violations()
