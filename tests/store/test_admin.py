"""`briefbot db copy|check|backup`: SQLite ↔ PostgreSQL with every table and its count."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import open_store, pg_schema, schema
from bot.store.admin import CopyError, copy_database
from bot.store.feeds import EntryKeys
from bot.store.records import (
    ArchiveCutoff,
    DraftOrigin,
    GuildSettings,
    History,
    NewDraft,
    StoreError,
    Uncertain,
)
from bot.store.sqlite import Store
from tests.conftest import REPO
from tests.digest.clock import FakeClock
from tests.pgcluster import PgCluster
from tests.store.helpers import DAY, GUILD, subscribe

CLI_TIMEOUT = 60


async def fill(store: Store) -> None:
    """A row in every table: subscriptions (one paused, one with a cutoff), slots in every
    state, sent briefs, first-seen times, guild settings, a feed and an entry, a draft, and
    an audit line."""
    await subscribe(store, 1, "07:15", "America/New_York", ("budget",))
    await subscribe(store, 2)
    await subscribe(store, 3)
    await store.claim_slot(1, DAY, "d1-20260306", ("a", "b"))
    await store.complete_slot(1, DAY, 555, ("a", "b"), ArchiveCutoff(dt.date.min, "undated"))
    await store.claim_slot(2, DAY, "d2-20260306", ("c",))  # interrupted: still claimed
    await store.skip_slot(3, DAY, "nothing new")
    await store.mark_sent(3, ["z"])
    await store.disable(3, "no permission: Missing Access")
    await store.record_seen(["a", "b", "z"])
    await store.save_guild_settings(GuildSettings(GUILD, editor_role_id=5, notices_channel_id=6))
    feed, _ = await store.add_feed(
        guild_id=GUILD,
        url="https://news.example/feed.xml",
        topics=["budget"],
        interval=dt.timedelta(minutes=30),
        created_by=7,
    )
    entry = await store.claim_entry(
        feed.id, GUILD, EntryKeys("guid-1", "https://news.example/1", "f" * 64), title="One"
    )
    assert isinstance(entry, int)
    await store.finish_entry(entry, outcome="drafted", draft_id="council-budget")
    draft = await store.create_draft(
        NewDraft(
            guild_id=GUILD,
            requester_id=7,
            brief_id="council-budget",
            brief_yaml="id: council-budget\n",
            source_text="Council approves budget.\n",
            origin=DraftOrigin.FEED,
            origin_name="https://news.example/1",
            notes=(Uncertain(0, "'he' has two candidates"),),
        ),
        dt.timedelta(days=7),
    )
    await store.add_preview(draft.id, 40, 41)
    discarded = await store.create_draft(
        NewDraft(GUILD, 8, "other", "id: other\n", "Other.\n", DraftOrigin.PASTE),
        dt.timedelta(days=7),
    )
    await store.discard_draft(discarded.id, 8)


async def every_row(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows as stored, in a stable order."""
    rows = {}
    for table in await store.table_names():
        # By name: a column added by a migration may sit elsewhere on the other backend.
        columns = sorted(await store.table_columns(table))
        rows[table] = sorted(await store.read_rows(table, columns), key=repr)
    return rows


async def snapshot(store: Store) -> dict[str, object]:
    """Everything a user could notice, read through the store interface."""
    return {
        "subs": [await store.get(c) for c in (1, 2, 3)],
        "history": [await store.history(c) for c in (1, 2, 3)],
        "slots": [await store.get_slot(c, DAY) for c in (1, 2, 3)],
        "open": await store.open_claims(),
    }


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


async def test_sqlite_to_postgresql_and_back_keeps_everything(tmp_path: Path, pg_url: str) -> None:
    clock = FakeClock(dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC))
    source = tmp_path / "source.sqlite3"
    async with await open_store(source, clock=clock) as store:
        await fill(store)
        before = await snapshot(store)
    said: list[str] = []
    results = await copy_database(source, pg_url, say=said.append)
    assert [(r.table, r.copied, r.in_target) for r in results] == [
        ("subscriptions", 3, 3),
        ("digest_slots", 3, 3),
        ("sent_briefs", 3, 3),
        ("briefs_seen", 3, 3),
        ("guild_settings", 1, 1),
        ("feeds", 1, 1),
        ("feed_entries", 1, 1),
        ("drafts", 1, 1),
        ("audit", 1, 1),
    ]
    assert [r.table for r in results] == list(schema.DATA_TABLES)  # every table, parents first
    assert "  digest_slots: 3 rows copied, 3 in target" in said
    async with await open_store(source, clock=clock) as store:
        stored = await every_row(store)
    async with await open_store(pg_url, clock=clock) as store:
        # Every value of every table arrives as it was stored.
        assert await every_row(store) == stored
        assert await snapshot(store) == before
        # New rows continue the copied ids instead of colliding with them.
        columns = sorted(await store.table_columns("drafts"))
        more = await store.create_draft(
            NewDraft(GUILD, 9, "third", "id: third\n", "Third.\n", DraftOrigin.PASTE),
            dt.timedelta(days=7),
        )
        assert more.id > max(int(str(r[columns.index("id")])) for r in stored["drafts"])
        await store.discard_draft(more.id, 9)
        # The copied interrupted claim is resumed with its nonce on PostgreSQL.
        claim = await store.claim_slot(2, DAY, "other")
        assert claim is not None and claim.nonce == "d2-20260306" and claim.resumed
    back = tmp_path / "back.sqlite3"
    await copy_database(pg_url, back, say=said.append)
    async with await open_store(back, clock=clock) as store:
        after = await snapshot(store)
    # The same, but for the claim resumed on PostgreSQL in between (one more attempt).
    assert after["subs"] == before["subs"] and after["history"] == before["history"]
    assert [c.attempts for c in after["open"]] == [2]  # type: ignore[attr-defined]
    async with await open_store(back, clock=clock) as store:
        returned = await every_row(store)
    # And back: every table as PostgreSQL held it (the draft made there was discarded).
    assert returned["audit"][:1] == stored["audit"] and len(returned["audit"]) == 2
    for table in set(stored) - {"audit", "digest_slots"}:
        assert returned[table] == stored[table], table


async def test_every_table_of_the_schema_is_copied(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "source.sqlite3"
    async with await open_store(source) as store:
        tables = await store.table_names()
    assert set(tables) == set(schema.DATA_TABLES)
    async with await open_store(pg_url) as store:
        pg_tables = await store.table_names()
    assert set(pg_tables) == set(schema.DATA_TABLES)  # bookkeeping tables aside
    assert schema.RUNTIME_TABLES.isdisjoint(pg_tables)
    # Every table either backend has is a data table or a runtime one: none is forgotten.
    for database in (str(source), pg_url):
        async with await open_store(database) as store:
            assert await store.count_rows("send_pacing") == 1
    async with await open_store(source) as store:
        every = {
            str(r[0])
            for r in await store._fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    assert every <= set(schema.DATA_TABLES) | schema.RUNTIME_TABLES


async def test_a_non_empty_target_is_refused_unless_forced(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "source.sqlite3"
    async with await open_store(source) as store:
        await fill(store)
    async with await open_store(pg_url) as store:
        await subscribe(store, 99)
    with pytest.raises(CopyError, match=r"not empty .*subscriptions 1.*--force"):
        await copy_database(source, pg_url, say=lambda _: None)
    async with await open_store(pg_url) as store:
        assert [s.channel_id for s in await store.list_enabled()] == [99]  # untouched
    await copy_database(source, pg_url, force=True, say=lambda _: None)
    async with await open_store(pg_url) as store:
        assert [s.channel_id for s in await store.list_enabled()] == [1, 2]
        assert await store.get(99) is None
        assert await store.history(3) == History(None, frozenset({"z"}))


def test_db_copy_command_prints_counts_and_refuses_a_second_copy(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    source = tmp_path / "source.sqlite3"

    async def prepare() -> str:
        async with await open_store(source) as store:
            await fill(store)
        return await pg_cluster.create_database()

    url = asyncio.run(prepare())
    done = run_cli("db", "copy", str(source), url)
    assert done.returncode == 0, done.stderr
    assert "subscriptions: 3 rows copied, 3 in target" in done.stdout
    assert "copy verified" in done.stdout
    again = run_cli("db", "copy", str(source), url)
    assert again.returncode == 1
    assert "is not empty" in again.stderr and "--force" in again.stderr

    checked = run_cli("db", "check", url)
    assert checked.returncode == 0, checked.stderr
    assert f"schema version {pg_schema.SCHEMA_VERSION}" in checked.stdout
    assert "subscriptions: 3 rows" in checked.stdout and "pg_dump" in checked.stdout
    backup = run_cli("db", "backup", str(tmp_path / "b.dump"), "--database", url)
    assert backup.returncode == 1 and "pg_dump --format=custom" in backup.stderr
    assert url not in backup.stderr  # a URL may hold a password: never printed
    assert not (tmp_path / "b.dump").exists()


def test_db_backup_of_sqlite_is_a_working_copy(tmp_path: Path) -> None:
    source = tmp_path / "source.sqlite3"

    async def prepare() -> None:
        async with await open_store(source) as store:
            await fill(store)

    asyncio.run(prepare())
    target = tmp_path / "copy.sqlite3"
    done = run_cli("db", "backup", str(target), "--database", str(source))
    assert done.returncode == 0, done.stderr

    async def read() -> list[int]:
        async with await open_store(target) as store:
            return [s.channel_id for s in await store.list_enabled()]

    assert asyncio.run(read()) == [1, 2]
    refused = run_cli("db", "backup", str(target), "--database", str(source))
    assert refused.returncode == 1 and "exists" in refused.stderr


def test_run_with_postgresql_down_says_which_host_in_one_line(tmp_path: Path) -> None:
    done = run_cli(
        "run",
        env={
            "DISCORD_TOKEN": "fake-token",
            "BRIEFBOT_DATABASE": "postgresql://briefbot@127.0.0.1:9/briefbot",
            "BRIEFBOT_BRIEFS_DIR": str(tmp_path),
        },
    )
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("briefbot: cannot reach PostgreSQL at 127.0.0.1:9/briefbot")
    assert "BRIEFBOT_DATABASE" in line


async def test_doctor_checks_a_postgresql_database_without_migrating_it(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    from bot.doctor import _Doctor
    from bot.settings import Settings

    url = await pg_cluster.create_database()
    async with await open_store(url) as store:
        await subscribe(store, 1)
    doctor = _Doctor(Settings(database=url, briefs_dir=tmp_path))
    assert [s.channel_id for s in await doctor.database() or []] == [1]
    [check] = doctor.checks
    assert check.ok and "schema version" in check.detail and "1 subscription" in check.detail

    empty = await pg_cluster.create_database()  # never migrated
    doctor = _Doctor(Settings(database=empty, briefs_dir=tmp_path))
    assert await doctor.database() is None
    [check] = doctor.checks
    assert not check.ok and "schema version 0" in check.detail and "migrates" in check.fix
    async with await open_store(empty):
        pass  # it was left as it was: migrating it now still works


def test_offline_brief_history_reads_postgresql_without_migrating_it(
    pg_cluster: PgCluster,
) -> None:
    from bot.adapters.console import brief_command

    async def prepare() -> tuple[str, str]:
        url = await pg_cluster.create_database()
        async with await open_store(url) as store:
            draft = await store.create_draft(
                NewDraft(GUILD, 8, "council-budget", "id: x\n", "Text.\n", DraftOrigin.PASTE),
                dt.timedelta(days=7),
            )
            await store.discard_draft(draft.id, 8)
        return url, await pg_cluster.create_database()

    url, empty = asyncio.run(prepare())
    reply = brief_command("/brief history", url, None)
    assert reply.ok and "council-budget" in str(reply), reply
    with pytest.raises(StoreError, match="schema version 0"):
        brief_command("/brief history", empty, None)  # never migrated from here
