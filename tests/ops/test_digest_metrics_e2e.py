"""A digest fan-out through the real bot and the fake Discord: the scraped digest counters, the
database timings and /about agree with what the fake recorded."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import discord

from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.clock import Zone
from bot.settings import Settings
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord, run_client
from tests.ops.test_ops_e2e import get, samples, value

START = dt.datetime(2026, 3, 5, 7, 0, tzinfo=dt.UTC)
SLOT = dt.time(7, 30)
LATE = dt.timedelta(seconds=5)  # the pass runs this long after the slot time
CHANNELS = 8


async def idle(clock: FakeClock) -> None:
    """Wait until the scheduler sleeps on the clock (its pass is over)."""
    for _ in range(500):
        if clock.sleepers:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the scheduler never went to sleep")


def posts(fake: FakeDiscord, channel: int, status: int) -> int:
    return sum(
        1
        for r in fake.requests("POST", path_contains=f"/channels/{channel}/messages")
        if r.status == status
    )


async def test_fanout_counters_match_what_the_fake_recorded(
    tmp_path: Path, briefs_dir: Path, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    channels = [fake.add_channel(f"digest-{i}").id for i in range(CHANNELS)]
    denied = fake.add_channel("no-send", bot_denied=discord.Permissions(send_messages=True)).id
    channels.append(denied)
    limited, flaky = channels[1], channels[2]
    # Two 429s for one channel (discord.py waits and retries them itself), and a 400 for
    # another: a temporary failure the scheduler retries a minute later.
    fake.fail_next("POST", rf"/channels/{limited}/messages", 429, times=2, retry_after=0.01)
    fake.fail_next("POST", rf"/channels/{flaky}/messages", 400)

    db = tmp_path / "briefbot.sqlite3"
    settings = Settings(
        briefs_dir=briefs_dir,
        dev_guild_id=fake.guild_id,
        reload_seconds=0,
        database=db,
        metrics_addr=("127.0.0.1", 0),
    )
    async with await Store.open(db, clock=FakeClock(START)) as store:
        for channel in channels:
            await store.upsert_subscription(
                guild_id=fake.guild_id,
                channel_id=channel,
                local_time=SLOT,
                timezone=Zone.named("UTC"),
                created_by=1,
            )
    # The bot starts 5 s after the slot time: its first pass posts every digest 5 s late.
    clock = FakeClock(dt.datetime.combine(START.date(), SLOT, dt.UTC) + LATE)
    async with await Store.open(db, clock=clock) as store:
        bot = BriefBot(settings=settings, library=LiveLibrary(briefs_dir), store=store, clock=clock)
        async with run_client(bot, fake):
            await idle(clock)
            first = samples((await get(bot, "/metrics"))[1])
            deferred = await fake.invoke("about")
            assert deferred["type"] == 5  # /about reads the database: deferred, privately
            about = await fake.wait_for_request(
                lambda r: r.method == "PATCH" and r.path.endswith("/messages/@original"),
                timeout=10,
            )
            await clock.advance(dt.timedelta(minutes=1, seconds=1))  # the 400's retry
            await idle(clock)
            second = samples((await get(bot, "/metrics"))[1])

    created = [c for c in channels if fake.messages(c)]
    assert denied not in created and flaky in created
    # First pass: every channel but the denied one and the 400 one got its digest.
    assert value(first, "briefbot_digest_sends_total") == len(channels) - 2
    assert value(second, "briefbot_digest_sends_total") == len(created) == len(channels) - 1
    # Failures by reason, as the fake answered them.
    assert posts(fake, denied, 403) == 1
    assert value(second, "briefbot_digest_failures_total", reason="forbidden") == 1
    assert posts(fake, flaky, 400) == 1
    assert value(second, "briefbot_digest_failures_total", reason="error") == 1
    assert value(second, "briefbot_digest_retries_total") == 1
    # Every 429 the fake sent a digest is counted, though discord.py retried them unseen.
    assert posts(fake, limited, 429) == 2
    assert value(second, "briefbot_digest_rate_limited_total") == 2
    # Lateness: one observation per digest sent, 5 s late each on the first pass.
    assert value(first, "briefbot_digest_lateness_seconds_count") == len(channels) - 2
    assert value(first, "briefbot_digest_lateness_seconds_sum") == (len(channels) - 2) * 5
    # The store's calls were timed: one claim per delivery attempt, one completion per send.
    assert value(second, "briefbot_db_call_latency_seconds_count", operation="claim_slot") == (
        len(channels) + 1
    )
    assert value(
        second, "briefbot_db_call_latency_seconds_count", operation="complete_slot"
    ) == len(created)
    # /about reported the first pass as the fake saw it.
    text = about.json["embeds"][0]
    body = " ".join(f["value"] for f in text.get("fields", [])) + text.get("description", "")
    assert f"{len(channels) - 2} sent, 0 skipped, 1 failed, 1 paused, 2 rate-limited (429)" in body
    assert f"Subscriptions: {len(channels) - 1} active, 1 paused" in body
