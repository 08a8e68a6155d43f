"""What the store tests share: fixed times, a subscribe shortcut."""

from __future__ import annotations

import datetime as dt

from bot.clock import Zone
from bot.store.records import ArchiveCutoff
from bot.store.sqlite import Store

UTC = dt.UTC
START = dt.datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
DAY = dt.date(2026, 3, 6)
GUILD = 111
CUTOFF = ArchiveCutoff(dt.date(2026, 3, 1), "b-oldest-shown")


async def subscribe(
    store: Store,
    channel: int,
    at: str = "08:30",
    tz: str = "Europe/London",
    topics: tuple[str, ...] = (),
    user: int = 7,
    guild: int = GUILD,
) -> None:
    await store.upsert_subscription(
        guild_id=guild,
        channel_id=channel,
        local_time=dt.time.fromisoformat(at),
        timezone=Zone.named(tz),
        topics=topics,
        created_by=user,
    )


def latest_version(database: str) -> int:
    """The schema version a fresh database on this backend is migrated to."""
    from bot.store import is_postgres, pg_schema, schema

    return pg_schema.SCHEMA_VERSION if is_postgres(database) else schema.SCHEMA_VERSION
