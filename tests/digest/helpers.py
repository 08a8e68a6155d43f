"""Test doubles for the digest: brief factory, a recording Poster, a simulated crash."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.briefs.models import Brief
from bot.clock import Clock
from bot.digest.scheduler import Delivery
from bot.reply import Reply

UTC = dt.UTC


def make_brief(
    brief_id: str,
    day: dt.date | None = dt.date(2026, 3, 1),
    topics: Sequence[str] = ("budget",),
    *,
    title: str | None = None,
    summary: str | None = None,
) -> Brief:
    """A minimal valid brief (no vocabulary context needed)."""
    return Brief.model_validate(
        {
            "id": brief_id,
            "title": title or f"Title of {brief_id}",
            "date": {"value": day.isoformat(), "status": "stated"}
            if day
            else {"status": "unknown"},
            "source": {},
            "summary": summary or f"Summary of {brief_id}. It has a second sentence. And a third.",
            "key_points": [{"text": "A point."}],
            "topics": list(topics),
        }
    )


def newest_first(count: int, prefix: str = "b", topics: Sequence[str] = ("budget",)) -> list[Brief]:
    """`count` briefs, newest first: b{count-1} dated latest … b0 earliest."""
    start = dt.date(2026, 1, 1)
    return [
        make_brief(f"{prefix}{n}", start + dt.timedelta(days=n), topics)
        for n in reversed(range(count))
    ]


class EverNew:
    """A briefs provider with one more brief every time it is asked.

    A scheduler that sent a slot twice would then post twice (not skip it as "nothing new"),
    so counting posts catches duplicates.
    """

    def __init__(self) -> None:
        self.calls = 0
        self.briefs: list[Brief] = []

    def __call__(self) -> list[Brief]:
        self.calls += 1
        self.briefs.insert(0, make_brief(f"new-{self.calls}"))
        return list(self.briefs)


class SimulatedCrash(BaseException):
    """The process dying mid-send: not an Exception, so nothing inside the scheduler catches it."""


@dataclass
class Attempt:
    """One call of `post`."""

    channel_id: int
    reply: Reply
    nonce: str
    at: dt.datetime | None
    delivery: Delivery | None = None


@dataclass
class FakePoster:
    """Records posts; deduplicates by nonce per channel like Discord's enforce_nonce."""

    clock: Clock | None = None
    attempts: list[Attempt] = field(default_factory=list)
    messages: dict[tuple[int, str], int] = field(default_factory=dict)
    # messages that exist: (channel id, reply, nonce, when)
    created: list[tuple[int, Reply, str, dt.datetime | None]] = field(default_factory=list)
    # channel id → exceptions to raise, one per attempt, before the message is created
    fail_before: dict[int, list[BaseException]] = field(default_factory=dict)
    # channel id → exceptions to raise, one per attempt, after the message is created
    fail_after: dict[int, list[BaseException]] = field(default_factory=dict)
    # channel id → exception raised on every attempt (channel gone, forbidden)
    always: dict[int, BaseException] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    async def post(self, delivery: Delivery) -> int:
        channel_id, reply, nonce = delivery.channel_id, delivery.reply, delivery.nonce
        at = self.clock.now() if self.clock else None
        self.attempts.append(Attempt(channel_id, reply, nonce, at, delivery))
        assert len(nonce) <= 25, nonce
        if channel_id in self.always:
            raise self.always[channel_id]
        if self.fail_before.get(channel_id):
            raise self.fail_before[channel_id].pop(0)
        key = (channel_id, nonce)
        if key not in self.messages:
            self.messages[key] = next(self._ids)
            self.created.append((channel_id, reply, nonce, at))
        if self.fail_after.get(channel_id):
            raise self.fail_after[channel_id].pop(0)
        return self.messages[key]

    def posted_to(self, channel_id: int) -> list[tuple[Reply, str, dt.datetime | None]]:
        """Messages that exist in a channel (a deduplicated resend adds none)."""
        return [(reply, nonce, at) for ch, reply, nonce, at in self.created if ch == channel_id]
