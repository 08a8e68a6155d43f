"""Local servers, a name map and a connect guard for the fetcher tests: all on 127.0.0.1."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.ingest.fetch import Fetcher

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

# Public-looking test names the fetcher is told are allowed to reach the local server.
LOCAL_NAMES = ("feeds.test", "cdn.test", "other.test")


class MapResolver(AbstractResolver):
    """Resolves test hostnames from a table; an unknown name fails like a DNS miss."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls.append(host)
        if host not in self.table:
            raise OSError(f"no such host {host}")
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in self.table[host]
        ]

    async def close(self) -> None:
        return None


@dataclass
class Seen:
    """One request the local server received."""

    path: str
    query: str
    headers: dict[str, str]


@dataclass
class LocalServer:
    """An aiohttp server on 127.0.0.1 that records every request; tests set the routes."""

    port: int = 0
    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def paths(self) -> list[str]:
        return [s.path for s in self.seen]

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(Seen(request.path, request.query_string, dict(request.headers)))
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="no such page")
        return await handler(request)


@dataclass
class RawServer:
    """A bare TCP server on 127.0.0.1 for responses aiohttp would not send (lies, resets)."""

    handler: RawHandler | None = None
    port: int = 0
    connections: int = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            if self.handler is not None:
                await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@dataclass
class ConnectLog:
    """Every address the event loop was asked to connect a socket to."""

    addresses: list[str] = field(default_factory=list)


def guard_connects(monkeypatch: pytest.MonkeyPatch) -> ConnectLog:
    """Record socket connects; refuse (never send to) anything outside 127.0.0.0/8."""
    loop = asyncio.get_running_loop()
    real = loop.sock_connect
    log = ConnectLog()
    loopback = ipaddress.ip_network("127.0.0.0/8")

    async def guarded(sock: socket.socket, address: Any) -> None:
        host = str(address[0])
        log.addresses.append(host)
        ip = ipaddress.ip_address(host.split("%", maxsplit=1)[0])
        if not (isinstance(ip, ipaddress.IPv4Address) and ip in loopback):
            raise AssertionError(f"the test tried to connect to {host}")
        await real(sock, address)

    monkeypatch.setattr(loop, "sock_connect", guarded)
    return log


@asynccontextmanager
async def local_server() -> AsyncIterator[LocalServer]:
    """The recording HTTP server, for as long as the block runs."""
    local = LocalServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", local.dispatch)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    local.port = runner.addresses[0][1]
    try:
        yield local
    finally:
        await runner.cleanup()


@asynccontextmanager
async def raw_server() -> AsyncIterator[RawServer]:
    """The bare TCP server, for as long as the block runs."""
    local = RawServer()
    srv = await asyncio.start_server(local.serve, "127.0.0.1", 0)
    local.port = srv.sockets[0].getsockname()[1]
    try:
        yield local
    finally:
        srv.close()
        await srv.wait_closed()


def local_resolver(**extra: list[str]) -> MapResolver:
    """The test names on 127.0.0.1, plus `extra` names (underscores read as dots)."""
    table = {name: ["127.0.0.1"] for name in LOCAL_NAMES}
    table.update({name.replace("_", "."): addresses for name, addresses in extra.items()})
    return MapResolver(table)


def local_fetcher(**options: Any) -> Fetcher:
    """A fetcher with the test names allow-listed and, unless given, no spacing."""
    options.setdefault("private_hosts", LOCAL_NAMES)
    options.setdefault("resolver", local_resolver())
    options.setdefault("host_interval", 0)
    options.setdefault("total_timeout", 5)
    return Fetcher(**options)


class FakeTime:
    """A clock that moves only when the fetcher sleeps on it (or a test moves it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
