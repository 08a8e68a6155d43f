"""Discord-like rate limiting for the fake: a global per-second cap plus per-route buckets.

Follows developers/topics/rate-limits.mdx: every answered request carries
``X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket`` so discord.py can pace itself;
an exceeded limit gets a 429 with ``Retry-After``, ``X-RateLimit-Scope``, a float
``retry_after`` body and the ``Via`` header discord.py needs to retry instead of giving up.
Interaction endpoints (callbacks, interaction webhooks) are exempt from the global limit.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


def rate_limited_body(retry_after: float, *, is_global: bool = False) -> dict[str, Any]:
    """A 429 body as in the docs' examples (``retry_after`` is a float of seconds)."""
    return {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
    }


def too_many_headers(retry_after: float, scope: str) -> dict[str, str]:
    """Headers of a 429: ``Via`` makes discord.py retry (without it: a Cloudflare ban)."""
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Scope": scope,
    }
    if scope == "global":
        headers["X-RateLimit-Global"] = "true"
    return headers


@dataclass
class RateLimits:
    """The limits to enforce.

    ``routes`` maps ``"METHOD /template"`` (the fake's route templates, relative to
    ``/api/v10``) to ``(limit, per_seconds)``; other routes get ``default`` (None: no
    bucket). Buckets are per major parameter (channel, guild, webhook + token), as on
    Discord.
    """

    global_per_second: int = 50
    routes: dict[str, tuple[int, float]] = field(
        default_factory=lambda: {
            "POST /channels/{channel_id}/messages": (5, 5.0),
            "PATCH /channels/{channel_id}/messages/{message_id}": (5, 5.0),
            "DELETE /channels/{channel_id}/messages/{message_id}": (5, 5.0),
            "POST /webhooks/{webhook_id}/{webhook_token}": (5, 2.0),
            "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}": (5, 2.0),
        }
    )
    default: tuple[int, float] | None = (50, 1.0)


@dataclass
class _Bucket:
    limit: int
    per: float
    used: int = 0
    resets_at: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """What to do with one request: answer 429 (``status``), or add ``headers`` and go on."""

    headers: dict[str, str]
    status: int = 200
    body: dict[str, Any] | None = None

    @property
    def limited(self) -> bool:
        """Whether the request must be answered with a 429."""
        return self.status == 429


class RateLimiter:
    """Counts requests against :class:`RateLimits`, with fixed windows per bucket."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self.hits = 0  # 429s answered
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._global: deque[float] = deque()

    def admit(self, method: str, route: str, path: str, major: str) -> Verdict:
        """Decide on a request to ``route`` (template) with major parameters ``major``."""
        now = time.monotonic()
        if not path.startswith(("/interactions/", "/webhooks/")):
            window = self._global
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self.limits.global_per_second:
                return self._too_many(window[0] + 1.0 - now, "global")
            window.append(now)
        key = f"{method} {route}"
        limit = self.limits.routes.get(key, self.limits.default)
        if limit is None:
            return Verdict({})
        bucket = self._buckets.setdefault((key, major), _Bucket(*limit))
        if now >= bucket.resets_at:
            bucket.used, bucket.resets_at = 0, now + bucket.per
        reset_after = bucket.resets_at - now
        bucket_hash = hashlib.blake2b(key.encode(), digest_size=4).hexdigest()
        if bucket.used >= bucket.limit:
            verdict = self._too_many(reset_after, "user")
            verdict.headers.update(_bucket_headers(bucket, reset_after, bucket_hash))
            return verdict
        bucket.used += 1
        return Verdict(_bucket_headers(bucket, reset_after, bucket_hash))

    def _too_many(self, retry_after: float, scope: str) -> Verdict:
        self.hits += 1
        retry_after = max(round(retry_after, 3), 0.001)
        body = rate_limited_body(retry_after, is_global=scope == "global")
        return Verdict(too_many_headers(retry_after, scope), 429, body)


def _bucket_headers(bucket: _Bucket, reset_after: float, bucket_hash: str) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(bucket.limit),
        "X-RateLimit-Remaining": str(bucket.limit - bucket.used),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket_hash,
    }
