"""`briefbot ask "/brief history"` offline: reads the database, never changes it."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from bot.store.records import DraftOrigin, NewDraft
from bot.store.sqlite import Store
from tests.conftest import write_briefs
from tests.test_cli import briefbot


async def publish_one(db: Path) -> None:
    async with await Store.open(db) as store:
        draft = await store.create_draft(
            NewDraft(1, 7, "council-budget", "id: x\n", "text", DraftOrigin.PASTE),
            dt.timedelta(days=7),
        )
        await store.claim_publish(draft.id, 7, dt.timedelta(minutes=2))
        await store.finish_publish(draft.id, 7)


def test_brief_history_offline(tmp_path: Path) -> None:
    db = tmp_path / "briefbot.sqlite3"
    asyncio.run(publish_one(db))
    before = db.read_bytes()
    env = {"BRIEFBOT_DATABASE": str(db)}
    done = briefbot("ask", "/brief history", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "council-budget" in done.stdout and "published by user 7" in done.stdout
    one = briefbot("ask", "/brief history brief:other", cwd=tmp_path, env=env)
    assert one.returncode == 1 and "No brief is called 'other'" in one.stdout
    assert db.read_bytes() == before  # read-only
    draft = briefbot("ask", "/brief draft", cwd=tmp_path, env=env)
    assert draft.returncode == 2 and "only /brief history" in draft.stderr


def test_brief_history_without_a_database_says_so(tmp_path: Path) -> None:
    env = {"BRIEFBOT_DATABASE": str(tmp_path / "none.sqlite3")}
    done = briefbot("ask", "/brief history", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "no database here" in done.stderr
    assert not (tmp_path / "none.sqlite3").exists()


def test_the_console_answers_brief_history_as_discord_does(tmp_path: Path) -> None:
    db = tmp_path / "briefbot.sqlite3"
    asyncio.run(publish_one(db))
    before = db.read_bytes()
    root = write_briefs(tmp_path / "b")
    lines = [
        "/brief history",
        '/brief history brief:"council-budget"',
        "brief history council-budgt",
        "/brief history brief:nope",
        "/brief draft",
        "/brief history colour:red",
        "/briefs",
    ]
    result = briefbot(
        "console",
        "--briefs",
        str(root),
        cwd=tmp_path,
        env={"BRIEFBOT_DATABASE": str(db), "HOME": str(tmp_path)},
        stdin="\n".join(lines) + "\n",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("published by user 7") == 2  # every brief, then the one named
    assert "Brief history of council-budget" in out
    # The same did-you-mean as Discord: what was not found, and what is close.
    assert "No brief is called 'council-budgt'" in out and "Did you mean" in out
    assert "No brief is called 'nope'" in out
    assert "Recently published or discarded" in out
    assert "only /brief history [brief:<id>] works offline" in out
    assert "/brief history has no option 'colour'" in out
    assert "Briefs (1)" in out  # the query commands still answer after it
    assert db.read_bytes() == before  # read-only


def test_ask_brief_history_suggests_close_briefs_too(tmp_path: Path) -> None:
    db = tmp_path / "briefbot.sqlite3"
    asyncio.run(publish_one(db))
    root = write_briefs(tmp_path / "b")
    env = {"BRIEFBOT_DATABASE": str(db)}
    done = briefbot(
        "ask", "/brief history brief:council-budgt", "--briefs", str(root), cwd=tmp_path, env=env
    )
    assert done.returncode == 1
    assert "No brief is called 'council-budgt'" in done.stdout
    assert "council-budget" in done.stdout.split("Did you mean", 1)[1]


def test_the_console_without_a_database_says_which_setting_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite3"
    result = briefbot(
        "console",
        "--briefs",
        str(write_briefs(tmp_path / "b")),
        cwd=tmp_path,
        env={"BRIEFBOT_DATABASE": str(missing), "HOME": str(tmp_path)},
        stdin="/brief history\n/briefs\n",
    )
    assert result.returncode == 0, result.stderr
    assert "no database here (/brief history reads the bot's database: BRIEFBOT_DATABASE)" in (
        result.stdout
    )
    assert "Briefs (1)" in result.stdout
    assert not missing.exists()  # never created by a read
