"""A fake Discord (gateway + REST) served by aiohttp on 127.0.0.1 for end-to-end tests.

Unmodified discord.py talks to it once ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` point here (see ``harness.run_client``).

What it does, in Discord's own terms:

* Gateway: HELLO, IDENTIFY -> READY + GUILD_CREATE per guild, heartbeat ACKs, RESUME ->
  replay + RESUMED, GUILD_MEMBERS_CHUNK for member requests, ``dispatch()`` of any event
  with per-session sequence numbers, ``request_reconnect()`` (op 7).
* REST under ``/api/v10``: login, application info, gateway URLs, command sync, interaction
  callbacks and webhooks (original response, followups), channel messages. Unknown routes
  get Discord's 404 body and are listed in ``unhandled``.
* Every request is recorded (:class:`RecordedRequest`) and, when the OpenAPI spec is
  present, its body is checked against the spec and the docs rules (``spec.py``);
  problems land in ``violations``. Server-side rules are checked too: the 3-second
  initial-response deadline, the 15-minute token lifetime, callback types per interaction
  type, 120 gateway sends per minute.
* Nonce dedupe (``enforce_nonce``), fault injection (``fail_next``), always-404/403
  channels and an optional rate-limit mode (global 50/s + per-route buckets).

discord.py quirks this mirrors:

* JSON bodies are only parsed when Content-Type is exactly ``application/json``.
* A 429 without a ``Via`` header is treated as a Cloudflare ban and raised, not retried.
* 500/502/504/524 are retried after sleeping 1, 3, 5, 7 s (webhooks: any 5xx), so one
  injected 500 costs a test a real second.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import socket
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, TypeVar

import discord
from aiohttp import WSMsgType, web

from . import payloads
from .payloads import (
    DEFAULT_APPLICATION_ID,
    DEFAULT_USER_ID,
    FakeChannel,
    FakeGuild,
    Snowflakes,
)
from .ratelimit import RateLimiter, RateLimits, Verdict, rate_limited_body, too_many_headers
from .spec import EPHEMERAL, LOADING, SpecValidator, Violation, get_validator, validate_docs

log = logging.getLogger(__name__)

T = TypeVar("T")

API_PREFIX = "/api/v10"

# Discord's error bodies (developers/topics/opcodes-and-status-codes.mdx).
NOT_FOUND = {"message": "404: Not Found", "code": 0}
UNAUTHORIZED = {"message": "401: Unauthorized", "code": 0}
SERVER_ERROR = {"message": "500: Internal Server Error", "code": 0}
BAD_GATEWAY = {"message": "502: Bad Gateway", "code": 0}
MISSING_ACCESS = {"message": "Missing Access", "code": 50001}
MISSING_PERMISSIONS = {"message": "Missing Permissions", "code": 50013}
UNKNOWN_CHANNEL = {"message": "Unknown Channel", "code": 10003}
UNKNOWN_MESSAGE = {"message": "Unknown Message", "code": 10008}
UNKNOWN_USER = {"message": "Unknown User", "code": 10013}
UNKNOWN_WEBHOOK = {"message": "Unknown Webhook", "code": 10015}
UNKNOWN_INTERACTION = {"message": "Unknown interaction", "code": 10062}
ALREADY_ACKNOWLEDGED = {"message": "Interaction has already been acknowledged.", "code": 40060}
INVALID_WEBHOOK_TOKEN = {"message": "Invalid Webhook Token", "code": 50027}
INVALID_FORM_BODY = {"message": "Invalid Form Body", "code": 50035}


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response whose Content-Type is exactly ``application/json``.

    ``web.json_response`` appends ``; charset=utf-8``, and discord.py compares the header
    verbatim: it would hand the bot a str instead of a dict.
    """
    response = web.Response(status=status, body=json.dumps(data).encode(), headers=headers)
    response.content_type = "application/json"
    return response


@dataclass
class RecordedRequest:
    """One HTTP request the bot made."""

    method: str
    path: str  # relative to /api/v10, without the query
    query: dict[str, str]
    json: Any  # parsed JSON body (payload_json for multipart); None without a body
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival
    uploads: list[tuple[str, int]] = field(default_factory=list)  # (file name, size)
    route: str = ""  # the fake's route template, e.g. /channels/{channel_id}/messages
    status: int = 0  # status of the response sent
    injected: bool = False  # answered by fail_next()
    rate_limited: bool = False  # answered 429 by the rate-limit mode
    deduplicated: bool = False  # enforce_nonce returned an earlier message
    violations: list[Violation] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        """Names of the uploaded files (multipart ``files[n]``)."""
        return [name for name, _ in self.uploads]

    @property
    def reached_handler(self) -> bool:
        """Whether Discord would have acted on this request (not a 429/fault answer)."""
        return not (self.injected or self.rate_limited)


RECORD = web.RequestKey("record", RecordedRequest)


@dataclass
class FaultRule:
    """A scripted failure for the next matching requests (see ``FakeDiscord.fail_next``)."""

    method: str
    pattern: re.Pattern[str]
    status: int
    remaining: int
    body: Any
    headers: dict[str, str]
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to the request."""
        return (
            self.remaining > 0
            and self.method in ("*", method)
            and self.pattern.search(path) is not None
        )


@dataclass
class InteractionRecord:
    """An interaction the fake dispatched and what the bot did with it."""

    payload: dict[str, Any]
    dispatched_at: float
    callback: dict[str, Any] | None = None
    callback_at: float | None = None
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> int:
        """The interaction id."""
        return int(self.payload["id"])

    @property
    def token(self) -> str:
        """The interaction token."""
        return str(self.payload["token"])

    @property
    def type(self) -> int:
        """The interaction type (2 command, 3 component, 4 autocomplete, 5 modal submit)."""
        return int(self.payload["type"])


class CommandNotVisible(AssertionError):
    """Discord would not show this command to the member, so it could not be invoked."""


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


class FakeDiscord:
    """A fake Discord API and gateway on 127.0.0.1 for discord.py end-to-end tests."""

    def __init__(
        self,
        *,
        guilds: Sequence[FakeGuild] | None = None,
        application_id: int = DEFAULT_APPLICATION_ID,
        bot_name: str = "briefbot",
        token: str | None = None,
        heartbeat_interval: float = 41.25,
        nonce_window: float = 300.0,
        callback_deadline: float = 3.0,
        token_lifetime: float = 900.0,
        validate: bool = True,
        reject_invalid: bool = False,
        check_responses: bool = False,
        spec_path: Path | None = None,
    ) -> None:
        """Configure the fake; nothing listens until ``start()``.

        ``token`` None accepts any bot token. ``nonce_window`` is how long a nonce sent with
        ``enforce_nonce`` dedupes resends to the same channel. ``reject_invalid`` answers
        bodies with violations with Discord's 400 Invalid Form Body instead of accepting them.
        ``check_responses`` validates the fake's own JSON responses against the spec and
        reports mismatches in ``server_errors`` (a fidelity self-check).
        """
        self.guilds: list[FakeGuild] = list(guilds) if guilds is not None else [FakeGuild()]
        self.application_id = application_id
        self.token = token
        self.heartbeat_interval = heartbeat_interval
        self.nonce_window = nonce_window
        self.callback_deadline = callback_deadline
        self.token_lifetime = token_lifetime
        self.reject_invalid = reject_invalid
        self.check_responses = check_responses
        # Applications share their id with their bot user (as all recent ones do).
        self.bot_user = payloads.user_payload(application_id, bot_name, bot=True)

        self.validator: SpecValidator | None = get_validator(spec_path) if validate else None
        self._validate_requests = validate
        self.violations: list[Violation] = []
        self.warnings: list[str] = []
        self.unhandled: list[RecordedRequest] = []
        self.server_errors: list[str] = []
        self.unknown_channels: set[int] = set()
        self.forbidden_channels: set[int] = set()
        self.gateway_received: list[dict[str, Any]] = []  # frames clients sent
        self.gateway_sent: list[dict[str, Any]] = []  # dispatches (op 0) the fake sent
        self.identifies = 0
        self.resumes = 0

        self._ids = Snowflakes()
        self._requests: list[RecordedRequest] = []
        self._faults: list[FaultRule] = []
        self._limiter: RateLimiter | None = None
        self._messages: dict[int, dict[str, Any]] = {}
        self._channel_log: dict[int, list[int]] = {}
        self._from_channel_endpoint: set[int] = set()
        self._nonces: dict[tuple[str, str], tuple[int, float]] = {}
        self._commands: dict[int | None, dict[tuple[int, str], dict[str, Any]]] = {}
        self._interactions: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self._sessions: dict[str, _Session] = {}
        self._connections: set[_Connection] = set()
        self._tick = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def spec_active(self) -> bool:
        """Whether request bodies are validated (the spec file was found)."""
        return self.validator is not None

    @property
    def base_url(self) -> str:
        """What ``discord.http.Route.BASE`` must be set to."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """What ``DiscordWebSocket.DEFAULT_GATEWAY`` must be set to."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        """The READY ``resume_gateway_url``; a separate path so tests can see it is used."""
        return f"ws://127.0.0.1:{self.port}/gateway/resume"

    @property
    def guild(self) -> FakeGuild:
        """The first configured guild."""
        return self.guilds[0]

    @property
    def guild_id(self) -> int:
        """The first guild's id."""
        return self.guild.id

    @property
    def channel_id(self) -> int:
        """The first guild's first channel id."""
        return self.guild.channels[0].id

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application(middlewares=[self._middleware], client_max_size=32 * 1024**2)
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        log.debug("fake Discord listening on %s", self.base_url)

    async def stop(self) -> None:
        """Close gateway connections and stop listening."""
        for conn in list(self._connections):
            await conn.ws.close(code=1001, message=b"fake Discord stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ waiting

    def _poke(self) -> None:
        """Wake everything waiting in ``_wait_until``."""
        self._tick.set()
        self._tick = asyncio.Event()

    async def _wait_until(
        self, check: Callable[[], T | None], seconds: float | None, what: str
    ) -> T:
        """Poll ``check`` after every state change until it returns a value."""

        async def poll() -> T:
            while True:
                result = check()
                if result is not None:
                    return result
                await self._tick.wait()

        try:
            return await asyncio.wait_for(poll(), seconds)
        except TimeoutError:
            recent = "\n  ".join(f"{r.method} {r.path} -> {r.status}" for r in self._requests[-10:])
            raise TimeoutError(
                f"fake Discord: timed out after {seconds}s waiting for {what}; "
                f"last requests:\n  {recent or '(none)'}"
            ) from None

    # ------------------------------------------------------------------ inspection

    def requests(
        self, method: str | None = None, path_contains: str | None = None
    ) -> list[RecordedRequest]:
        """Recorded requests, optionally filtered by method and a path substring."""
        return [
            r
            for r in self._requests
            if (method is None or r.method == method.upper())
            and (path_contains is None or path_contains in r.path)
        ]

    async def wait_for_request(
        self,
        predicate: Callable[[RecordedRequest], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper; callers want a plain number
        *,
        since: int = 0,
    ) -> RecordedRequest:
        """The first recorded request (from index ``since``) matching ``predicate``."""

        def check() -> RecordedRequest | None:
            return next((r for r in self._requests[since:] if r.status and predicate(r)), None)

        return await self._wait_until(check, timeout, "a matching request")

    def messages(
        self, channel_id: int, *, include_interactions: bool = False
    ) -> list[dict[str, Any]]:
        """Live messages created in a channel by ``POST /channels/{id}/messages``, oldest first.

        With ``include_interactions`` also non-ephemeral interaction responses and followups.
        """
        return [
            self._messages[mid]
            for mid in self._channel_log.get(channel_id, [])
            if mid in self._messages
            and (include_interactions or mid in self._from_channel_endpoint)
        ]

    def message(self, message_id: int) -> dict[str, Any] | None:
        """Any live message by id."""
        return self._messages.get(message_id)

    def callbacks(self) -> list[dict[str, Any]]:
        """Bodies of the interaction callbacks the fake accepted, in order."""
        return [r.json for r in self.requests("POST", "/callback") if 200 <= r.status < 300]

    def deduplicated(self) -> list[RecordedRequest]:
        """Create-message requests answered with an earlier message because of their nonce."""
        return [r for r in self._requests if r.deduplicated]

    def interactions(self) -> list[InteractionRecord]:
        """Every interaction dispatched, in order."""
        return list(self._interactions.values())

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Commands the bot synced (global when ``guild_id`` is None), as Discord stores them."""
        return list(self._commands.get(guild_id, {}).values())

    @property
    def sequence(self) -> int:
        """The last gateway sequence number sent on the newest session (0 before READY)."""
        return max((s.seq for s in self._sessions.values()), default=0)

    def take_violations(self) -> list[Violation]:
        """Return and forget recorded violations (for tests that provoke them on purpose)."""
        found, self.violations = self.violations, []
        return found

    def assert_no_violations(self, *, include_unhandled: bool = True) -> None:
        """Fail with every recorded violation, fake-side error and unhandled route."""
        problems = [str(v) for v in self.violations]
        problems += [f"fake Discord error: {e}" for e in self.server_errors]
        if include_unhandled:
            problems += [
                f"unhandled route (the fake answered 404): {r.method} {r.path}"
                for r in self.unhandled
            ]
        assert not problems, "Discord API problems:\n  " + "\n  ".join(problems)

    # ------------------------------------------------------------------ scripting

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int = 1,
        body: Any = None,
        *,
        retry_after: float = 0.05,
        scope: str = "user",
        headers: Mapping[str, str | None] | None = None,
    ) -> FaultRule:
        """Answer the next ``times`` matching requests with ``status`` instead of handling them.

        ``path_regex`` is searched in the path relative to ``/api/v10`` (``"*"`` method
        matches any). Default bodies: 429 -> Discord's rate-limit body with ``Via: 1.1
        google``, ``Retry-After`` and ``X-RateLimit-Scope`` (``scope="global"`` adds
        ``X-RateLimit-Global``); 403 -> Missing Permissions (50013); 404 -> Unknown Channel
        (10003) on channel routes; 5xx -> Discord's 5xx body. discord.py retries a 429 after
        ``retry_after`` and a 500/502/504 after sleeping 1 s (then 3, 5, 7), so keep 5xx
        faults rare. ``headers`` adds headers or, with a None value, removes a default one
        (``{"Via": None}`` makes discord.py treat a 429 as a Cloudflare ban).
        """
        default_headers: dict[str, str] = {}
        if status == 429:
            if body is None:
                body = rate_limited_body(retry_after, is_global=scope == "global")
            default_headers = too_many_headers(retry_after, scope)
        elif body is None:
            body = {
                403: MISSING_PERMISSIONS,
                404: UNKNOWN_CHANNEL if "channels" in path_regex else NOT_FOUND,
                400: INVALID_FORM_BODY,
                401: UNAUTHORIZED,
                502: BAD_GATEWAY,
            }.get(status, SERVER_ERROR if status >= 500 else NOT_FOUND)
        for key, value in (headers or {}).items():
            if value is None:
                default_headers.pop(key, None)
            else:
                default_headers[key] = value
        rule = FaultRule(
            method.upper(), re.compile(path_regex), status, times, body, default_headers
        )
        self._faults.append(rule)
        return rule

    def enable_rate_limits(self, limits: RateLimits | None = None) -> RateLimiter:
        """Switch on Discord-like rate limiting (X-RateLimit-* headers, real 429s).

        Defaults: 50 requests/s global (interaction endpoints exempt), 5 per 5 s per channel
        for message create/edit/delete, 5 per 2 s per interaction webhook, 50/s elsewhere.
        The returned limiter counts the 429s it answered in ``hits``.
        """
        self._limiter = RateLimiter(limits or RateLimits())
        return self._limiter

    def disable_rate_limits(self) -> None:
        """Switch rate limiting off again."""
        self._limiter = None

    # ------------------------------------------------------------------ gateway

    async def dispatch(self, event: str, data: Mapping[str, Any]) -> int:
        """Send a DISPATCH (op 0) ``event`` to every identified session; returns how many got it."""
        if event == "INTERACTION_CREATE" and {"id", "token", "type"} <= data.keys():
            self._track_interaction(data)
        delivered = 0
        for session in list(self._sessions.values()):
            if await self._send_dispatch(session, event, dict(data)):
                delivered += 1
        return delivered

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
            await self._send_dispatch(
                session, "GUILD_CREATE", payloads.guild_create_payload(guild, self.bot_user)
            )
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

    # ------------------------------------------------------------------ interactions

    def _track_interaction(self, data: Mapping[str, Any]) -> None:
        record = InteractionRecord(dict(data), time.monotonic())
        self._interactions[record.id] = record
        self._by_token[record.token] = record

    def _find_command(self, name: str, guild_id: int) -> tuple[dict[str, Any] | None, bool]:
        """The synced CHAT_INPUT command ``name`` and whether it is a guild command."""
        for scope, is_guild in ((guild_id, True), (None, False)):
            command = self._commands.get(scope, {}).get((1, name))
            if command is not None:
                return command, is_guild
        return None, True

    def _channel(self, channel_id: int) -> tuple[FakeGuild, FakeChannel]:
        for guild in self.guilds:
            for channel in guild.channels:
                if channel.id == channel_id:
                    return guild, channel
        # An unconfigured id: Discord would know it, so pretend it is a text channel.
        return self.guild, FakeChannel(channel_id, f"channel-{channel_id}")

    def interaction(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        kind: int = 2,
        focused: str | None = None,
        channel_id: int | None = None,
        user: Mapping[str, Any] | None = None,
        permissions: int | discord.Permissions | None = None,
        app_permissions: int | None = None,
        locale: str = "en-US",
        resolved: Mapping[str, Any] | None = None,
        check_permissions: bool = True,
    ) -> dict[str, Any]:
        """Build an INTERACTION_CREATE payload for a slash command (``kind=2``) or autocomplete (4).

        ``command`` may hold subcommands: ``"digest subscribe"`` or ``"admin briefs reload"``
        (group, then subcommand). ``options`` maps option names to values (types come from
        the synced command, else from the Python type) or is a raw list of option dicts for
        the innermost level; channel and user options get Discord's ``resolved`` data.
        ``focused`` names the option being typed (autocomplete). ``permissions`` is the
        member's whole permission set, ordinary by default (``payloads.MEMBER_PERMISSIONS``;
        e.g. ``MEMBER_PERMISSIONS | MANAGE_GUILD`` or ``ADMINISTRATOR``). With
        ``check_permissions``, a command whose ``default_member_permissions`` the member
        lacks raises CommandNotVisible, because Discord would not offer it.
        """
        guild, channel = self._channel(channel_id or self.channel_id)
        name, *path = command.split()
        definition, is_guild_command = self._find_command(name, guild.id)
        member_permissions = _permission_value(permissions)
        if check_permissions and definition is not None:
            self._check_visible(name, definition, member_permissions)

        leaf_defs, path_kinds = _descend(definition, path)
        extra_resolved: dict[str, dict[str, Any]] = {}
        if isinstance(options, Mapping):
            leaf = []
            for option_name, value in options.items():
                option_type = _option_type(leaf_defs, option_name, value)
                entry: dict[str, Any] = {"type": option_type, "name": option_name, "value": value}
                if option_type in (
                    payloads.USER,
                    payloads.CHANNEL,
                    payloads.ROLE,
                    payloads.MENTIONABLE,
                    payloads.ATTACHMENT,
                ):
                    entry["value"] = str(value)
                    self._resolve(option_type, int(value), guild, extra_resolved)
                if option_name == focused:
                    # Discord sends the partial input of the focused option as typed text.
                    entry["focused"] = True
                    entry["value"] = str(value)
                leaf.append(entry)
        else:
            leaf = [dict(o) for o in options or []]
        if kind == 4 and not any(o.get("focused") for o in leaf):
            raise ValueError("an autocomplete interaction needs a focused option")
        for part, part_kind in reversed(list(zip(path, path_kinds, strict=True))):
            leaf = [{"type": part_kind, "name": part, "options": leaf}]

        data: dict[str, Any] = {
            "id": definition["id"] if definition else str(_stable_id(name)),
            "name": name,
            "type": 1,
        }
        if leaf:
            data["options"] = leaf
        if is_guild_command:
            data["guild_id"] = str(guild.id)
        if definition is not None and kind == 4:
            data["version"] = definition["version"]
        merged = {**extra_resolved, **(resolved or {})}
        if merged:
            data["resolved"] = merged
        return self._envelope(
            kind, data, guild, channel, user, member_permissions, app_permissions, locale
        )

    def _envelope(
        self,
        kind: int,
        data: dict[str, Any],
        guild: FakeGuild,
        channel: FakeChannel,
        user: Mapping[str, Any] | None,
        permissions: int,
        app_permissions: int | None,
        locale: str,
    ) -> dict[str, Any]:
        """The INTERACTION_CREATE payload around ``data``, with a fresh id and token."""
        return payloads.interaction_payload(
            interaction_id=self._ids.next(),
            token=payloads.new_token(),
            interaction_type=kind,
            application_id=self.application_id,
            guild=guild,
            channel=channel,
            user=user or payloads.user_payload(DEFAULT_USER_ID, "tester", global_name="Tester"),
            permissions=permissions,
            app_permissions=payloads.APP_PERMISSIONS
            if app_permissions is None
            else app_permissions,
            data=data,
            locale=locale,
        )

    def component_interaction(
        self,
        message: Mapping[str, Any] | int,
        custom_id: str,
        *,
        values: Sequence[str] | None = None,
        user: Mapping[str, Any] | None = None,
        permissions: int | discord.Permissions | None = None,
        app_permissions: int | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """Build a MESSAGE_COMPONENT interaction (type 3): a click on a button of ``message``.

        ``message`` is a message dict or the id of one the bot sent; ``values`` makes it a
        string-select choice instead. The component must exist on the message, as on Discord.
        """
        if isinstance(message, int):
            found = self._messages.get(message)
            if found is None:
                raise KeyError(f"the fake has no message {message}")
            message = found
        component = _find_component(message.get("components") or [], custom_id)
        if component is None:
            raise ValueError(f"message {message['id']} has no component {custom_id!r}")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            data["values"] = list(values)
        guild, channel = self._channel(int(message["channel_id"]))
        payload = self._envelope(
            3,
            data,
            guild,
            channel,
            user,
            _permission_value(permissions),
            app_permissions,
            locale,
        )
        payload["message"] = dict(message)
        return payload

    async def click(
        self,
        message: Mapping[str, Any] | int,
        custom_id: str,
        *,
        values: Sequence[str] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper; callers want a plain number
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Click a component (or pick ``values`` in a select) and return the callback body."""
        payload = self.component_interaction(message, custom_id, values=values, **kwargs)
        return await self._send_interaction(payload, timeout)

    @staticmethod
    def _check_visible(name: str, definition: Mapping[str, Any], permissions: int) -> None:
        required = definition.get("default_member_permissions")
        if required is None or permissions & payloads.ADMINISTRATOR:
            return
        needed = int(required)
        if needed == 0 or permissions & needed != needed:
            raise CommandNotVisible(
                f"/{name} needs default_member_permissions {needed}; a member with "
                f"permissions {permissions} would not see it (pass check_permissions=False "
                "to send it anyway)"
            )

    def _resolve(
        self, option_type: int, value: int, guild: FakeGuild, into: dict[str, dict[str, Any]]
    ) -> None:
        """Add resolved data for a channel or user option, as Discord does."""
        if option_type == payloads.CHANNEL:
            _, channel = self._channel(value)
            entry = payloads.channel_payload(channel, guild.id)
            entry["permissions"] = str(payloads.MEMBER_PERMISSIONS)
            into.setdefault("channels", {})[str(value)] = entry
        elif option_type in (payloads.USER, payloads.MENTIONABLE):
            user = payloads.user_payload(value, f"user{value}")
            member = payloads.member_payload(user, payloads.MEMBER_PERMISSIONS)
            for key in ("user", "deaf", "mute"):  # resolved members are partial
                member.pop(key)
            into.setdefault("users", {})[str(value)] = user
            into.setdefault("members", {})[str(value)] = member

    async def invoke(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper; callers want a plain number
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Dispatch a slash command and return the body of the bot's interaction callback."""
        return await self._send_interaction(self.interaction(command, options, **kwargs), timeout)

    async def autocomplete(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        focused: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper; callers want a plain number
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Dispatch an autocomplete interaction and return the callback body (type 8).

        ``focused`` defaults to the last option given.
        """
        if focused is None and isinstance(options, Mapping) and options:
            focused = list(options)[-1]
        payload = self.interaction(command, options, kind=4, focused=focused, **kwargs)
        return await self._send_interaction(payload, timeout)

    async def _send_interaction(self, payload: dict[str, Any], seconds: float) -> dict[str, Any]:
        prefix = f"/interactions/{payload['id']}/"
        since = len(self._requests)
        if not await self.dispatch("INTERACTION_CREATE", payload):
            raise RuntimeError("fake Discord: no client is connected to receive the interaction")
        request = await self.wait_for_request(
            lambda r: r.path.startswith(prefix) and r.reached_handler,
            seconds,
            since=since,
        )
        return dict(request.json or {})

    # ------------------------------------------------------------------ HTTP plumbing

    def _add_routes(self, app: web.Application) -> None:
        def add(method: str, path: str, handler: Callable[[web.Request], Awaitable[Any]]) -> None:
            app.router.add_route(method, API_PREFIX + path, handler)

        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/resume", self._gateway)
        add("GET", "/gateway", self._get_gateway)
        add("GET", "/gateway/bot", self._get_gateway_bot)
        add("GET", "/users/@me", self._get_me)
        add("GET", "/users/{user_id}", self._get_user)
        add("GET", "/oauth2/applications/@me", self._get_application)
        for scope in ("", "/guilds/{guild_id}"):
            add("PUT", f"/applications/{{application_id}}{scope}/commands", self._put_commands)
            add("GET", f"/applications/{{application_id}}{scope}/commands", self._get_commands)
        add("POST", "/interactions/{interaction_id}/{interaction_token}/callback", self._callback)
        add("POST", "/webhooks/{webhook_id}/{webhook_token}", self._followup)
        webhook_message = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
        add("GET", webhook_message, self._get_webhook_message)
        add("PATCH", webhook_message, self._edit_webhook_message)
        add("DELETE", webhook_message, self._delete_webhook_message)
        add("GET", "/channels/{channel_id}", self._get_channel)
        add("POST", "/channels/{channel_id}/typing", self._typing)
        add("GET", "/channels/{channel_id}/messages", self._list_messages)
        add("POST", "/channels/{channel_id}/messages", self._create_message)
        add("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message)
        add("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message)
        add("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message)
        app.router.add_route("*", "/{tail:.*}", self._unhandled)

    async def _read(self, request: web.Request) -> RecordedRequest:
        """Record a request, parsing JSON or multipart (payload_json + files) bodies."""
        path = request.path.removeprefix(API_PREFIX) or "/"
        resource = request.match_info.route.resource
        route = (resource.canonical if resource is not None else "").removeprefix(API_PREFIX)
        record = RecordedRequest(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=None,
            headers=dict(request.headers),
            at=time.monotonic(),
            route="" if route == "/{tail}" else route,
        )
        if request.content_type == "multipart/form-data":
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    with value.file:
                        record.uploads.append((value.filename, len(value.file.read())))
                elif key == "payload_json":
                    record.json = json.loads(str(value))
        elif request.can_read_body:
            raw = await request.read()
            if raw:
                record.json = json.loads(raw)
        return record

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path.startswith("/gateway"):
            return await handler(request)
        record = await self._read(request)
        request[RECORD] = record
        self._requests.append(record)
        try:
            response = await self._handle(request, handler, record)
        except Exception as exc:
            log.exception("fake Discord failed on %s %s", record.method, record.path)
            self.server_errors.append(f"{record.method} {record.path}: {exc!r}")
            response = json_response(SERVER_ERROR, 500)
        record.status = response.status
        if self.check_responses and self.validator is not None:
            self._check_response(record, response)
        self._poke()
        return response

    def _check_response(self, record: RecordedRequest, response: web.StreamResponse) -> None:
        """Self-check: does the fake answer in the shape the spec documents?"""
        if not isinstance(response, web.Response) or response.content_type != "application/json":
            return
        assert self.validator is not None and isinstance(response.body, bytes)
        body = json.loads(response.body)
        for problem in self.validator.validate_response(
            record.method, record.path, response.status, body
        ):
            self.server_errors.append(
                f"response to {record.method} {record.path} ({response.status}) "
                f"does not match the spec: {problem}"
            )

    async def _handle(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        record: RecordedRequest,
    ) -> web.StreamResponse:
        for rule in self._faults:
            if rule.matches(record.method, record.path):
                rule.remaining -= 1
                rule.hits += 1
                record.injected = True
                return json_response(rule.body, rule.status, rule.headers)
        verdict = self._rate_limit(request, record)
        if verdict.limited:
            return json_response(verdict.body, verdict.status, verdict.headers)
        if not record.path.startswith(("/interactions/", "/webhooks/", "/gateway")):
            authorization = request.headers.get("Authorization", "")
            if not authorization.startswith("Bot ") or not self._token_ok(authorization):
                return json_response(UNAUTHORIZED, 401)
        channel_id = request.match_info.get("channel_id")
        if channel_id is not None and channel_id.isdigit():
            if int(channel_id) in self.unknown_channels:
                return json_response(UNKNOWN_CHANNEL, 404)
            if int(channel_id) in self.forbidden_channels:
                return json_response(MISSING_ACCESS, 403)
        if self._validate(request, record) and self.reject_invalid:
            errors = {v.pointer or "/": v.message for v in record.violations}
            return json_response({**INVALID_FORM_BODY, "errors": errors}, 400)
        response = await handler(request)
        response.headers.update(verdict.headers)
        return response

    def _validate(self, request: web.Request, record: RecordedRequest) -> bool:
        """Check the body against the spec and docs; True if anything was wrong."""
        if not self._validate_requests or record.json is None or not record.route:
            return False
        interaction_type = None
        interaction_id = request.match_info.get("interaction_id")
        if interaction_id is not None and interaction_id.isdigit():
            known = self._interactions.get(int(interaction_id))
            interaction_type = known.type if known else None
        # Without the spec file, the docs-only rules (2000-character content, 6000-character
        # embeds, command naming) still apply: they need nothing from the spec.
        check = self.validator.validate if self.validator is not None else validate_docs
        found = check(
            record.method,
            record.path,
            record.json,
            has_files=bool(record.files),
            interaction_type=interaction_type,
        )
        record.violations.extend(found)
        self.violations.extend(found)
        for violation in found:
            log.warning("Discord API violation: %s", violation)
        return bool(found)

    def _violation(self, rule: str, method: str, path: str, message: str) -> Violation:
        violation = Violation("server", rule, method, path, "", message)
        self.violations.append(violation)
        log.warning("Discord API violation: %s", violation)
        return violation

    def _rate_limit(self, request: web.Request, record: RecordedRequest) -> Verdict:
        """Apply the rate-limit mode, if on: a 429 verdict, or headers for the response."""
        if self._limiter is None or not record.route:
            return Verdict({})
        major = "+".join(
            request.match_info.get(k, "")
            for k in ("channel_id", "guild_id", "webhook_id", "webhook_token")
        )
        verdict = self._limiter.admit(record.method, record.route, record.path, major)
        record.rate_limited = verdict.limited
        return verdict

    # ------------------------------------------------------------------ REST handlers

    async def _unhandled(self, request: web.Request) -> web.Response:
        record: RecordedRequest = request[RECORD]
        self.unhandled.append(record)
        log.warning("fake Discord has no route for %s %s", record.method, record.path)
        return json_response(NOT_FOUND, 404)

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}
        return json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _get_me(self, request: web.Request) -> web.Response:
        return json_response(payloads.current_user_payload(self.bot_user))

    async def _get_user(self, request: web.Request) -> web.Response:
        user_id = int(request.match_info["user_id"])
        if user_id == self.application_id:
            return json_response(self.bot_user)
        known = [r.payload.get("member", {}).get("user") for r in self._interactions.values()]
        for user in known:
            if user and int(user["id"]) == user_id:
                return json_response(user)
        return json_response(UNKNOWN_USER, 404)

    async def _get_application(self, request: web.Request) -> web.Response:
        return json_response(payloads.application_payload(self.application_id, self.bot_user))

    def _guild_scope(self, request: web.Request) -> tuple[int | None, web.Response | None]:
        """The command scope of a request, or an error response for a foreign app/guild."""
        if request.match_info["application_id"] != str(self.application_id):
            return None, json_response(MISSING_ACCESS, 403)
        raw = request.match_info.get("guild_id")
        if raw is None:
            return None, None
        if all(str(g.id) != raw for g in self.guilds):
            # The classic: syncing to a guild the bot is not in (or lacks applications.commands).
            return None, json_response(MISSING_ACCESS, 403)
        return int(raw), None

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope, error = self._guild_scope(request)
        if error is not None:
            return error
        body = request[RECORD].json
        if not isinstance(body, list):
            return json_response(INVALID_FORM_BODY, 400)
        previous = self._commands.get(scope, {})
        stored: dict[tuple[int, str], dict[str, Any]] = {}
        for item in body:
            kind = int(item.get("type") or 1)
            key = (kind, str(item.get("name")))
            old = previous.get(key)
            stored[key] = self._stored_command(item, kind, scope, old["id"] if old else None)
        self._commands[scope] = stored
        return json_response(list(stored.values()))

    def _stored_command(
        self, item: Mapping[str, Any], kind: int, scope: int | None, command_id: str | None
    ) -> dict[str, Any]:
        """A command as Discord returns it: ids, version, string permissions, defaults."""
        permissions = item.get("default_member_permissions")
        command: dict[str, Any] = {
            # Discord keeps a command's id across overwrites that keep its name and type.
            "id": command_id or str(self._ids.next()),
            "application_id": str(self.application_id),
            "version": str(self._ids.next()),
            "default_member_permissions": None if permissions is None else str(permissions),
            "type": kind,
            "name": item.get("name"),
            "name_localizations": item.get("name_localizations"),
            "description": item.get("description") or "",
            "description_localizations": item.get("description_localizations"),
            "nsfw": bool(item.get("nsfw", False)),
        }
        if item.get("options"):
            command["options"] = item["options"]
        if scope is None:
            command["dm_permission"] = item.get("dm_permission", True)
            command["contexts"] = item.get("contexts")
            command["integration_types"] = item.get("integration_types") or [0]
        else:
            command["guild_id"] = str(scope)
        return command

    async def _get_commands(self, request: web.Request) -> web.Response:
        scope, error = self._guild_scope(request)
        if error is not None:
            return error
        return json_response(self.commands(scope))

    def _now_interaction(
        self, request: web.Request
    ) -> tuple[InteractionRecord | None, web.Response | None]:
        """The interaction behind a webhook route, or Discord's error for a bad/expired token."""
        record: RecordedRequest = request[RECORD]
        webhook_id = request.match_info["webhook_id"]
        interaction = self._by_token.get(request.match_info["webhook_token"])
        if interaction is None or webhook_id != str(self.application_id):
            return None, json_response(UNKNOWN_WEBHOOK, 404)
        age = time.monotonic() - interaction.dispatched_at
        if age > self.token_lifetime:
            self._violation(
                "token-lifetime",
                record.method,
                record.path,
                f"interaction token used after {age:.0f} s; tokens last "
                f"{self.token_lifetime:.0f} s",
            )
            return None, json_response(INVALID_WEBHOOK_TOKEN, 401)
        if interaction.callback is None:
            return None, json_response(UNKNOWN_WEBHOOK, 404)
        return interaction, None

    async def _callback(self, request: web.Request) -> web.Response:
        record: RecordedRequest = request[RECORD]
        interaction = self._interactions.get(int(request.match_info["interaction_id"]))
        if interaction is None or interaction.token != request.match_info["interaction_token"]:
            return json_response(UNKNOWN_INTERACTION, 404)
        if interaction.callback is not None:
            return json_response(ALREADY_ACKNOWLEDGED, 400)
        delay = time.monotonic() - interaction.dispatched_at
        if delay > self.callback_deadline:
            self._violation(
                "callback-deadline",
                record.method,
                record.path,
                f"initial response after {delay:.2f} s; Discord invalidates the token after "
                f"{self.callback_deadline:g} s",
            )
            return json_response(UNKNOWN_INTERACTION, 404)
        body = record.json if isinstance(record.json, dict) else {}
        callback_type = body.get("type")
        raw_data = body.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        interaction.callback, interaction.callback_at = body, time.monotonic()
        message: dict[str, Any] | None = None
        if callback_type == 4:
            message = self._interaction_message(interaction, data, record, original=True)
        elif callback_type == 5:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message = self._interaction_message(interaction, {}, record, original=True, flags=flags)
        elif callback_type in (6, 7):
            # For components the "original response" is the message the component is on.
            message = self._component_message(interaction)
            if message is not None and callback_type == 7:
                payloads.apply_edit(message, data)
        interaction.original = message
        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        summary: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        if message is not None and callback_type in (4, 5):
            summary["response_message_id"] = message["id"]
            summary["response_message_loading"] = callback_type == 5
            summary["response_message_ephemeral"] = bool(message["flags"] & EPHEMERAL)
        response: dict[str, Any] = {"interaction": summary}
        if message is not None and callback_type in (4, 7):
            # The spec documents a resource only for messages created/updated (and activities).
            response["resource"] = {"type": callback_type, "message": message}
        return json_response(response)

    def _interaction_message(
        self,
        interaction: InteractionRecord,
        body: Mapping[str, Any],
        record: RecordedRequest,
        *,
        original: bool,
        flags: int | None = None,
    ) -> dict[str, Any]:
        """A message created by an interaction response or followup."""
        payload = interaction.payload
        channel_id = int(payload["channel_id"])
        user = payload.get("member", {}).get("user") or payload.get("user") or {}
        name = " ".join(_command_path(payload.get("data") or {}))
        message_id = self._ids.next()
        message = payloads.message_payload(
            message_id=message_id,
            channel_id=channel_id,
            author=self.bot_user,
            body=body,
            flags=int(body.get("flags") or 0) if flags is None else flags,
            attachments=self._attachments(record, channel_id),
            message_type=20 if original and interaction.type == 2 else 0,
            extra={
                "webhook_id": str(self.application_id),
                "application_id": str(self.application_id),
                "interaction_metadata": _interaction_metadata(interaction, user, name),
                "interaction": {
                    "id": str(interaction.id),
                    "type": interaction.type,
                    "name": name,
                    "user": user,
                },
            },
        )
        self._store(message, channel_id, from_channel_endpoint=False)
        return message

    def _component_message(self, interaction: InteractionRecord) -> dict[str, Any] | None:
        """The stored message a component interaction came from (None for other kinds)."""
        source = interaction.payload.get("message")
        if not isinstance(source, dict):
            return None
        message_id = int(source["id"])
        return self._messages.setdefault(message_id, dict(source))

    def _attachments(self, record: RecordedRequest, channel_id: int) -> list[dict[str, Any]]:
        return [
            payloads.attachment_payload(self._ids.next(), channel_id, name, size)
            for name, size in record.uploads
        ]

    def _store(
        self, message: dict[str, Any], channel_id: int, *, from_channel_endpoint: bool
    ) -> None:
        message_id = int(message["id"])
        self._messages[message_id] = message
        if message["flags"] & EPHEMERAL:
            return  # only the invoking user sees it; it is not part of the channel
        self._channel_log.setdefault(channel_id, []).append(message_id)
        if from_channel_endpoint:
            self._from_channel_endpoint.add(message_id)

    async def _followup(self, request: web.Request) -> web.StreamResponse:
        record: RecordedRequest = request[RECORD]
        interaction, error = self._now_interaction(request)
        if interaction is None:
            assert error is not None
            return error
        body = record.json if isinstance(record.json, dict) else {}
        original = interaction.original
        if original is not None and original["flags"] & LOADING:
            # Docs: right after a deferred response a followup edits the loading message.
            self.warnings.append(
                "followup after DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE edited the original "
                "response (deprecated; use PATCH .../messages/@original)"
            )
            message = self._edit(original, body, record)
        else:
            message = self._interaction_message(interaction, body, record, original=False)
            interaction.followups.append(message)
        if request.query.get("wait", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        return json_response(message)

    def _webhook_target(
        self, request: web.Request
    ) -> tuple[InteractionRecord | None, dict[str, Any] | None, web.Response | None]:
        interaction, error = self._now_interaction(request)
        if interaction is None:
            return None, None, error
        wanted = request.match_info["message_id"]
        if wanted == "@original":
            target = interaction.original
        else:
            candidates = [*interaction.followups, interaction.original]
            target = next((m for m in candidates if m is not None and m["id"] == wanted), None)
        if target is None or int(target["id"]) not in self._messages:
            return interaction, None, json_response(UNKNOWN_MESSAGE, 404)
        return interaction, target, None

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        _, target, error = self._webhook_target(request)
        if target is None:
            assert error is not None
            return error
        return json_response(target)

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        _, target, error = self._webhook_target(request)
        if target is None:
            assert error is not None
            return error
        record: RecordedRequest = request[RECORD]
        body = record.json if isinstance(record.json, dict) else {}
        return json_response(self._edit(target, body, record))

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        _, target, error = self._webhook_target(request)
        if target is None:
            assert error is not None
            return error
        self._messages.pop(int(target["id"]), None)
        return web.Response(status=204)

    def _edit(
        self, message: dict[str, Any], body: Mapping[str, Any], record: RecordedRequest
    ) -> dict[str, Any]:
        payloads.apply_edit(message, body)
        message["flags"] &= ~LOADING
        message["attachments"] = [
            *message["attachments"],
            *self._attachments(record, int(message["channel_id"])),
        ]
        return message

    async def _get_channel(self, request: web.Request) -> web.Response:
        guild, channel = self._channel(int(request.match_info["channel_id"]))
        return json_response(payloads.channel_payload(channel, guild.id))

    async def _typing(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _create_message(self, request: web.Request) -> web.Response:
        record: RecordedRequest = request[RECORD]
        channel_id = int(request.match_info["channel_id"])
        body = record.json if isinstance(record.json, dict) else {}
        nonce = body.get("nonce")
        # The docs scope nonce uniqueness to "the same author"; every message here is the
        # bot's, and dedupe is kept per channel so one nonce scheme can serve many channels.
        key = (str(channel_id), str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self._nonces.get(key)
            if earlier is not None and time.monotonic() - earlier[1] <= self.nonce_window:
                existing = self._messages.get(earlier[0])
                if existing is not None:
                    record.deduplicated = True
                    return json_response(existing)
        message = payloads.message_payload(
            message_id=self._ids.next(),
            channel_id=channel_id,
            author=self.bot_user,
            body=body,
            flags=int(body.get("flags") or 0),
            attachments=self._attachments(record, channel_id),
            message_type=19 if body.get("message_reference") else 0,
        )
        self._store(message, channel_id, from_channel_endpoint=True)
        if nonce is not None:
            # Discord remembers every nonce, also of messages sent without enforce_nonce.
            self._nonces[key] = (int(message["id"]), time.monotonic())
        return json_response(message)

    def _channel_message(self, request: web.Request) -> dict[str, Any] | None:
        message = self._messages.get(int(request.match_info["message_id"]))
        if message is None or message["channel_id"] != request.match_info["channel_id"]:
            return None
        return message

    async def _list_messages(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        limit = min(int(request.query.get("limit", 50)), 100)
        newest_first = list(reversed(self.messages(channel_id, include_interactions=True)))
        before = request.query.get("before")
        if before is not None:
            newest_first = [m for m in newest_first if int(m["id"]) < int(before)]
        return json_response(newest_first[:limit])

    async def _get_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        return json_response(message) if message else json_response(UNKNOWN_MESSAGE, 404)

    async def _edit_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return json_response(UNKNOWN_MESSAGE, 404)
        record: RecordedRequest = request[RECORD]
        body = record.json if isinstance(record.json, dict) else {}
        return json_response(self._edit(message, body, record))

    async def _delete_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return json_response(UNKNOWN_MESSAGE, 404)
        self._messages.pop(int(message["id"]))
        return web.Response(status=204)


def _command_path(data: Mapping[str, Any]) -> list[str]:
    """The command name plus subcommand group/subcommand names of interaction data."""
    names = [str(data.get("name", ""))]
    options: Iterable[Mapping[str, Any]] = data.get("options") or []
    while True:
        nested = next((o for o in options if o.get("type") in (1, 2)), None)
        if nested is None:
            return names
        names.append(str(nested["name"]))
        options = nested.get("options") or []


def _descend(
    definition: Mapping[str, Any] | None, path: Sequence[str]
) -> tuple[list[dict[str, Any]] | None, list[int]]:
    """Walk a synced command along subcommand ``path``: leaf option defs and the path's types."""
    if definition is None:
        kinds = [payloads.SUB_COMMAND_GROUP, payloads.SUB_COMMAND][-len(path) :] if path else []
        return None, kinds
    options: list[dict[str, Any]] = list(definition.get("options") or [])
    kinds = []
    for part in path:
        found = next((o for o in options if o.get("name") == part), None)
        if found is None or found.get("type") not in (1, 2):
            raise ValueError(f"/{definition.get('name')} has no subcommand {part!r}")
        kinds.append(int(found["type"]))
        options = list(found.get("options") or [])
    return options, kinds


def _option_type(definitions: list[dict[str, Any]] | None, name: str, value: Any) -> int:
    """The option's type from the synced definition, else guessed from the Python value."""
    for option in definitions or []:
        if option.get("name") == name:
            return int(option["type"])
    if definitions is not None:
        raise ValueError(f"the synced command has no option {name!r}")
    if isinstance(value, bool):
        return payloads.BOOLEAN
    if isinstance(value, int):
        return payloads.INTEGER
    if isinstance(value, float):
        return payloads.NUMBER
    return payloads.STRING


def _permission_value(permissions: int | discord.Permissions | None) -> int:
    """A member's permission integer; an ordinary member's when not given."""
    if isinstance(permissions, discord.Permissions):
        return permissions.value
    return payloads.MEMBER_PERMISSIONS if permissions is None else permissions


def _find_component(components: Iterable[Mapping[str, Any]], custom_id: str) -> Any:
    """The component with ``custom_id`` anywhere in a component tree, or None."""
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        children = list(component.get("components") or [])
        if component.get("accessory"):
            children.append(component["accessory"])
        found = _find_component(children, custom_id)
        if found is not None:
            return found
    return None


def _stable_id(name: str) -> int:
    """A snowflake-sized id for a command the bot never synced (stable per name)."""
    digest = hashlib.blake2b(name.encode(), digest_size=5).digest()
    return (1 << 60) + int.from_bytes(digest, "big")


def _interaction_metadata(
    interaction: InteractionRecord, user: Mapping[str, Any], name: str
) -> dict[str, Any]:
    """A message's interaction_metadata: command metadata, or the clicked message for components."""
    payload = interaction.payload
    metadata: dict[str, Any] = {
        "id": str(interaction.id),
        "type": interaction.type,
        "user": user,
        "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
    }
    if interaction.type == 3:
        metadata["interacted_message_id"] = str(payload["message"]["id"])
    else:
        metadata["name"] = name
        metadata["command_type"] = 1
    return metadata
