"""/healthz, /readyz and /metrics served on the test's own event loop (port 0)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.ops import health
from bot.ops.health import Heartbeat, OpsServer, OpsServerError, ReadinessCheck
from bot.ops.metrics import Metrics


class Probe:
    """A readiness check whose answer the test sets."""

    def __init__(self, answer: object = True) -> None:
        self.answer = answer

    def __call__(self) -> Any:
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


@pytest.fixture
async def server() -> AsyncIterator[OpsServer]:
    checks: dict[str, ReadinessCheck] = {"gateway": Probe(), "database": Probe()}
    ops = OpsServer(Metrics(), checks, heartbeat=Heartbeat(interval=0.05))
    await ops.start("127.0.0.1", 0)
    yield ops
    await ops.stop()


async def get(ops: OpsServer, path: str) -> tuple[int, str]:
    timeout = aiohttp.ClientTimeout(total=5)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(f"http://127.0.0.1:{ops.port}{path}") as response,
    ):
        return response.status, await response.text()


def get_blocking(port: int, path: str) -> tuple[int, str]:
    """A GET from another thread, which still works while the loop is blocked."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def test_healthz_is_ok_on_a_free_loop(server: OpsServer) -> None:
    status, text = await get(server, "/healthz")
    assert status == 200
    body = json.loads(text)
    assert body["status"] == "ok" and body["loop_lag_seconds"] < 1


async def test_healthz_goes_503_while_the_loop_is_blocked_then_recovers(server: OpsServer) -> None:
    loop = asyncio.get_running_loop()
    sent = threading.Event()

    def ask() -> tuple[int, str]:
        sent.set()
        return get_blocking(server.port, "/healthz")

    def block() -> None:
        # Wait (bounded) until the probe is on its way, then hold the loop for 1.5 s.
        sent.wait(5)
        time.sleep(1.5)

    answer = loop.run_in_executor(None, ask)
    loop.call_soon(block)
    status, text = await asyncio.wait_for(answer, 10)
    assert status == 503
    body = json.loads(text)
    assert body["status"] == "unhealthy"
    assert re.fullmatch(r"event loop blocked: lag \d+\.\d\d s > 1 s", body["reason"])
    assert body["loop_lag_seconds"] >= 1.4
    # A few heartbeats (0.05 s apart) later the loop is healthy again.
    await asyncio.sleep(0.3)
    assert (await get(server, "/healthz"))[0] == 200


async def test_healthz_is_503_when_the_heartbeat_died(server: OpsServer) -> None:
    await server.heartbeat.stop()
    status, text = await get(server, "/healthz")
    assert status == 503
    assert json.loads(text)["reason"] == "the heartbeat task is not running"


async def test_readyz_lists_what_failed_and_why(
    server: OpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.2)
    gateway, database = server.checks["gateway"], server.checks["database"]
    assert isinstance(gateway, Probe) and isinstance(database, Probe)
    gateway.answer = "not connected yet"
    database.answer = OSError("unable to open database file")

    async def slow() -> bool:
        await asyncio.sleep(5)
        return True

    server.checks["briefs"] = slow
    status, text = await get(server, "/readyz")
    assert status == 503
    body = json.loads(text)
    assert body["status"] == "not ready"
    assert body["failed"] == ["gateway", "database", "briefs"]
    assert body["checks"] == {
        "gateway": "not connected yet",
        "database": "OSError: unable to open database file",
        "briefs": "no answer within 0.2 s",
    }
    gateway.answer, database.answer = True, None

    async def quick() -> bool:
        return True

    server.checks["briefs"] = quick
    status, text = await get(server, "/readyz")
    assert status == 200
    assert json.loads(text) == {
        "status": "ready",
        "checks": {"gateway": "ok", "database": "ok", "briefs": "ok"},
    }


async def test_metrics_are_prometheus_text_with_every_instrument(server: OpsServer) -> None:
    server.metrics.commands.labels("quotes", "ok").inc(2)
    server.metrics.digest_lateness.observe(42)
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.port}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in (
        "briefbot_commands",
        "briefbot_command_latency_seconds",
        "briefbot_autocomplete_latency_seconds",
        "briefbot_digest_sends",
        "briefbot_digest_failures",
        "briefbot_digest_retries",
        "briefbot_digest_rate_limited",
        "briefbot_digest_lateness_seconds",
        "briefbot_briefs_loaded",
        "briefbot_briefs_broken",
        "briefbot_reload_duration_seconds",
        "briefbot_db_call_latency_seconds",
        "briefbot_gateway_latency_seconds",
        "briefbot_event_loop_lag_seconds",
        "process_resident_memory_bytes",
    ):
        assert name in families, name
    (count,) = [s for s in families["briefbot_commands"].samples if s.name.endswith("_total")]
    assert count.labels == {"command": "quotes", "outcome": "ok"} and count.value == 2
    lateness = {s.name: s.value for s in families["briefbot_digest_lateness_seconds"].samples}
    assert lateness["briefbot_digest_lateness_seconds_count"] == 1
    assert lateness["briefbot_digest_lateness_seconds_sum"] == 42


async def test_a_taken_port_is_a_clear_error_and_leaves_nothing_running(
    server: OpsServer,
) -> None:
    other = OpsServer(Metrics(), {})
    taken = f"cannot serve metrics on 127.0.0.1:{server.port} .*: address already in use"
    with pytest.raises(OpsServerError, match=taken):
        await other.start("127.0.0.1", server.port)
    assert not other.heartbeat.running


async def test_two_bots_keep_separate_counts() -> None:
    first, second = Metrics(), Metrics()
    first.commands.labels("briefs", "ok").inc()
    second.commands.labels("briefs", "ok")
    sample = ("briefbot_commands_total", {"command": "briefs", "outcome": "ok"})
    assert first.registry.get_sample_value(*sample) == 1
    assert second.registry.get_sample_value(*sample) == 0
