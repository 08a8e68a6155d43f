"""/metrics, /healthz and /readyz, served by an aiohttp server on the bot's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from bot.ops.metrics import CONTENT_TYPE_LATEST, Metrics

log = logging.getLogger(__name__)

# design.md: a loop blocked longer than this is unhealthy.
MAX_LAG = 1.0
# How long one readiness check may take before it counts as failed.
CHECK_TIMEOUT = 2.0

# A readiness check: True (or None) when fine; False, a reason string, or an exception when not.
CheckResult = bool | str | None
ReadinessCheck = Callable[[], CheckResult | Awaitable[CheckResult]]


class OpsServerError(RuntimeError):
    """The metrics and health server could not listen; the message names the address."""


class Heartbeat:
    """A task that wakes every `interval` seconds and records how late the loop woke it."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.lag = 0.0
        self._last_beat = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start beating on the running loop."""
        if self._task is None or self._task.done():
            self._last_beat = time.monotonic()
            self._task = asyncio.create_task(self._run(), name="briefbot-heartbeat")

    async def stop(self) -> None:
        """Stop beating."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    @property
    def running(self) -> bool:
        """Whether the heartbeat task is alive."""
        return self._task is not None and not self._task.done()

    def current_lag(self) -> float:
        """The worse of the last beat's lag and how overdue the next beat is right now.

        A request queued while the loop was blocked is answered before the heartbeat task has
        run again; the overdue time still shows the block.
        """
        overdue = time.monotonic() - self._last_beat - self.interval
        return max(self.lag, overdue, 0.0)

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.interval)
            now = time.monotonic()
            self.lag = max(0.0, now - before - self.interval)
            self._last_beat = now


async def _run_check(check: ReadinessCheck) -> str | None:
    """None when the check passed, else why it failed."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            result = check()
            if inspect.isawaitable(result):
                result = await result
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT:g} s"
    except Exception as exc:  # noqa: BLE001 - any failure of a probe is the probe's answer
        return f"{type(exc).__name__}: {exc}"
    if result is None or result is True:
        return None
    if result is False:
        return "not ready"
    return str(result)


class OpsServer:
    """Serves metrics, liveness and readiness; readiness checks are passed in by the bot."""

    def __init__(
        self,
        metrics: Metrics,
        checks: Mapping[str, ReadinessCheck],
        *,
        heartbeat: Heartbeat | None = None,
        max_lag: float = MAX_LAG,
    ) -> None:
        self.metrics = metrics
        self.checks = dict(checks)
        self.heartbeat = heartbeat or Heartbeat()
        self.max_lag = max_lag
        self.metrics.loop_lag.set_function(self.heartbeat.current_lag)
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        """The aiohttp application (for tests that serve it themselves)."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        return app

    async def start(self, host: str, port: int) -> None:
        """Start the heartbeat and listen on host:port (0 picks a free port)."""
        self.heartbeat.start()
        # No access log: a scraper every few seconds would drown everything else.
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            await self.heartbeat.stop()
            raise OpsServerError(
                f"cannot serve metrics on {host}:{port} (BRIEFBOT_METRICS_ADDR): "
                f"{exc.strerror or exc}"
            ) from exc
        self._runner = runner
        log.info("metrics and health on http://%s", self.address)

    @property
    def port(self) -> int:
        """The port actually bound."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("the ops server is not running")
        return int(self._runner.addresses[0][1])

    @property
    def address(self) -> str:
        """host:port actually bound (IPv6 hosts in brackets)."""
        assert self._runner is not None
        host = str(self._runner.addresses[0][0])
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    async def stop(self) -> None:
        """Stop listening and stop the heartbeat."""
        if self._runner is not None:
            with contextlib.suppress(Exception):  # closing must not mask why the bot stopped
                await self._runner.cleanup()
            self._runner = None
        await self.heartbeat.stop()

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether the process is live, with the loop lag and the reason when not."""
        lag = self.heartbeat.current_lag()
        body: dict[str, Any] = {"loop_lag_seconds": round(lag, 3)}
        if not self.heartbeat.running:
            body["reason"] = "the heartbeat task is not running"
        elif lag > self.max_lag:
            body["reason"] = f"event loop blocked: lag {lag:.2f} s > {self.max_lag:g} s"
        body["status"] = "unhealthy" if "reason" in body else "ok"
        return "reason" not in body, body

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Run every check at once; ready when all pass."""
        names = list(self.checks)
        results = await asyncio.gather(*(_run_check(self.checks[n]) for n in names))
        checks = {n: (r or "ok") for n, r in zip(names, results, strict=True)}
        failed = [n for n, r in zip(names, results, strict=True) if r is not None]
        body: dict[str, Any] = {"status": "not ready" if failed else "ready", "checks": checks}
        if failed:
            body["failed"] = failed
        return not failed, body

    async def _metrics(self, request: web.Request) -> web.Response:
        del request
        response = web.Response(body=self.metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def _healthz(self, request: web.Request) -> web.Response:
        del request
        ok, body = self.health()
        return web.json_response(body, status=200 if ok else 503)

    async def _readyz(self, request: web.Request) -> web.Response:
        del request
        ok, body = await self.readiness()
        return web.json_response(body, status=200 if ok else 503)
