"""Run an unmodified discord.py client against a :class:`FakeDiscord` inside a test."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from .server import FakeDiscord

log = logging.getLogger(__name__)

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.contextmanager
def patched_endpoints(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base and default gateway at ``fake``; restore them afterwards.

    These two class attributes are the only patching: every REST route (webhooks and
    interaction callbacks included) is built from ``Route.BASE`` when the request is made,
    and the gateway URL is read at connect time (later ones come from READY's
    ``resume_gateway_url``, which points at the fake too).
    """
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.base_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@contextlib.asynccontextmanager
async def run_client(
    client: ClientT,
    fake: FakeDiscord,
    token: str = "fake-token",
    *,
    ready_timeout: float = 10.0,
    guild_ready_timeout: float = 0.1,
) -> AsyncIterator[ClientT]:
    """Start ``client`` against ``fake``, yield it once ready, then close it cleanly.

    Works for any ``discord.Client`` or ``commands.Bot`` (``start()`` may be overridden).
    ``guild_ready_timeout`` replaces discord.py's 2 s wait after the last GUILD_CREATE
    before ``on_ready``. Errors from ``start()`` (bad token, crash in ``setup_hook``)
    surface here instead of hanging the test.
    """
    # discord.py waits this long after the last GUILD_CREATE before firing on_ready.
    client._connection.guild_ready_timeout = guild_ready_timeout
    with patched_endpoints(fake):
        identified = fake.identifies + 1
        runner = asyncio.create_task(client.start(token), name="fakediscord-client")
        try:
            try:
                async with asyncio.timeout(ready_timeout):
                    await _until_ready(client, fake, runner, identified)
            except TimeoutError:
                raise TimeoutError(
                    f"client not ready after {ready_timeout}s "
                    f"({fake.identifies - identified + 1} IDENTIFY answered by the fake)"
                ) from None
            yield client
        finally:
            crash = await _shutdown(client, runner)
    if crash is not None:
        # start() died while the test ran (e.g. the gateway closed with 4004): say so.
        raise crash


async def _until_ready(
    client: discord.Client,
    fake: FakeDiscord,
    runner: asyncio.Task[None],
    identified: int,
) -> None:
    """Wait for IDENTIFY (login done, so wait_until_ready is usable), then for on_ready."""
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: fake.wait_for_identify(identified, None),
        client.wait_until_ready,
    ]
    for step in steps:
        waiter = asyncio.ensure_future(step())
        try:
            done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not waiter.done():
                waiter.cancel()
                await asyncio.gather(waiter, return_exceptions=True)
        if runner in done:
            runner.result()  # re-raises what start() failed with
            raise RuntimeError("client.start() returned before the client was ready")
        waiter.result()


async def _shutdown(client: discord.Client, runner: asyncio.Task[None]) -> BaseException | None:
    """Close the client, wait for start() and its leftover tasks; return what start() raised."""
    before = asyncio.all_tasks()
    if not client.is_closed():
        await client.close()
    try:
        async with asyncio.timeout(5.0):
            await asyncio.gather(runner, return_exceptions=True)
    except TimeoutError:
        log.warning("client.start() did not return after close(); cancelling it")
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    # Event handlers discord.py scheduled (on_ready, on_disconnect...) may still be running.
    current = asyncio.current_task()
    leftovers = {t for t in asyncio.all_tasks() - before if t is not current and not t.done()}
    leftovers |= {t for t in before if _is_event_handler(t) and not t.done()}
    if leftovers:
        _, pending = await asyncio.wait(leftovers, timeout=2.0)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    if runner.cancelled():
        return None
    return runner.exception()


def _is_event_handler(task: asyncio.Task[object]) -> bool:
    """Whether a task runs a discord.py event handler or app command (named so by discord.py)."""
    name = task.get_name()
    return name.startswith("discord.py: ") or name == "CommandTree-invoker"
