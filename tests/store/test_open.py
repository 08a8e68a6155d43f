"""The database checked at open, and damage found later: one clear line, never a traceback."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

import pytest

from bot.clock import Zone
from bot.store.records import SchemaTooNewError, StoreDamagedError, StoreError
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.store.nobody import run_as_nobody, world_dir

START = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 6)


def populated(path: Path, channels: int = 300) -> Path:
    """A real database with enough rows to span many pages."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        for number, statements in MIGRATIONS:
            for statement in statements:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        now = START.isoformat()
        db.executemany(
            "INSERT INTO subscriptions (channel_id, guild_id, local_time, timezone, topics, "
            "created_by, updated_by, created_at, updated_at) "
            "VALUES (?, 1, '08:30', 'UTC', ?, 7, 7, ?, ?)",
            [
                (c, json.dumps([f"topic-{c}-{n}" for n in range(20)]), now, now)
                for c in range(channels)
            ],
        )
    db.close()
    return path


def one_line(error: BaseException, path: Path) -> str:
    message = str(error)
    assert "\n" not in message and str(path) in message, message
    return message


async def test_a_truncated_database_is_refused_at_open(tmp_path: Path) -> None:
    path = populated(tmp_path / "briefbot.sqlite3")
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.truncate(size // 2)
    with pytest.raises(StoreDamagedError) as caught:
        await Store.open(path)
    assert "restore a backup" in one_line(caught.value, path)
    assert path.stat().st_size == size // 2  # nothing written into the damaged file


async def test_random_bytes_are_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "briefbot.sqlite3"
    path.write_bytes(os.urandom(8192))
    before = path.read_bytes()
    with pytest.raises(StoreDamagedError) as caught:
        await Store.open(path)
    assert "not a SQLite database" in one_line(caught.value, path)
    assert path.read_bytes() == before


async def test_a_damaged_page_is_found_by_the_quick_check(tmp_path: Path) -> None:
    path = populated(tmp_path / "briefbot.sqlite3")
    with path.open("r+b") as file:  # scribble over the middle of the file, header intact
        file.seek(path.stat().st_size // 2)
        file.write(b"\xff" * 4096)
    with pytest.raises(StoreDamagedError) as caught:
        await Store.open(path)
    assert "damaged" in one_line(caught.value, path)


async def test_a_newer_schema_is_refused_without_touching_the_file(tmp_path: Path) -> None:
    path = populated(tmp_path / "briefbot.sqlite3", channels=1)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(SchemaTooNewError) as caught:
        await Store.open(path)
    assert "upgrade briefbot" in one_line(caught.value, path)


async def test_a_directory_in_place_of_the_database(tmp_path: Path) -> None:
    path = tmp_path / "briefbot.sqlite3"
    path.mkdir()
    with pytest.raises(StoreError) as caught:
        await Store.open(path)
    assert "is a directory" in one_line(caught.value, path)


async def test_a_file_in_place_of_its_folder(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    path = tmp_path / "data" / "briefbot.sqlite3"
    with pytest.raises(StoreError) as caught:
        await Store.open(path)
    assert "is a file, not a folder" in one_line(caught.value, path.parent)


async def test_a_pipe_in_place_of_the_database_is_refused_not_opened(tmp_path: Path) -> None:
    path = tmp_path / "briefbot.sqlite3"
    os.mkfifo(path)
    with pytest.raises(StoreError) as caught:
        await Store.open(path)
    assert "not a regular file" in one_line(caught.value, path)


PROBE = """
import asyncio, sys
from bot.store.sqlite import Store
from bot.store.records import StoreError

async def main():
    try:
        store = await Store.open(sys.argv[1])
    except StoreError as exc:
        print(exc)
        sys.exit(3)
    await store.close()

asyncio.run(main())
"""


def test_a_read_only_database_is_refused_at_open() -> None:
    folder = world_dir()
    path = populated(folder / "briefbot.sqlite3", channels=3)
    path.chmod(0o644)  # root's: nobody may read it, not write it
    result = run_as_nobody(["-c", PROBE, str(path)])
    assert result.returncode == 3, result
    assert result.stdout.strip().endswith("writable by the user running briefbot"), result
    assert str(path) in result.stdout and "Traceback" not in result.stderr


def test_a_folder_that_cannot_be_created_is_one_line() -> None:
    path = world_dir() / "data" / "briefbot.sqlite3"
    result = run_as_nobody(["-c", PROBE, str(path)])
    assert result.returncode == 3, result
    assert "cannot be created (Permission denied)" in result.stdout, result
    assert str(path.parent) in result.stdout and "Traceback" not in result.stderr


async def test_a_damaged_row_is_a_store_error_not_an_assertion(tmp_path: Path) -> None:
    path = tmp_path / "briefbot.sqlite3"
    async with await Store.open(path, clock=FakeClock(START)) as store:
        await store.upsert_subscription(
            guild_id=1,
            channel_id=5,
            local_time=dt.time(8),
            timezone=Zone.named("UTC"),
            created_by=7,
        )
        await store.claim_slot(5, DAY, "n")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE subscriptions SET updated_at = 'last tuesday'")
        db.execute('UPDATE digest_slots SET brief_ids = \'{"not": "a list"}\'')
    db.close()
    async with await Store.open(path) as store:
        with pytest.raises(StoreDamagedError, match=r"subscriptions \(channel 5\): .*last tuesday"):
            await store.list_enabled()
        with pytest.raises(StoreDamagedError, match=r"digest_slots \(channel 5\)"):
            await store.open_claims()


# ---------------------------------------------------------------------------- migrations


def database_at(path: Path, version: int) -> None:
    """A database as briefbot `version` left it, with an open claim and a sent digest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        for number, statements in MIGRATIONS[:version]:
            for statement in statements:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        now = "2026-03-04T09:00:00.000000+00:00"
        db.execute(
            "INSERT INTO subscriptions (channel_id, guild_id, local_time, timezone, topics, "
            "created_by, updated_by, created_at, updated_at) "
            "VALUES (1, 5, '08:30', 'UTC', '[]', 7, 7, ?, ?)",
            (now, now),
        )
        # From version 3 a slot is keyed by its time too (migration 3 gives old rows their
        # channel's time).
        time_column, time_value = (", slot_time", ", '08:30'") if version >= 3 else ("", "")
        db.execute(
            f"INSERT INTO digest_slots (channel_id, local_date, state, nonce, brief_ids, "
            f"message_id, attempts, claimed_at, finished_at{time_column}) "
            f"VALUES (1, '2026-03-04', 'sent', 'd1-20260304', '[\"b1\"]', 500, 1, ?, ?"
            f"{time_value})",
            (now, now),
        )
        db.execute(
            f"INSERT INTO digest_slots (channel_id, local_date, state, nonce, brief_ids, "
            f"attempts, claimed_at{time_column}) "
            f"VALUES (1, '2026-03-05', 'claimed', 'd1-20260305', '[\"b2\"]', 1, ?{time_value})",
            (now,),
        )
    db.close()


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
async def test_every_earlier_version_migrates_and_its_claim_is_resumed(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "briefbot.sqlite3"
    database_at(path, version)
    async with await Store.open(path, clock=FakeClock(START)) as store:
        assert await store.schema_version() == SCHEMA_VERSION
        # A claim from before owners has none and no lease: resumed at once, same nonce.
        [claim] = await store.open_claims()
        assert claim.owner is None and claim.lease_until is None
        assert claim.slot_time == dt.time(8, 30)  # the channel's time, whatever the version
        at = claim.slot_time
        resumed = await store.claim_slot(1, claim.local_date, "new-nonce", slot_time=at)
        assert resumed is not None and resumed.nonce == "d1-20260305" and resumed.resumed
        assert resumed.owner == store.owner
        assert await store.begin_send(1, claim.local_date, slot_time=at)
        assert await store.complete_slot(1, claim.local_date, 501, ("b2",), slot_time=at)
        last = await store.last_sent(1)
        assert last is not None and last.message_id == 501
        assert await store.reserve_send(0.02, START.timestamp()) == pytest.approx(START.timestamp())
