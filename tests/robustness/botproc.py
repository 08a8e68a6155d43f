"""Run the real BriefBot in its own process against a fake Discord (hard-kill tests).

Run as ``python -m tests.robustness.botproc``.

The bot is the production one (real ``Store`` on a SQLite file, real ``SystemClock``,
real ``DiscordPoster``); the only patching is ``discord.http.Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY`` (as ``tests.fakediscord.harness.patched_endpoints``
does) plus a short ``guild_ready_timeout``. Configuration comes from the environment:

==========================  =====================================================
``BOTPROC_BASE_URL``        the fake's REST base (``FakeDiscord.base_url``)
``BOTPROC_GATEWAY_URL``     the fake's gateway (``FakeDiscord.gateway_url``)
``BOTPROC_DATABASE``        the SQLite file
``BOTPROC_BRIEFS_DIR``      the briefs directory
``BOTPROC_DEV_GUILD_ID``    optional: sync the commands to this guild at start
``BOTPROC_LEASE_SECONDS``   optional: the digest claim lease (default 60)
``BOTPROC_SHARDS``          optional: ``IDS/COUNT``, e.g. ``1/3`` (AutoShardedBot)
``BOTPROC_SEND_RATE``       optional: digest messages/s for all processes together
``BOTPROC_HOST``            optional: the host name its claims record (default: this
                            host's), so one machine can play several hosts
==========================  =====================================================

Logs go to stderr. SIGTERM closes the bot cleanly; SIGKILL is what the test is about.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.app import load_briefs, make_bot
from bot.clock import SystemClock
from bot.settings import Settings
from bot.store import is_postgres, open_store
from bot.store.sqlite import this_process

log = logging.getLogger("botproc")

REPO = Path(__file__).resolve().parents[2]


def launch(
    fake_urls: tuple[str, str],
    database: str | Path,
    briefs: Path,
    log_path: Path,
    **options: str,
) -> subprocess.Popen[bytes]:
    """Start this module as a bot process (for the tests and bench.fanout_pg).

    `fake_urls` is the fake's (base_url, gateway_url); each option NAME=value becomes
    BOTPROC_NAME (see the table above). Output goes to `log_path`.
    """
    base_url, gateway_url = fake_urls
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "BOTPROC_BASE_URL": base_url,
        "BOTPROC_GATEWAY_URL": gateway_url,
        "BOTPROC_DATABASE": str(database),
        "BOTPROC_BRIEFS_DIR": str(briefs),
        **{f"BOTPROC_{name.upper()}": value for name, value in options.items()},
    }
    with log_path.open("wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "tests.robustness.botproc"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


TOKEN = "fake-token"  # the fake accepts any token; never a real one
GUILD_READY_TIMEOUT = 0.1  # discord.py waits 2 s after the last GUILD_CREATE by default


def _env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise SystemExit(f"botproc: {name} is not set")
    return value


def _local_only(url: str) -> str:
    # This entry point must never reach the real Discord.
    host = yarl.URL(url).host
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"botproc: refusing non-local endpoint {url!r}")
    return url


async def _main() -> None:
    base_url = _local_only(_env("BOTPROC_BASE_URL"))
    gateway_url = _local_only(_env("BOTPROC_GATEWAY_URL"))
    guild = os.environ.get("BOTPROC_DEV_GUILD_ID", "").strip()
    lease = dt.timedelta(seconds=float(os.environ.get("BOTPROC_LEASE_SECONDS", "60")))
    host = os.environ.get("BOTPROC_HOST", "").strip()
    owner = dataclasses.replace(this_process(), host=host) if host else this_process()
    database = _env("BOTPROC_DATABASE")
    shards = os.environ.get("BOTPROC_SHARDS", "").strip()
    settings = Settings(
        token=TOKEN,
        dev_guild_id=int(guild) if guild else None,
        briefs_dir=Path(_env("BOTPROC_BRIEFS_DIR")),
        database=database if is_postgres(database) else Path(database),
        # The index beside the test's database (or in BOTPROC_DATA_DIR), never the
        # repository's data/ folder.
        data_dir=Path(
            os.environ.get("BOTPROC_DATA_DIR")
            or (Path(_env("BOTPROC_BRIEFS_DIR")).parent / "botdata")
            if is_postgres(database)
            else Path(database).parent
        ),
        reload_seconds=0,  # no briefs watcher: nothing edits them here
        digest_lease=lease,
        send_rate=float(os.environ.get("BOTPROC_SEND_RATE") or 48),
    )
    if shards:
        ids, _, count = shards.partition("/")
        settings = settings.with_shards(ids, int(count))
    Route.BASE = base_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    library = load_briefs(settings)
    clock = SystemClock()
    async with await open_store(
        settings.database, clock=clock, owner=owner, lease=settings.digest_lease
    ) as store:
        bot = make_bot(settings, library, store, clock)
        # Lets a test's fake Discord tell this process's requests from another's.
        bot.http.user_agent += f" botproc/{os.getpid()}"
        bot._connection.guild_ready_timeout = GUILD_READY_TIMEOUT
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(bot.close()))
        async with bot:
            log.info("botproc %d starting on %s", os.getpid(), settings.database)
            await bot.start(TOKEN)
    log.info("botproc %d stopped", os.getpid())


def main() -> int:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    asyncio.run(_main())
    return 0


if __name__ == "__main__":
    sys.exit(main())
