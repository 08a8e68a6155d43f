"""One index shared by real processes: `briefbot ask` beside the bot, and beside a writer."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from bot.briefs.index import INDEX_FILE, BriefIndex
from bot.briefs.reloader import LiveLibrary
from tests.briefs.test_index import OTHER
from tests.conftest import REPO, write_briefs

# Holds the index's write lock, as another briefbot process syncing would, until told to stop.
HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def ask(line: str, root: Path, data: Path) -> subprocess.Popen[str]:
    """Start `briefbot ask` as a user would, on the index in `data`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BRIEFBOT_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", line],
        cwd=REPO,
        # The configured folder (not --briefs, which would get a private index).
        env={**env, "BRIEFBOT_BRIEFS_DIR": str(root), "BRIEFBOT_DATA_DIR": str(data)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ask_waits_for_a_process_writing_the_index_says_so_and_answers_from_the_files(
    tmp_path: Path,
) -> None:
    root, data = write_briefs(tmp_path / "briefs"), tmp_path / "data"
    BriefIndex(root, data / INDEX_FILE).sync()
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")  # added since
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data / INDEX_FILE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        asking = ask("/search query:ferry", root, data)
        assert asking.stderr is not None
        # The wait is logged before anything is answered; then the writer finishes.
        assert "is being written by another process: waiting" in asking.stderr.readline()
        assert asking.poll() is None
        holder.communicate("done\n", timeout=30)
        out, err = asking.communicate(timeout=60)
    finally:
        for process in (holder, locals().get("asking")):
            if isinstance(process, subprocess.Popen) and process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    assert asking.returncode == 0, err
    assert "Harbour **ferry** restarts" in out  # the new file, synced once the lock was free
    assert "Traceback" not in err


async def test_the_bot_and_several_asks_share_one_index_at_the_same_time(tmp_path: Path) -> None:
    root = await asyncio.to_thread(write_briefs, tmp_path / "briefs")
    data = tmp_path / "data"
    live = await asyncio.to_thread(LiveLibrary, root, data / INDEX_FILE)  # the bot
    await asyncio.to_thread((root / "other.yaml").write_text, OTHER, "utf-8")
    asks = [ask("/search query:ferry", root, data) for _ in range(3)]
    report = await live.reload()  # the bot reloads while they sync and read
    results = [await asyncio.to_thread(p.communicate, timeout=60) for p in asks]
    assert report.total == 2 and live.current().get("other-story") is not None
    for process, (out, err) in zip(asks, results, strict=True):
        assert process.returncode == 0, err
        assert "Harbour **ferry** restarts" in out and "Traceback" not in err
    # One index, shared: nothing left to parse, and every process saw the same briefs.
    assert (data / INDEX_FILE).exists() and list(data.iterdir()) != []
    assert BriefIndex(root, data / INDEX_FILE).sync().parsed == 0


def test_ask_held_off_past_its_wait_says_so_in_one_line(tmp_path: Path) -> None:
    root, data = write_briefs(tmp_path / "briefs"), tmp_path / "data"
    BriefIndex(root, data / INDEX_FILE).sync()
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")  # to be synced: needs the lock
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data / INDEX_FILE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    # `briefbot ask` as installed, but waiting a second instead of 30.
    short_wait = (
        "import sys; import bot.briefs.index as index; index.BUSY_TIMEOUT_S = 1.0; "
        "from bot.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BRIEFBOT_"))}
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        result = subprocess.run(
            [sys.executable, "-c", short_wait, "ask", "/search query:ferry"],
            cwd=REPO,
            env={**env, "BRIEFBOT_BRIEFS_DIR": str(root), "BRIEFBOT_DATA_DIR": str(data)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        holder.communicate("done\n", timeout=30)
    assert result.returncode == 1 and result.stdout == ""  # no answer from a stale index
    assert "Traceback" not in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("briefbot:")]
    assert line == (
        f"briefbot: brief index {data / INDEX_FILE} is being written by another process "
        "(database is locked, 1 s waited): try again when it is done"
    )
