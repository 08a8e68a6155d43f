"""A fake Discord (gateway + REST + CDN) served by aiohttp on 127.0.0.1 for end-to-end tests.

Unmodified discord.py talks to it once ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` point here (see ``harness.run_client``).

``FakeDiscord`` is put together from one part per concern, each a class in its own module:

* ``base.py`` (``FakeBase``): configuration, recorded requests, waiting, violations.
* ``state.py`` (``StateMixin``): guilds, channels, threads, DMs, roles, members, messages,
  attachments; permissions in a channel; pings under ``allowed_mentions``.
* ``gateway.py`` (``GatewayMixin``): HELLO, IDENTIFY -> READY + GUILD_CREATE, RESUME,
  ``dispatch()``, ``request_reconnect()``.
* ``rest.py`` (``RestMixin``): users, application, commands, guilds, channels, threads,
  forum posts, messages, crossposts, DMs.
* ``cdn.py`` (``CdnMixin``): the attachment download route.
* ``interactions.py`` (``InteractionsMixin``): invoke, autocomplete, components, modals,
  callbacks and interaction webhooks.
* this module: construction, the HTTP plumbing every request goes through (record, fault
  injection, rate limits, authorization, spec validation) and the scripting calls.

Every request is recorded (:class:`RecordedRequest`) and, when the OpenAPI spec is present,
its body is checked against the spec and the docs rules (``spec.py``); problems land in
``violations``. Unknown routes get Discord's 404 body and are listed in ``unhandled``.

discord.py quirks this mirrors:

* JSON bodies are only parsed when Content-Type is exactly ``application/json``.
* A 429 without a ``Via`` header is treated as a Cloudflare ban and raised, not retried.
* 500/502/504/524 are retried after sleeping 1, 3, 5, 7 s (webhooks: any 5xx), so one
  injected 500 costs a test a real second.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from . import payloads
from .base import (
    API_PREFIX,
    BAD_GATEWAY,
    INVALID_FORM_BODY,
    MISSING_PERMISSIONS,
    NOT_FOUND,
    RECORD,
    SERVER_ERROR,
    UNAUTHORIZED,
    UNKNOWN_CHANNEL,
    CommandNotVisible,
    FaultRule,
    InteractionRecord,
    RecordedRequest,
    json_response,
)
from .cdn import CdnMixin
from .interactions import InteractionsMixin
from .models import DEFAULT_APPLICATION_ID, FakeGuild
from .ratelimit import RateLimiter, RateLimits, Verdict, rate_limited_body, too_many_headers
from .rest import Handler, RestMixin
from .spec import validate_docs

log = logging.getLogger(__name__)

__all__ = [
    "API_PREFIX",
    "RECORD",
    "CommandNotVisible",
    "FakeDiscord",
    "FaultRule",
    "InteractionRecord",
    "RecordedRequest",
    "json_response",
]


class FakeDiscord(InteractionsMixin, RestMixin, CdnMixin):
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
        cdn_host: str = "127.0.0.1",
    ) -> None:
        """Configure the fake; nothing listens until ``start()``.

        ``token`` None accepts any bot token. ``nonce_window`` is how long a nonce sent with
        ``enforce_nonce`` dedupes resends to the same channel. ``reject_invalid`` answers
        bodies with violations with Discord's 400 Invalid Form Body instead of accepting them.
        ``check_responses`` validates the fake's own JSON responses against the spec and
        reports mismatches in ``server_errors`` (a fidelity self-check). ``cdn_host`` is the
        host name attachment URLs use (map it to 127.0.0.1 in the bot's resolver); each
        guild gets the bot's member and managed role if it has none.
        """
        self.application_id = application_id
        self.token = token
        self.cdn_host = cdn_host
        self.heartbeat_interval = heartbeat_interval
        self.nonce_window = nonce_window
        self.callback_deadline = callback_deadline
        self.token_lifetime = token_lifetime
        self.reject_invalid = reject_invalid
        self.check_responses = check_responses
        # Applications share their id with their bot user (as all recent ones do).
        self.bot_user = payloads.user_payload(application_id, bot_name, bot=True)
        self._init_records(spec_path, validate)
        self._init_state(guilds, bot_name)
        self._init_gateway()
        self._init_cdn()
        self._faults: list[FaultRule] = []
        self._limiter: RateLimiter | None = None
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

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
        await self._close_gateway()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

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

    # ------------------------------------------------------------------ HTTP plumbing

    def _add_routes(self, app: web.Application) -> None:
        def add(method: str, path: str, handler: Handler) -> None:
            app.router.add_route(method, API_PREFIX + path, handler)

        self._add_gateway_routes(app)
        self._add_cdn_routes(app)
        self._add_rest_routes(add)
        self._add_interaction_routes(add)
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
        if request.path.startswith(("/gateway", "/attachments/")):
            return await handler(request)  # the websocket and the CDN are not API requests
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
            refusal = self._unknown_channel(int(channel_id))
            if refusal is not None:
                return refusal
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
