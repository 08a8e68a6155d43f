"""What the store's timing wrapper (bot/store/timing.py) costs per database call.

    python -m bench.store_timing [--calls N]

Times `Store.get` (one indexed SELECT on a real SQLite file) N times bare and N times wrapped,
observed into the bot's real Prometheus histogram, and prints both and the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

from bot.clock import Zone
from bot.ops.metrics import Metrics
from bot.store.sqlite import Store
from bot.store.timing import instrument


async def per_call(store: Store, calls: int) -> float:
    """Mean seconds per `get` over `calls` calls."""
    started = time.perf_counter()
    for _ in range(calls):
        await store.get(2)
    return (time.perf_counter() - started) / calls


async def measure(calls: int) -> tuple[float, float]:
    """(bare, wrapped) mean seconds per call, best of three rounds each."""
    with tempfile.TemporaryDirectory() as folder:
        async with await Store.open(Path(folder) / "db.sqlite3") as store:
            await store.upsert_subscription(
                guild_id=1,
                channel_id=2,
                local_time=dt.time(8, 30),
                timezone=Zone.named("UTC"),
                created_by=3,
            )
            bare = min([await per_call(store, calls) for _ in range(3)])
            instrument(store, Metrics().observe_db)
            wrapped = min([await per_call(store, calls) for _ in range(3)])
    return bare, wrapped


def main(argv: list[str] | None = None) -> int:
    """Print the cost of timing a database call."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args(argv)
    bare, wrapped = asyncio.run(measure(args.calls))
    print(f"store.get bare:    {bare * 1e6:8.1f} µs per call ({args.calls} calls, best of 3)")
    print(f"store.get timed:   {wrapped * 1e6:8.1f} µs per call")
    print(f"wrapper overhead:  {(wrapped - bare) * 1e6:8.1f} µs per call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
