"""A PostgreSQL connection that goes silent (a frozen backend or server, a network partition)
costs a store call at most its timeout, then the store works again; long operations
(migrations, `db copy`) keep their own, longer bound.

Silence is real: the backend serving the store is stopped with SIGSTOP (always resumed in a
`finally`), or the store talks through a loopback TCP proxy that stops forwarding.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from bot.settings import Settings, SettingsError
from bot.store import DEFAULT_TIMEOUT, open_store
from bot.store.admin import copy_database
from bot.store.postgres import WRITER_LOCK, PostgresStore
from bot.store.records import StoreUnavailable
from tests.digest.clock import FakeClock
from tests.pgcluster import PgCluster
from tests.store.helpers import subscribe

pytestmark = pytest.mark.timeout(60)

BOUND = 1.0  # the store's call timeout in these tests
SLACK = 0.5  # what a busy shared test machine may add on top of it


async def backend_pids(url: str) -> list[int]:
    """The server processes serving briefbot's connections to `url`'s database."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'briefbot'"
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


@contextlib.contextmanager
def stopped(*pids: int) -> Iterator[None]:
    """The processes frozen (SIGSTOP) while inside; always resumed."""
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


async def timed_failure(call: asyncio.Future[object] | object) -> tuple[float, str]:
    """How long an awaited store call took to fail as unavailable, and its message."""
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        await call  # type: ignore[misc]
    return time.monotonic() - started, str(caught.value)


async def test_a_frozen_backend_costs_one_call_its_timeout_then_a_new_connection_serves(
    pg_url: str, clock: FakeClock
) -> None:
    async with await PostgresStore.open(pg_url, clock=clock, call_timeout=BOUND) as store:
        await subscribe(store, 1)
        [pid] = await backend_pids(pg_url)
        with stopped(pid):
            waited, message = await timed_failure(store.list_enabled())
            assert BOUND <= waited < BOUND + SLACK
            assert "temporarily unavailable" in message and "no answer within 1 s" in message
            # The silent connection was dropped: the next call, a moment later, is served by
            # a new backend while the old one is still frozen.
            await asyncio.sleep(1.1)
            started = time.monotonic()
            assert [s.channel_id for s in await store.list_enabled()] == [1]
            await subscribe(store, 2)
            assert time.monotonic() - started < BOUND
            assert len(await backend_pids(pg_url)) == 2  # the frozen one cannot exit yet
        assert {s.channel_id for s in await store.list_enabled()} == {1, 2}
        # Resumed, the old backend finds its client gone and ends.
        for _ in range(100):
            if pid not in await backend_pids(pg_url):
                break
            await asyncio.sleep(0.05)
        assert pid not in await backend_pids(pg_url)


async def test_callers_queued_behind_a_silent_call_are_told_at_once(
    pg_url: str, clock: FakeClock
) -> None:
    async with await PostgresStore.open(pg_url, clock=clock, call_timeout=BOUND) as store:
        [pid] = await backend_pids(pg_url)
        with stopped(pid):
            started = time.monotonic()
            results = await asyncio.gather(
                *(store.list_enabled() for _ in range(5)), return_exceptions=True
            )
            waited = time.monotonic() - started
        # Five commands at once: the first waits out the timeout, the four queued behind it
        # on the store's one connection hear "unavailable" right after, not one bound each.
        assert all(isinstance(r, StoreUnavailable) for r in results)
        assert waited < BOUND + SLACK
        await asyncio.sleep(1.1)
        assert await store.list_enabled() == []


async def test_a_write_waiting_on_a_frozen_peer_that_holds_the_writer_lock_gives_up(
    pg_url: str, clock: FakeClock
) -> None:
    async with await PostgresStore.open(pg_url, clock=clock, call_timeout=BOUND) as store:
        await subscribe(store, 1)
        # Another process's backend froze inside a write transaction, holding the lock every
        # writer takes.
        peer = await asyncpg.connect(pg_url)
        try:
            await peer.execute("BEGIN")
            await peer.execute("SELECT pg_advisory_xact_lock($1)", WRITER_LOCK)
            peer_pid = int(await peer.fetchval("SELECT pg_backend_pid()"))
            with stopped(peer_pid):
                waited, _ = await timed_failure(subscribe(store, 2))
                assert BOUND <= waited < BOUND + SLACK
                # Reads take no lock: they go on (after the pause that follows a timeout).
                await asyncio.sleep(1.1)
                assert [s.channel_id for s in await store.list_enabled()] == [1]
            await peer.execute("ROLLBACK")
        finally:
            peer.terminate()
        await subscribe(store, 2)
        assert {s.channel_id for s in await store.list_enabled()} == {1, 2}


# ---------------------------------------------------------------------------- a partition


class Proxy:
    """A loopback TCP proxy to the cluster's unix socket that can stop forwarding (a network
    partition: nothing is refused or closed, bytes just stop arriving)."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.connections = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await self.flowing.wait()  # a new connection is not answered either
        up_reader, up_writer = await asyncio.open_unix_connection(str(self.socket_path))
        for task in (
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self.flowing.set()
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def proxy(pg_cluster: PgCluster) -> AsyncIterator[Proxy]:
    [socket_path] = (p for p in pg_cluster.socket_dir.glob(".s.PGSQL.*") if p.is_socket())
    relay = Proxy(socket_path)
    try:
        yield relay
    finally:
        await relay.close()


async def test_a_partitioned_tcp_connection_is_unavailable_within_the_timeout_then_heals(
    pg_url: str, proxy: Proxy, clock: FakeClock
) -> None:
    port = await proxy.start()
    database = urlsplit(pg_url).path.lstrip("/")
    url = f"postgresql://postgres@127.0.0.1:{port}/{database}"
    async with await PostgresStore.open(url, clock=clock, call_timeout=BOUND) as store:
        await subscribe(store, 1)
        proxy.flowing.clear()
        try:
            # The live connection goes quiet mid-call.
            waited, message = await timed_failure(store.list_enabled())
            assert BOUND <= waited < BOUND + SLACK
            assert f"127.0.0.1:{port}/{database}" in message
            # A reconnect into the partition is bounded by the same timeout.
            await asyncio.sleep(1.1)
            waited, _ = await timed_failure(subscribe(store, 2))
            assert BOUND <= waited < BOUND + SLACK
            assert proxy.connections == 2
        finally:
            proxy.flowing.set()
        await asyncio.sleep(1.1)
        await subscribe(store, 2)
        assert {s.channel_id for s in await store.list_enabled()} == {1, 2}


# ---------------------------------------------------------------------------- long operations


@contextlib.asynccontextmanager
async def writer_lock_held(url: str, seconds: float) -> AsyncIterator[asyncio.Task[None]]:
    """Another session holds the writer lock for `seconds` (a slow peer's transaction)."""
    holder = await asyncpg.connect(url)
    await holder.execute("BEGIN")
    await holder.execute("SELECT pg_advisory_xact_lock($1)", WRITER_LOCK)

    async def release() -> None:
        await asyncio.sleep(seconds)
        await holder.execute("COMMIT")

    task = asyncio.create_task(release())
    try:
        yield task
    finally:
        await task
        await holder.close()


async def test_a_migration_is_not_cut_by_the_short_timeout_and_commands_get_it_back(
    pg_cluster: PgCluster, clock: FakeClock
) -> None:
    url = await pg_cluster.create_database()  # empty: opening it migrates every version
    async with writer_lock_held(url, 1.5):
        started = time.monotonic()
        store = await PostgresStore.open(url, clock=clock, call_timeout=0.3)
        # The migration waited for the lock far longer than a call's 0.3 s, and finished.
        assert time.monotonic() - started >= 1.4
    async with store:
        await subscribe(store, 1)
        async with writer_lock_held(url, 1.5):
            waited, _ = await timed_failure(subscribe(store, 2))
        # After the migration a write is bounded by the short timeout again.
        assert 0.3 <= waited < 0.3 + SLACK
        await asyncio.sleep(1.1)
        assert [s.channel_id for s in await store.list_enabled()] == [1]


async def test_db_copy_is_not_cut_by_the_default_timeout(
    pg_cluster: PgCluster, tmp_path: Path, clock: FakeClock
) -> None:
    source = tmp_path / "briefbot.sqlite3"
    async with await open_store(source, clock=clock) as store:
        for channel in range(1, 4):
            await subscribe(store, channel)
    target = await pg_cluster.create_database()
    # Writers wait past the default call timeout: the copy waits with them.
    async with writer_lock_held(target, DEFAULT_TIMEOUT + 0.5):
        started = time.monotonic()
        results = await copy_database(source, target, say=lambda _: None)
        assert time.monotonic() - started >= DEFAULT_TIMEOUT + 0.4
    assert {r.table: r.in_target for r in results}["subscriptions"] == 3


# ---------------------------------------------------------------------------- the setting


def test_the_timeout_is_a_setting_with_a_default_of_a_few_seconds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BRIEFBOT_DB_TIMEOUT", raising=False)
    assert Settings.from_env(None).db_timeout == DEFAULT_TIMEOUT == 2.0
    monkeypatch.setenv("BRIEFBOT_DB_TIMEOUT", "1.5")
    assert Settings.from_env(None).db_timeout == 1.5
    env = tmp_path / ".env"
    env.write_text("BRIEFBOT_DB_TIMEOUT=4\n")
    monkeypatch.delenv("BRIEFBOT_DB_TIMEOUT")
    assert Settings.from_env(env).db_timeout == 4.0
    for bad in ("0", "-1", "soon", "inf"):
        monkeypatch.setenv("BRIEFBOT_DB_TIMEOUT", bad)
        with pytest.raises(SettingsError, match="BRIEFBOT_DB_TIMEOUT"):
            Settings.from_env(None)


async def test_a_client_gone_quiet_inside_a_write_releases_the_writer_lock_on_the_server(
    pg_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.store import postgres

    monkeypatch.setattr(postgres, "IDLE_IN_TRANSACTION", 1.0)
    # A process that began a write and then went quiet (its host hung, or was cut off).
    gone = postgres.PgConnection(pg_url, BOUND)
    await gone.begin()
    try:
        started = time.monotonic()
        # Opening it takes the writer lock (its migration check), then a write takes it again.
        async with await PostgresStore.open(pg_url, clock=clock, call_timeout=3.0) as store:
            await subscribe(store, 1)
            # The server ended the quiet session after ~1 s idle in its transaction, which
            # released the lock; without that these would wait until TCP gave up.
            assert 0.9 <= time.monotonic() - started < 3.0
            assert [s.channel_id for s in await store.list_enabled()] == [1]
    finally:
        gone._drop()
