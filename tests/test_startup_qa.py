"""Start-up problems found by running briefbot for real: each is one line and an exit code."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.console import Console
from bot.app import BriefBot, ShardedBriefBot, make_bot
from bot.briefs.library import load_library
from bot.briefs.reloader import LiveLibrary
from bot.clock import Zone
from bot.doctor import _Doctor
from bot.queries import dispatch
from bot.settings import Settings, SettingsError
from bot.store.postgres import PostgresStore
from bot.store.records import Subscription
from bot.store.sqlite import Store
from tests.conftest import REPO, write_briefs
from tests.fakediscord import FakeDiscord, run_client
from tests.store.nobody import run_as_nobody, world_dir


def runcli(
    *args: str, cwd: Path, env: dict[str, str], base: str, gateway: str
) -> subprocess.CompletedProcess[str]:
    """The real command line, only Discord's base URLs pointed at a local address."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "DISCORD_"))}
    return subprocess.run(
        [sys.executable, "-m", "tests.robustness.runcli", *args],
        cwd=cwd,
        env={
            **clean,
            "PYTHONPATH": str(REPO),
            "BOTPROC_BASE_URL": base,
            "BOTPROC_GATEWAY_URL": gateway,
            "DISCORD_TOKEN": "fake-token",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_sync_while_the_bot_serves_metrics_still_syncs(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    """`briefbot sync` next to a running bot (same .env, so the same metrics address) syncs:
    it publishes commands and serves nothing (it crashed with a traceback on the busy port)."""
    with socket.socket() as running_bot:  # the running bot's metrics port
        running_bot.bind(("127.0.0.1", 0))
        running_bot.listen()
        port = running_bot.getsockname()[1]
        result = await asyncio.to_thread(
            runcli,
            "sync",
            cwd=tmp_path,
            env={
                "BRIEFBOT_BRIEFS_DIR": str(briefs_dir),
                "BRIEFBOT_DATA_DIR": str(tmp_path / "data"),
                "BRIEFBOT_METRICS_ADDR": f"127.0.0.1:{port}",
            },
            base=fake_discord.base_url,
            gateway=fake_discord.gateway_url,
        )
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("synced ") and "global commands" in result.stdout


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_run_with_a_briefs_folder_that_is_not_there_is_one_line(tmp_path: Path, kind: str) -> None:
    """A typo in BRIEFBOT_BRIEFS_DIR stops the start, naming the folder and the setting; it
    never serves (and digests from) an empty library."""
    folder = tmp_path / "breifs"
    if kind == "a file":
        folder.write_text("not a folder\n", encoding="utf-8")
    port = closed_port()  # were Discord reached, the line would be about Discord instead
    result = runcli(
        "run",
        cwd=tmp_path,
        env={"BRIEFBOT_BRIEFS_DIR": str(folder), "BRIEFBOT_DATA_DIR": str(tmp_path / "data")},
        base=f"http://127.0.0.1:{port}/api/v10",
        gateway=f"ws://127.0.0.1:{port}/",
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("briefbot:")]
    assert str(folder) in line and "BRIEFBOT_BRIEFS_DIR" in line
    assert "cannot reach Discord" not in result.stderr


@pytest.mark.parametrize("count", ["0", "-1"])
def test_a_shard_count_below_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: str
) -> None:
    """`--shard-count 0` ran the bot as 'shards  of 0' (discord.py then picked its own count)."""
    with pytest.raises(SettingsError, match="shard count must be at least 1"):
        Settings().with_shards(None, int(count))
    if count.isdigit():
        monkeypatch.setenv("BRIEFBOT_SHARD_COUNT", count)
        with pytest.raises(SettingsError, match="shard count must be at least 1"):
            Settings.from_env(tmp_path / "missing.env")


def test_briefbot_run_shard_count_zero_exits_2_with_one_line(tmp_path: Path) -> None:
    port = closed_port()
    result = runcli(
        "run",
        "--shard-count",
        "0",
        cwd=tmp_path,
        env={
            "BRIEFBOT_DATA_DIR": str(tmp_path / "data"),
            "BRIEFBOT_BRIEFS_DIR": str(REPO / "briefs"),
        },
        base=f"http://127.0.0.1:{port}/api/v10",
        gateway=f"ws://127.0.0.1:{port}/",
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "briefbot: the shard count must be at least 1, got 0"


def test_a_huge_shard_range_is_refused_at_once(tmp_path: Path) -> None:
    """`--shards 0-99999999999` was expanded into a list first (a MemoryError traceback)."""
    started = time.monotonic()
    with pytest.raises(SettingsError, match="do not fit a shard count of 2"):
        Settings().with_shards("0-99999999999", 2)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BRIEFBOT_DEV_GUILD_ID", "²"),
        ("BRIEFBOT_SHARD_COUNT", "²"),
        ("BRIEFBOT_FEED_BURST", "²"),
        ("BRIEFBOT_EDITOR_GUILD_IDS", "1,²"),
    ],
)
def test_digits_python_cannot_read_are_a_named_setting_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """'²'.isdigit() is True but int('²') fails: a ValueError traceback instead of a message."""
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(tmp_path / "missing.env")


def test_shard_ids_with_odd_digits_are_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="numbers like 0,1"):
        Settings().with_shards("²", 4)


def bot_settings(tmp_path: Path, briefs_dir: Path, fake: FakeDiscord, **more: Any) -> Settings:
    """A bot's settings against the fake: its dev guild, data under tmp_path, no watcher."""
    return Settings(
        briefs_dir=briefs_dir,
        data_dir=tmp_path / "data",
        dev_guild_id=fake.guild_id,
        reload_seconds=0,
        **more,
    )


def about_text(body: dict[str, object]) -> str:
    """Every field of an /about embed, one string."""
    data = body["data"]
    assert isinstance(data, dict)
    (embed,) = data["embeds"]
    return "\n".join(f"{f['name']}: {f['value']}" for f in embed["fields"])


async def test_about_names_a_postgresql_database_as_postgresql(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord, pg_url: str
) -> None:
    """/about said 'SQLite (127.0.0.1:5432/…)' for the shared PostgreSQL database."""
    config = bot_settings(
        tmp_path,
        briefs_dir,
        fake_discord,
        database=pg_url,
    )
    async with await PostgresStore.open(pg_url) as store:
        bot = BriefBot(settings=config, library=LiveLibrary(briefs_dir), store=store)
        async with run_client(bot, fake_discord):
            body = await fake_discord.invoke("about")
            text = await wait_for_original(fake_discord, body)
    assert "Database: PostgreSQL at " in text
    assert "SQLite" not in text


class SlowStore(Store):
    """A database answering each listing after 1.5 s: slow, still inside BRIEFBOT_DB_TIMEOUT."""

    async def list_all(self) -> list[Subscription]:
        await asyncio.sleep(1.5)
        return await super().list_all()


async def test_about_answers_in_time_over_a_slow_database(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    """/about reads the subscriptions twice (and each one's next slot): over a slow database
    it missed Discord's 3 s and the member saw 'The application did not respond'."""
    db = tmp_path / "briefbot.sqlite3"
    config = bot_settings(
        tmp_path,
        briefs_dir,
        fake_discord,
        database=db,
    )
    async with await SlowStore.open(db) as store:
        await Store.upsert_subscription(
            store,
            guild_id=fake_discord.guild_id,
            channel_id=fake_discord.channel_id,
            local_time=dt.time(8, 30),
            timezone=Zone.named("UTC"),
            created_by=1,
        )
        bot = BriefBot(settings=config, library=LiveLibrary(briefs_dir), store=store)
        async with run_client(bot, fake_discord):
            body = await fake_discord.invoke("about")
            answer = await wait_for_original(fake_discord, body)
    assert "Subscriptions: 1 active, 0 paused" in answer


async def wait_for_original(fake: FakeDiscord, body: dict[str, object]) -> str:
    """The text of the answer: the first response, or the deferred one once it is edited in."""
    if body.get("type") == 4:
        return about_text(body)
    assert body.get("type") == 5, body  # deferred: the answer follows as an edit
    data = body.get("data")
    assert isinstance(data, dict) and data.get("flags", 0) & 64, "the deferral is private"
    edit = await fake.wait_for_request(
        lambda r: r.method in {"PATCH", "POST"} and "/webhooks/" in r.path, timeout=15
    )
    return about_text({"data": edit.json})


async def test_a_sharded_bot_is_ready_and_about_names_its_shards(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    """A sharded process (AutoShardedBot) has no `ws` of its own: /readyz said 'gateway: not
    connected yet' forever, and /about never named the shards this process runs."""
    db = tmp_path / "briefbot.sqlite3"
    config = bot_settings(
        tmp_path,
        briefs_dir,
        fake_discord,
        database=db,
        metrics_addr=("127.0.0.1", 0),
        shard_count=2,
        shard_ids=(1,),
    )
    async with await Store.open(db) as store:
        bot = make_bot(config, LiveLibrary(briefs_dir), store)
        assert isinstance(bot, ShardedBriefBot)
        async with run_client(bot, fake_discord):
            assert bot.ops is not None
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
                session.get(f"http://127.0.0.1:{bot.ops.port}/readyz") as response,
            ):
                ready = await response.json()
            body = await fake_discord.invoke("about")
            about = await wait_for_original(fake_discord, body)
    assert ready["checks"]["gateway"] == "ok", ready
    assert response.status == 200
    assert "Shards: 2 (this process: 1)" in about


def test_doctor_with_discord_out_of_reach_is_a_failed_check(
    tmp_path: Path, briefs_dir: Path
) -> None:
    """The doctor is what an operator runs when things fail: no network was a traceback."""
    port = closed_port()
    result = runcli(
        "doctor",
        cwd=tmp_path,
        env={"BRIEFBOT_BRIEFS_DIR": str(briefs_dir), "BRIEFBOT_DATA_DIR": str(tmp_path / "data")},
        base=f"http://127.0.0.1:{port}/api/v10",
        gateway=f"ws://127.0.0.1:{port}/",
    )
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    assert f"  [FAIL] token: cannot reach Discord (127.0.0.1:{port}: " in result.stdout
    assert "         fix: check the network" in result.stdout
    # The checks that need no Discord still ran.
    assert f"  [ok] briefs: 1 brief(s) in {briefs_dir}, no errors" in result.stdout


def test_doctor_says_a_missing_briefs_folder_is_not_watched(tmp_path: Path) -> None:
    """It said 'edits to /nowhere go live at once: file events' for a folder not there."""
    folder = tmp_path / "nowhere"
    doctor = _Doctor(Settings(briefs_dir=folder, data_dir=tmp_path / "data", reload_seconds=5))
    doctor.watcher()
    (check,) = doctor.checks
    assert not check.ok
    assert check.detail == f"{folder} does not exist: no edits to watch"
    assert "BRIEFBOT_BRIEFS_DIR" in check.fix


def nobody_setup() -> tuple[Path, dict[str, str]]:
    """Briefs anyone may read, and a data folder (with its index) only root may write."""
    folder = world_dir()
    briefs = write_briefs(folder / "briefs")
    data = folder / "data"
    data.mkdir()
    load_library(briefs, data / "briefs.index.sqlite3").close()  # the bot's index, root's
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    env = {"BRIEFBOT_BRIEFS_DIR": str(briefs), "BRIEFBOT_DATA_DIR": str(data)}
    return folder, env


def test_ask_by_a_user_who_cannot_write_the_bots_index_still_answers() -> None:
    """An analyst with read access to the bot's folders: `ask` was an IndexUnusable traceback;
    it answers from a private index and says why once."""
    folder, env = nobody_setup()
    result = run_as_nobody(["-m", "bot", "ask", '/quotes speaker:"mayor doe"'], env=env, cwd=folder)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert "Quotes by Jane Doe" in result.stdout
    assert f"{folder / 'data'} is not writable by this user" in result.stderr


def test_doctor_by_a_user_who_cannot_write_the_index_reports_it() -> None:
    folder, env = nobody_setup()
    result = run_as_nobody(["-m", "bot", "doctor"], env=env, cwd=folder)
    assert "Traceback" not in result.stderr
    assert "  [ok] briefs: 1 brief(s) in" in result.stdout
    assert f"  [FAIL] index: {folder / 'data'} is not writable by this user" in result.stdout


def test_run_with_an_index_folder_it_cannot_write_is_one_line(tmp_path: Path) -> None:
    """The database elsewhere, the data folder read-only: 'could not start: IndexUnusable:
    cannot be opened (…)' named neither the file nor the setting."""
    folder, env = nobody_setup()
    database = world_dir()
    database.chmod(0o777)
    port = closed_port()
    result = run_as_nobody(
        ["-m", "bot", "run"],
        env={
            **env,
            "DISCORD_TOKEN": "fake-token",
            "BRIEFBOT_DATABASE": str(database / "bot.sqlite3"),
        },
        cwd=folder,
    )
    del port
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("briefbot:")]
    assert str(folder / "data") in line and "BRIEFBOT_DATA_DIR" in line


@pytest.mark.parametrize("target", ["same", "dotted", "wal"])
async def test_db_backup_onto_the_live_database_is_refused(tmp_path: Path, target: str) -> None:
    """`db backup data/briefbot.sqlite3 --force` (or its -wal file) replaced the live file
    with a copy: the running bot kept writing to the deleted one, and lost every write."""
    db = tmp_path / "data" / "briefbot.sqlite3"
    path = {
        "same": db,
        "dotted": tmp_path / "data" / ".." / "data" / "briefbot.sqlite3",
        "wal": db.with_name(db.name + "-wal"),
    }[target]
    async with await Store.open(db) as bot_store:  # the bot, running
        await bot_store.upsert_subscription(
            guild_id=1,
            channel_id=2,
            local_time=dt.time(8),
            timezone=Zone.named("UTC"),
            created_by=3,
        )
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "DISCORD_"))}
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot", "db", "backup", str(path), "--force"],
            cwd=tmp_path,
            env={**clean, "PYTHONPATH": str(REPO), "BRIEFBOT_DATABASE": str(db)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        # The bot goes on: a subscription made after the operator's command.
        await bot_store.upsert_subscription(
            guild_id=1,
            channel_id=4,
            local_time=dt.time(9),
            timezone=Zone.named("UTC"),
            created_by=3,
        )
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("briefbot: ") and "the database itself" in result.stderr
    async with await Store.open(db) as reopened:
        assert {s.channel_id for s in await reopened.list_all()} == {2, 4}


def test_ask_about_with_options_says_it_takes_none(tmp_path: Path) -> None:
    """'/about verbose:yes' said "unknown command '/about' … offline also: /about"."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "DISCORD_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "/about verbose:yes"],
        cwd=REPO,
        env={**clean, "BRIEFBOT_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "briefbot: /about takes no options\n"


def test_ctrl_c_during_a_console_command_returns_to_the_prompt(
    briefs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while a command runs (a slow search) ended the console with a traceback; as in a
    shell, it drops that command and the prompt comes back."""
    real = dispatch.run
    interrupted = False

    def ctrl_c_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal interrupted
        if not interrupted:  # the user's Ctrl-C arrives while the first command runs
            interrupted = True
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(dispatch, "run", ctrl_c_once)
    out = io.StringIO()
    console = Console(briefs_dir, stdin=io.StringIO("/search query:budget\n/briefs\n"), stdout=out)
    assert console.run() == 0
    text = out.getvalue()
    assert "interrupted" in text
    assert "council-budget" in text  # the next command was answered


@pytest.mark.parametrize("command", [["ask", "/briefs"], ["console"]])
def test_ask_with_a_briefs_folder_not_there_names_it_and_leaves_the_index_alone(
    tmp_path: Path, briefs_dir: Path, command: list[str]
) -> None:
    """A mistyped BRIEFBOT_BRIEFS_DIR said 'No briefs are loaded. Add YAML files…' and rebuilt
    the bot's shared index for the wrong folder (the running bot then rebuilt it back)."""
    data = tmp_path / "data"
    load_library(briefs_dir, data / "briefs.index.sqlite3").close()  # the running bot's index
    before = (data / "briefs.index.sqlite3").stat()
    missing = tmp_path / "breifs"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "DISCORD_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        cwd=tmp_path,
        env={
            **clean,
            "PYTHONPATH": str(REPO),
            "BRIEFBOT_DATA_DIR": str(data),
            "BRIEFBOT_BRIEFS_DIR": str(missing),
        },
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"briefbot: briefs folder {missing} does not exist: set BRIEFBOT_BRIEFS_DIR to the "
        "folder of your briefs (or create it)\n"
    )
    after = (data / "briefs.index.sqlite3").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


async def test_sync_to_a_guild_the_bot_is_not_in_says_so(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    """`briefbot sync --guild ID` where Discord answers 403: 'could not start: Forbidden: …'
    (or a traceback, before) instead of what to do."""
    fake_discord.fail_next("PUT", r"/commands$", 403)
    result = await asyncio.to_thread(
        runcli,
        "sync",
        "--guild",
        "123456789012345678",
        cwd=tmp_path,
        env={"BRIEFBOT_BRIEFS_DIR": str(briefs_dir), "BRIEFBOT_DATA_DIR": str(tmp_path / "data")},
        base=fake_discord.base_url,
        gateway=fake_discord.gateway_url,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("briefbot: Discord refused the sync (403")
    assert "applications.commands" in line and "123456789012345678" in line


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://bot:s3cret-pw@db:5432/briefbot",
        "mysql://bot:s3cret-pw@db/briefbot",
        "PostgreSQL://bot:s3cret-pw@db/briefbot",
    ],
)
def test_a_database_url_of_another_kind_is_refused_without_its_password(
    tmp_path: Path, url: str
) -> None:
    """Any URL but postgresql:// was taken for a SQLite path: `run` created the folders
    'postgresql+asyncpg:/bot:s3cret-pw@db:5432/' and logged the password in their name."""
    result = runcli(
        "run",
        cwd=tmp_path,
        env={
            "BRIEFBOT_DATABASE": url,
            "BRIEFBOT_BRIEFS_DIR": str(REPO / "briefs"),
            "BRIEFBOT_DATA_DIR": str(tmp_path / "data"),
        },
        base="http://127.0.0.1:9/api/v10",
        gateway="ws://127.0.0.1:9/",
    )
    assert result.returncode == 2, result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout
    scheme = url.split("://", maxsplit=1)[0]
    assert result.stderr == (
        f"briefbot: BRIEFBOT_DATABASE must be a SQLite file (a path or sqlite:///path) or a "
        f"postgresql:// URL, got a {scheme}:// URL\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("env_file", ["none", "empty token"])
def test_no_token_names_the_env_file_it_looked_at(tmp_path: Path, env_file: str) -> None:
    """First run: `cp .env.example .env`, token not filled in, or started from another folder
    (a service without WorkingDirectory): the line says which .env was read and what it lacked."""
    dotenv = tmp_path / ".env"
    if env_file == "empty token":
        dotenv.write_text((REPO / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "DISCORD_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(REPO), "BRIEFBOT_DATA_DIR": str(tmp_path / "data")},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    expected = (
        f"DISCORD_TOKEN is empty in {dotenv}"
        if env_file == "empty token"
        else f"there is no {dotenv}"
    )
    assert expected in line, line


@pytest.mark.parametrize(
    ("args", "stdin"),
    [(["check", "briefs"], ""), (["console"], "/summary\n" * 50), (["ask", "/summary"], "")],
)
def test_output_into_a_closed_pipe_is_no_traceback(
    tmp_path: Path, args: list[str], stdin: str
) -> None:
    """`briefbot check briefs | head -1`: the reader leaves early; a BrokenPipeError traceback
    followed on stderr."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "DISCORD_"))}
    read_end, write_end = os.pipe()
    os.close(read_end)  # `head` has read its line and gone
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=REPO,
            env={**clean, "BRIEFBOT_DATA_DIR": str(tmp_path / "data")},
            input=stdin,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr
    assert result.returncode == 1


def test_run_with_a_data_folder_that_is_a_file_names_it(tmp_path: Path) -> None:
    """The database set elsewhere, BRIEFBOT_DATA_DIR a file: one line about the index folder."""
    data = tmp_path / "data"
    data.write_text("not a folder\n", encoding="utf-8")
    result = runcli(
        "run",
        cwd=tmp_path,
        env={
            "BRIEFBOT_BRIEFS_DIR": str(REPO / "briefs"),
            "BRIEFBOT_DATA_DIR": str(data),
            "BRIEFBOT_DATABASE": str(tmp_path / "bot.sqlite3"),
        },
        base="http://127.0.0.1:9/api/v10",
        gateway="ws://127.0.0.1:9/",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"briefbot: brief index: {data} is a file, not a folder: make BRIEFBOT_DATA_DIR "
        "writable by the user running briefbot, or point it at a folder that is"
    )


SHAPED = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (f"Bot {SHAPED}", "DISCORD_TOKEN starts with 'Bot ': put the token alone"),
        (f"'{SHAPED}'", "DISCORD_TOKEN is in quotes: put the token alone"),
        (f'"{SHAPED}"', "DISCORD_TOKEN is in quotes: put the token alone"),
        (f"{SHAPED[:20]} {SHAPED[20:]}", "DISCORD_TOKEN holds a space: put the token alone"),
    ],
)
def test_a_token_pasted_with_extras_is_named_without_showing_it(
    tmp_path: Path, value: str, says: str
) -> None:
    """A token copied with its 'Bot ' prefix (HTTP examples) or quoted in a service file's
    Environment= was sent as is: 'Discord rejected the token', with no hint why."""
    result = runcli(
        "run",
        cwd=tmp_path,
        env={"DISCORD_TOKEN": value, "BRIEFBOT_DATA_DIR": str(tmp_path / "data")},
        base="http://127.0.0.1:9/api/v10",
        gateway="ws://127.0.0.1:9/",
    )
    assert result.returncode == 2
    assert result.stderr == f"briefbot: {says}\n"
    assert SHAPED[30:] not in result.stderr


async def test_a_dev_guild_the_bot_cannot_sync_to_is_named_with_the_fix(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    """A wrong BRIEFBOT_DEV_GUILD_ID, or an invite without applications.commands: the start
    ended in 'could not start: Forbidden: 403 …', naming neither the setting nor the fix."""
    fake_discord.fail_next("PUT", r"/guilds/\d+/commands$", 403)
    result = await asyncio.to_thread(
        runcli,
        "run",
        cwd=tmp_path,
        env={
            "BRIEFBOT_BRIEFS_DIR": str(briefs_dir),
            "BRIEFBOT_DATA_DIR": str(tmp_path / "data"),
            "BRIEFBOT_DEV_GUILD_ID": str(fake_discord.guild_id),
        },
        base=fake_discord.base_url,
        gateway=fake_discord.gateway_url,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(
        f"briefbot: cannot sync the commands to the dev guild {fake_discord.guild_id} "
        "(BRIEFBOT_DEV_GUILD_ID): 403"
    ), line
    assert "applications.commands" in line and "https://discord.com/oauth2/authorize?" in line


def test_a_relative_briefs_folder_not_there_is_shown_where_it_was_looked_for(
    tmp_path: Path,
) -> None:
    """Started from another folder (a service without a working directory), 'briefs folder
    briefs does not exist' did not say where it looked."""
    result = runcli(
        "run",
        cwd=tmp_path,
        env={"BRIEFBOT_DATA_DIR": str(tmp_path / "data")},
        base="http://127.0.0.1:9/api/v10",
        gateway="ws://127.0.0.1:9/",
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"briefbot: briefs folder briefs ({tmp_path / 'briefs'}) does not exist: ")
    )
