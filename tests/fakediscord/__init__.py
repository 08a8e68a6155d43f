"""A fake Discord (REST + gateway) for end-to-end tests of the bot with unmodified discord.py."""

from .harness import patched_endpoints, run_client
from .payloads import FakeChannel, FakeGuild
from .ratelimit import RateLimiter, RateLimits
from .server import CommandNotVisible, FakeDiscord, FaultRule, InteractionRecord, RecordedRequest
from .spec import Violation

__all__ = [
    "CommandNotVisible",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FaultRule",
    "InteractionRecord",
    "RateLimiter",
    "RateLimits",
    "RecordedRequest",
    "Violation",
    "patched_endpoints",
    "run_client",
]
