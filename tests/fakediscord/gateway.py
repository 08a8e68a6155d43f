"""The gateway part of the fake: HELLO, IDENTIFY -> READY + GUILD_CREATE, RESUME, dispatch.

Heartbeats are ACKed, GUILD_MEMBERS_CHUNK answers member requests, ``dispatch()`` sends any
event with per-session sequence numbers (buffered for RESUME), ``request_reconnect()`` sends
op 7, and more than 120 frames a minute from one connection is a violation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from . import payloads
from .models import FakeChannel
from .state import StateMixin

log = logging.getLogger(__name__)


class _Connection:
    """One gateway websocket."""

    def __init__(self, ws: web.WebSocketResponse, path: str, query: Mapping[str, str]) -> None:
        self.ws = ws
        self.path = path
        self.query = dict(query)
        self.session: _Session | None = None
        self.received: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def send(self, frame: str) -> None:
        # One writer at a time: dispatches can come from tests and request handlers at once.
        async with self._lock:
            if not self.ws.closed:
                await self.ws.send_str(frame)


@dataclass
class _Session:
    id: str
    intents: int
    shard: list[int]
    seq: int = 0
    conn: _Connection | None = None
    buffer: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=1000))


class GatewayMixin(StateMixin):
    """The websocket gateway and event dispatch."""

    def _init_gateway(self) -> None:
        self.gateway_received: list[dict[str, Any]] = []  # frames clients sent
        self.gateway_sent: list[dict[str, Any]] = []  # dispatches (op 0) the fake sent
        self.identifies = 0
        self.resumes = 0
        self._sessions: dict[str, _Session] = {}
        self._connections: set[_Connection] = set()

    def _add_gateway_routes(self, app: web.Application) -> None:
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/resume", self._gateway)

    async def _close_gateway(self) -> None:
        for conn in list(self._connections):
            await conn.ws.close(code=1001, message=b"fake Discord stopping")

    @property
    def sequence(self) -> int:
        """The last gateway sequence number sent on the newest session (0 before READY)."""
        return max((s.seq for s in self._sessions.values()), default=0)

    def _before_dispatch(self, event: str, data: Mapping[str, Any]) -> None:
        """Hook for parts that track what is dispatched (interactions)."""

    async def dispatch(self, event: str, data: Mapping[str, Any]) -> int:
        """Send a DISPATCH (op 0) ``event`` to every identified session; returns how many got it."""
        self._before_dispatch(event, data)
        delivered = 0
        for session in list(self._sessions.values()):
            if await self._send_dispatch(session, event, dict(data)):
                delivered += 1
        return delivered

    async def sync_channel(self, channel: FakeChannel | int, event: str | None = None) -> int:
        """Tell connected clients about a channel or thread added or changed after READY.

        ``event`` defaults to CHANNEL_CREATE (THREAD_CREATE for a thread); pass
        ``"CHANNEL_UPDATE"``/``"THREAD_UPDATE"`` after changing one in place.
        """
        channel_id = channel.id if isinstance(channel, FakeChannel) else channel
        guild, found = self._channel(channel_id)
        kind = "THREAD" if found.is_thread else "CHANNEL"
        return await self.dispatch(
            event or f"{kind}_CREATE", payloads.channel_payload(found, guild.id)
        )

    async def wait_for_identify(
        self,
        count: int = 1,
        timeout: float | None = 10.0,  # noqa: ASYNC109 - a test helper
    ) -> None:
        """Wait until ``count`` IDENTIFYs in total have been answered with READY."""
        await self._wait_until(
            lambda: True if self.identifies >= count else None, timeout, f"IDENTIFY #{count}"
        )

    async def request_reconnect(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Send op 7 RECONNECT to every client and wait until each has RESUMEd."""
        live = [c for c in self._connections if c.session is not None]
        target = self.resumes + len(live)
        for conn in live:
            await conn.send(json.dumps({"op": 7, "d": None}))
        await self._wait_until(
            lambda: True if self.resumes >= target else None, timeout, "clients to RESUME"
        )

    async def _send_dispatch(self, session: _Session, event: str, data: dict[str, Any]) -> bool:
        session.seq += 1
        payload = {"op": 0, "t": event, "s": session.seq, "d": data}
        self.gateway_sent.append(payload)
        frame = json.dumps(payload)
        session.buffer.append((session.seq, frame))
        conn = session.conn
        if conn is None or conn.ws.closed:
            return False  # kept in the buffer for a RESUME
        await conn.send(frame)
        return True

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(ws, request.path, request.query)
        self._connections.add(conn)
        try:
            hello = {"op": 10, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}}
            await conn.send(json.dumps({**hello, "s": None, "t": None}))
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(msg.data))
                else:
                    log.warning("fake gateway ignored a %s frame", msg.type)
        finally:
            self._connections.discard(conn)
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                # A 1000/1001 close ends the session on Discord: it cannot be resumed.
                if ws.close_code in (1000, 1001):
                    self._sessions.pop(session.id, None)
            self._poke()
        return ws

    async def _on_frame(self, conn: _Connection, frame: dict[str, Any]) -> None:
        self.gateway_received.append(frame)
        now = time.monotonic()
        conn.received.append(now)
        while conn.received and now - conn.received[0] > 60:
            conn.received.popleft()
        if len(conn.received) > 120:
            self._violation(
                "gateway-send-limit", "GATEWAY", conn.path, "more than 120 gateway sends in 60 s"
            )
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            await conn.send(json.dumps({"op": 11}))
        elif op == 2:
            await self._identify(conn, data or {})
        elif op == 6:
            await self._resume(conn, data or {})
        elif conn.session is None:
            await conn.ws.close(code=4003, message=b"Not authenticated.")
        elif op == 8:
            await self._member_chunk(conn.session, data or {})
        elif op in (3, 4):
            pass  # presence / voice state updates: nothing to answer
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode.")

    def _token_ok(self, token: object) -> bool:
        if not isinstance(token, str) or not token:
            return False
        return self.token is None or token.removeprefix("Bot ") == self.token

    async def _identify(self, conn: _Connection, data: dict[str, Any]) -> None:
        if not self._token_ok(data.get("token")):
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard = list(data.get("shard") or [0, 1])
        session = _Session(uuid.uuid4().hex, int(data.get("intents") or 0), shard)
        session.conn, conn.session = conn, session
        self._sessions[session.id] = session
        guilds = [g for g in self.guilds if (g.id >> 22) % shard[1] == shard[0]]
        ready = {
            "v": 10,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.resume_gateway_url,
            "shard": shard,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "presences": [],
            "relationships": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["rotterdam"],
            "auth": {},
        }
        await self._send_dispatch(session, "READY", ready)
        for guild in guilds:
            create = payloads.guild_create_payload(
                guild, self.bot_user, guild.member(self.application_id)
            )
            await self._send_dispatch(session, "GUILD_CREATE", create)
        self.identifies += 1
        self._poke()

    async def _resume(self, conn: _Connection, data: dict[str, Any]) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or not self._token_ok(data.get("token")):
            await conn.send(json.dumps({"op": 9, "d": False}))
            return
        old = session.conn
        session.conn, conn.session = conn, session
        if old is not None and old is not conn:
            await old.ws.close(code=4000, message=b"Session resumed elsewhere.")
        seq = int(data.get("seq") or 0)
        for number, frame in list(session.buffer):
            if number > seq:
                await conn.send(frame)
        await self._send_dispatch(session, "RESUMED", {})
        self.resumes += 1
        self._poke()

    async def _member_chunk(self, session: _Session, data: dict[str, Any]) -> None:
        chunk: dict[str, Any] = {
            "guild_id": data.get("guild_id"),
            "members": [],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)
