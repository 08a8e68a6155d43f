"""What every part of the fake shares: records of requests, errors, waiting and inspection.

``FakeBase`` is the bottom of the fake's class stack (see ``server.py``): the state, gateway,
REST, CDN and interaction parts build on it, and ``FakeDiscord`` puts them together.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from .spec import SpecValidator, Violation, get_validator

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
UNKNOWN_GUILD = {"message": "Unknown Guild", "code": 10004}
UNKNOWN_MEMBER = {"message": "Unknown Member", "code": 10007}
UNKNOWN_MESSAGE = {"message": "Unknown Message", "code": 10008}
UNKNOWN_USER = {"message": "Unknown User", "code": 10013}
UNKNOWN_WEBHOOK = {"message": "Unknown Webhook", "code": 10015}
UNKNOWN_INTERACTION = {"message": "Unknown interaction", "code": 10062}
ALREADY_CROSSPOSTED = {"message": "This message has already been crossposted.", "code": 40033}
ALREADY_ACKNOWLEDGED = {"message": "Interaction has already been acknowledged.", "code": 40060}
TAG_REQUIRED = {
    "message": "A tag is required to create a forum post in this channel",
    "code": 40067,
}
CANNOT_DM = {"message": "Cannot send messages to this user", "code": 50007}
WRONG_CHANNEL_TYPE = {"message": "Cannot execute action on this channel type", "code": 50024}
INVALID_WEBHOOK_TOKEN = {"message": "Invalid Webhook Token", "code": 50027}
INVALID_FORM_BODY = {"message": "Invalid Form Body", "code": 50035}
THREAD_ARCHIVED = {"message": "Thread is archived", "code": 50083}
THREAD_LOCKED = {"message": "Thread is locked", "code": 160005}


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

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot answered with (callback type 9), or None."""
        if self.callback is None or self.callback.get("type") != 9:
            return None
        data = self.callback.get("data")
        return data if isinstance(data, dict) else None


class CommandNotVisible(AssertionError):
    """Discord would not show this command to the member, so it could not be invoked."""


# Create-message routes for the per-second count (channel posts, forum posts, DMs, followups).
MESSAGE_CREATE_ROUTES = frozenset(
    {
        "/channels/{channel_id}/messages",
        "/channels/{channel_id}/threads",
        "/webhooks/{webhook_id}/{webhook_token}",
    }
)


class FakeBase:
    """Configuration, request records, waiting and inspection shared by every part."""

    application_id: int
    token: str | None
    cdn_host: str
    heartbeat_interval: float
    nonce_window: float
    callback_deadline: float
    token_lifetime: float
    reject_invalid: bool
    check_responses: bool
    bot_user: dict[str, Any]
    validator: SpecValidator | None
    port: int

    def _init_records(self, spec_path: Path | None, validate: bool) -> None:
        self.validator = get_validator(spec_path) if validate else None
        self._validate_requests = validate
        self.violations: list[Violation] = []
        self.warnings: list[str] = []
        self.unhandled: list[RecordedRequest] = []
        self.server_errors: list[str] = []
        self._requests: list[RecordedRequest] = []
        self._tick = asyncio.Event()
        self.port = 0

    # ------------------------------------------------------------------ addresses

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
    def cdn_base(self) -> str:
        """Where attachment URLs point: this server, under ``cdn_host`` (default 127.0.0.1)."""
        return f"http://{self.cdn_host}:{self.port}"

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

    def message_creates(self) -> list[RecordedRequest]:
        """Requests that created a message: channel, thread and DM posts, forum posts, followups.

        Only those Discord acted on (2xx, not a nonce dedupe); a forum post counts only
        when it carried its first message.
        """
        return [
            r
            for r in self._requests
            if r.method == "POST"
            and r.route in MESSAGE_CREATE_ROUTES
            and 200 <= r.status < 300
            and not r.deduplicated
            and (r.route != "/channels/{channel_id}/threads" or "message" in (r.json or {}))
        ]

    def message_creates_per_second(self) -> dict[int, int]:
        """How many messages were created in each whole second since the first request."""
        if not self._requests:
            return {}
        start = self._requests[0].at
        return dict(Counter(int(r.at - start) for r in self.message_creates()))

    def peak_message_rate(self, window: float = 1.0) -> int:
        """The most message creates inside any ``window`` seconds (a sliding window)."""
        times = sorted(r.at for r in self.message_creates())
        peak, first = 0, 0
        for last, at in enumerate(times):
            while at - times[first] >= window:
                first += 1
            peak = max(peak, last - first + 1)
        return peak

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

    def _violation(self, rule: str, method: str, path: str, message: str) -> Violation:
        violation = Violation("server", rule, method, path, "", message)
        self.violations.append(violation)
        log.warning("Discord API violation: %s", violation)
        return violation
