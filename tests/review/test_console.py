"""`briefbot ask "/brief history"` offline: reads the database, never changes it."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from bot.store.records import DraftOrigin, NewDraft
from bot.store.sqlite import Store
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
    assert one.returncode == 1 and "Nothing has been published" in one.stdout
    assert db.read_bytes() == before  # read-only
    draft = briefbot("ask", "/brief draft", cwd=tmp_path, env=env)
    assert draft.returncode == 2 and "only /brief history" in draft.stderr


def test_brief_history_without_a_database_says_so(tmp_path: Path) -> None:
    env = {"BRIEFBOT_DATABASE": str(tmp_path / "none.sqlite3")}
    done = briefbot("ask", "/brief history", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "no database here" in done.stderr
    assert not (tmp_path / "none.sqlite3").exists()
