"""The store's timing wrapper: every public database call observed once, by name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.clock import Zone
from bot.store.sqlite import Store
from bot.store.timing import instrument


async def test_each_call_is_observed_once_under_its_name(tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        names = instrument(store, lambda name, took: seen.append((name, took)))
        assert {"claim_slot", "list_all", "get", "upsert_subscription"} <= set(names)
        assert "close" not in names
        assert instrument(store, lambda name, took: seen.append((name, took))) == []  # not twice
        await store.upsert_subscription(
            guild_id=1,
            channel_id=2,
            local_time=dt.time(8, 30),
            timezone=Zone.named("UTC"),
            created_by=3,
        )
        assert (await store.get(2)) is not None
        assert await store.get(99) is None
    assert [name for name, _ in seen] == ["upsert_subscription", "get", "get"]
    assert all(took >= 0 for _, took in seen)
