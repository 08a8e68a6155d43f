"""What only the PostgreSQL store has: schema_migrations from every earlier version, many
connections claiming at once, the send budget on the database's clock, and a server that is
down or goes away. (The claim rule itself is tests/store/test_claims.py, on both backends.)"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time

import asyncpg
import pytest

from bot.store import open_store, pg_schema
from bot.store.postgres import PostgresStore, describe_url
from bot.store.records import (
    ClaimOwner,
    History,
    SchemaTooNewError,
    StoreError,
    StoreUnavailable,
)
from tests.digest.clock import FakeClock
from tests.pgcluster import PgCluster
from tests.store.helpers import CUTOFF, DAY, subscribe

LEASE = dt.timedelta(seconds=30)
T0830 = dt.time(8, 30)
HERE = ClaimOwner("host-a", os.getpid(), "token-a")
ELSEWHERE = ClaimOwner("host-b", 4242, "token-b")
THIRD = ClaimOwner("host-c", 4343, "token-c")


async def raw(url: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def opened(url: str, clock: FakeClock, owner: ClaimOwner) -> PostgresStore:
    return await PostgresStore.open(url, clock=clock, owner=owner, lease=LEASE)


# ---------------------------------------------------------------------------- migrations


async def test_fresh_database_is_migrated_once_and_versions_are_recorded(
    pg_url: str, clock: FakeClock
) -> None:
    async with await open_store(pg_url, clock=clock) as store:
        assert store.backend == "postgresql"
        assert await store.schema_version() == pg_schema.SCHEMA_VERSION
    async with await open_store(pg_url, clock=clock):
        pass
    rows = await raw(pg_url, "SELECT version FROM schema_migrations ORDER BY version")
    assert rows == [(n,) for n in range(1, pg_schema.SCHEMA_VERSION + 1)]


async def test_three_processes_starting_together_migrate_once(
    pg_url: str, clock: FakeClock
) -> None:
    stores = await asyncio.gather(*(open_store(pg_url, clock=clock) for _ in range(3)))
    for store in stores:
        assert await store.schema_version() == pg_schema.SCHEMA_VERSION
        await store.close()
    assert await raw(pg_url, "SELECT count(*) FROM schema_migrations") == [
        (pg_schema.SCHEMA_VERSION,)
    ]


async def make_version(url: str, version: int) -> None:
    """A database as an older briefbot left it: migrations 1…version, with data in it."""
    conn = await asyncpg.connect(url)
    keyed = version >= 3  # the slot key gained the slot time in version 3
    try:
        await conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for number, statements in pg_schema.MIGRATIONS[:version]:
            for statement in statements:
                await conn.execute(statement)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", number)
        now = "2026-03-04T09:00:00.000000+00:00"
        await conn.execute(
            "INSERT INTO subscriptions (channel_id, guild_id, local_time, timezone, topics, "
            "created_by, updated_by, created_at, updated_at) "
            "VALUES (1, 111, '08:30', 'UTC', '[\"budget\"]', 7, 7, $1, $1)",
            now,
        )
        time_column, time_value = (", slot_time", ", '08:30'") if keyed else ("", "")
        await conn.execute(
            f"INSERT INTO digest_slots (channel_id, local_date, state, nonce, brief_ids, "
            f"message_id, attempts, claimed_at, finished_at{time_column}) "
            f"VALUES (1, '2026-03-04', 'sent', 'd1-20260304', '[\"b2\"]', 500, 1, $1, $1"
            f"{time_value})",
            now,
        )
        # Interrupted while sending: claimed, no owner (versions before 6 had none).
        await conn.execute(
            f"INSERT INTO digest_slots (channel_id, local_date, state, nonce, brief_ids, "
            f"attempts, claimed_at{time_column}) "
            f"VALUES (1, '2026-03-05', 'claimed', 'd1-20260305', '[\"b3\"]', 1, $1{time_value})",
            now,
        )
        await conn.executemany(
            "INSERT INTO sent_briefs (channel_id, brief_id, sent_at) VALUES (1, $1, $2)",
            [(f"b{n}", now) for n in range(3)],
        )
    finally:
        await conn.close()


@pytest.mark.parametrize("version", range(pg_schema.SCHEMA_VERSION))
async def test_every_earlier_version_with_data_migrates_and_keeps_working(
    pg_cluster: PgCluster, clock: FakeClock, version: int
) -> None:
    url = await pg_cluster.create_database()
    if version:
        await make_version(url, version)
    async with await opened(url, clock, HERE) as store:
        assert await store.schema_version() == pg_schema.SCHEMA_VERSION
        if not version:
            assert await store.list_enabled() == []
            return
        sub = await store.get(1)
        assert sub is not None and sub.topics == ("budget",) and sub.enabled
        assert await store.history(1) == History(None, frozenset({"b0", "b1", "b2"}))
        last = await store.last_sent(1)
        assert last is not None and (last.message_id, last.brief_ids) == (500, ("b2",))
        # The interrupted claim (no owner) is resumed with its nonce and completed.
        [claim] = await store.open_claims()
        assert claim.slot_time == T0830  # version 1's slots are keyed by their channel's time
        resumed = await store.claim_slot(1, claim.local_date, "other-nonce", slot_time=T0830)
        assert resumed is not None and resumed.nonce == "d1-20260305" and resumed.resumed
        assert await store.complete_slot(1, claim.local_date, 501, ("b3",), slot_time=T0830)
        assert await store.history(1) == History(None, frozenset({"b0", "b1", "b2", "b3"}))
        await subscribe(store, 2)
        await store.claim_slot(2, DAY, "n", ("b3",))
        assert await store.complete_slot(2, DAY, 502, ("b3",), CUTOFF)
        assert await store.history(2) == History(CUTOFF, frozenset({"b3"}))


async def test_database_from_a_newer_briefbot_is_refused(pg_url: str, clock: FakeClock) -> None:
    async with await open_store(pg_url, clock=clock):
        pass
    newer = pg_schema.SCHEMA_VERSION + 5
    await raw(pg_url, f"INSERT INTO schema_migrations (version) VALUES ({newer})")
    with pytest.raises(SchemaTooNewError) as caught:
        await open_store(pg_url, clock=clock)
    message = str(caught.value)
    assert f"version {newer}" in message and "upgrade briefbot" in message
    assert describe_url(pg_url) in message


async def test_a_failing_migration_leaves_the_database_as_it_was(
    pg_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await open_store(pg_url, clock=clock) as store:
        await subscribe(store, 1)
    latest = pg_schema.SCHEMA_VERSION
    broken = (
        *pg_schema.MIGRATIONS,
        (latest + 1, ("CREATE TABLE extra (x INTEGER)", "THIS IS NOT SQL")),
    )
    monkeypatch.setattr(pg_schema, "MIGRATIONS", broken)
    monkeypatch.setattr(pg_schema, "SCHEMA_VERSION", latest + 1)
    with pytest.raises(StoreError, match=f"schema version {latest + 1} failed"):
        await open_store(pg_url, clock=clock)
    assert await raw(pg_url, "SELECT max(version) FROM schema_migrations") == [(latest,)]
    assert await raw(pg_url, "SELECT to_regclass('extra') IS NULL") == [(True,)]
    assert await raw(pg_url, "SELECT channel_id FROM subscriptions") == [(1,)]


async def test_cutoff_columns_are_checked(pg_url: str, clock: FakeClock) -> None:
    async with await open_store(pg_url, clock=clock) as store:
        await subscribe(store, 1)
    with pytest.raises(asyncpg.CheckViolationError):
        await raw(pg_url, "UPDATE subscriptions SET archive_id = 'a'")  # an id without a date
    with pytest.raises(asyncpg.CheckViolationError):
        await raw(pg_url, "UPDATE subscriptions SET local_time = '8:30'")


# ---------------------------------------------------------------------------- claims


async def test_three_processes_claim_each_of_many_slots_exactly_once(
    pg_url: str, clock: FakeClock
) -> None:
    owners = [ClaimOwner(f"host-{n}", 1000 + n, f"token-{n}") for n in range(3)]
    stores = [await opened(pg_url, clock, owner) for owner in owners]
    try:
        for channel in range(1, 61):
            await subscribe(stores[0], channel)

        async def claim_all(store: PostgresStore) -> list[int]:
            got = []
            for channel in range(1, 61):
                if await store.claim_slot(channel, DAY, f"n{channel}") is not None:
                    got.append(channel)
            return got

        results = await asyncio.gather(*(claim_all(s) for s in stores))
    finally:
        for store in stores:
            await store.close()
    claimed = [ch for got in results for ch in got]
    assert sorted(claimed) == list(range(1, 61))


# ---------------------------------------------------------------------------- send budget


async def test_the_send_budget_spaces_every_process_turns(pg_url: str, clock: FakeClock) -> None:
    stores = [await opened(pg_url, clock, ClaimOwner(f"h{n}", n, f"t{n}")) for n in range(3)]
    now = time.time()
    try:
        # 1 per second: 30 turns taken at once, 10 by each process, must be 0, 1, … 29 s away.
        turns = await asyncio.gather(
            *(store.reserve_send(1.0, now) for store in stores for _ in range(10))
        )
    finally:
        for store in stores:
            await store.close()
    for expected, turn in enumerate(sorted(turns)):
        assert expected - 0.5 < turn - now <= expected + 0.01


async def test_turns_follow_the_database_clock_not_the_callers(
    pg_url: str, clock: FakeClock
) -> None:
    async with await opened(pg_url, clock, HERE) as store:
        # An idle budget: the turn is now, whatever this host's clock says (an hour off here).
        skewed = time.time() + 3600
        assert await store.reserve_send(1.0, skewed) == skewed
        # The next turn is one interval later, counted from the caller's own clock.
        second = await store.reserve_send(1.0, skewed)
        assert skewed + 0.9 < second <= skewed + 1.01


# ---------------------------------------------------------------------------- availability


async def test_an_unreachable_server_is_named_in_one_clear_error(clock: FakeClock) -> None:
    url = "postgresql://briefbot@127.0.0.1:9/briefbot"  # the discard port: nothing listens
    with pytest.raises(StoreUnavailable) as caught:
        await open_store(url, clock=clock)
    assert "cannot reach PostgreSQL at 127.0.0.1:9/briefbot" in str(caught.value)
    assert "BRIEFBOT_DATABASE" in str(caught.value)
    assert "\n" not in str(caught.value)


async def test_dropped_connections_are_replaced_without_an_error(
    pg_url: str, clock: FakeClock
) -> None:
    async with await opened(pg_url, clock, HERE) as store:
        await subscribe(store, 1)
        # The server drops the connection while the store is idle.
        await raw(
            pg_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'briefbot' AND pid <> pg_backend_pid()",
        )
        for _ in range(6):
            assert [s.channel_id for s in await store.list_enabled()] == [1]


async def test_a_server_that_goes_away_is_unavailable_until_it_is_back(clock: FakeClock) -> None:
    cluster = PgCluster(durable=True)  # its own server: this one is stopped and started again
    try:
        await asyncio.to_thread(cluster.start)
        url = await cluster.create_database()
        async with await opened(url, clock, HERE) as store:
            await subscribe(store, 1)
            await asyncio.to_thread(cluster.halt)
            for _ in range(2):  # the pooled connection is dead, and a new one is refused
                with pytest.raises(StoreUnavailable) as caught:
                    await store.list_enabled()
                assert describe_url(url) in str(caught.value)
            await asyncio.to_thread(cluster.resume)
            assert [s.channel_id for s in await store.list_enabled()] == [1]
    finally:
        await asyncio.to_thread(cluster.stop)


async def test_a_server_that_never_answers_fails_fast_for_the_callers_queued_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.store import postgres

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, never answers: a host or network gone quiet

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(postgres, "CONNECT_TIMEOUT", 0.3)
    monkeypatch.setattr(postgres, "RECONNECT_PAUSE", 0.5)
    pg = postgres.PgConnection(f"postgresql://briefbot@127.0.0.1:{port}/briefbot")
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{port}/briefbot"):
            await pg.connection()
        assert time.monotonic() - started >= 0.3  # it waited for an answer once
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await pg.connection()
        assert time.monotonic() - started < 0.1  # the next caller is told at once
        await asyncio.sleep(0.5)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await pg.connection()
        assert time.monotonic() - started >= 0.3  # after the pause it tries again
    finally:
        await pg.close()
        server.close()
        await server.wait_closed()


def test_statements_are_translated_only_where_sqlite_and_postgresql_differ() -> None:
    from bot.store.postgres import translate

    assert translate("SELECT a FROM t WHERE b = ? AND c = '?' -- why?\nAND d = ?") == (
        "SELECT a FROM t WHERE b = $1 AND c = '?' -- why?\nAND d = $2"
    )
    assert translate("INSERT OR IGNORE INTO t (a) VALUES (?)") == (
        "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING"
    )
    assert translate("INSERT OR IGNORE INTO t (a) SELECT ? RETURNING a") == (
        "INSERT INTO t (a) SELECT $1  ON CONFLICT DO NOTHING RETURNING a"
    )
    assert translate("UPDATE t SET a = 'it''s ?' WHERE b = ?") == (
        "UPDATE t SET a = 'it''s ?' WHERE b = $1"
    )
