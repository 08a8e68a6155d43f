"""Digests in threads, forums and announcement channels, role mentions and pause notices by DM,
end to end: unmodified discord.py against the fake Discord, a real SQLite file, a fake clock."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import discord

from bot.store.records import SlotState
from tests.commands.digest_world import MANAGER, START, Harness, description, run_bot
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord
from tests.fakediscord.models import DEFAULT_USER_ID

UTC = dt.UTC
DAY1 = dt.datetime(2026, 3, 5, 8, 31, tzinfo=UTC)  # just after an 08:30 UTC slot
DAY2 = DAY1 + dt.timedelta(days=1)
DAY3 = DAY2 + dt.timedelta(days=1)
TESTER = DEFAULT_USER_ID  # who invokes commands unless a test names a member
MANAGE_THREADS = discord.Permissions(manage_threads=True)


def started(
    briefs_dir: Path, fake: FakeDiscord, tmp_path: Path
) -> contextlib.AbstractAsyncContextManager[Harness]:
    """The bot, once the test has built its world in `fake`."""
    return run_bot(briefs_dir, fake, tmp_path / "briefbot.sqlite3", FakeClock(START))


# ---------------------------------------------------------------------------- threads


async def test_subscribing_in_a_thread_posts_into_it_and_unarchives_it(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    thread = fake_discord.add_thread(fake_discord.channel_id, "morning-briefing")
    async with started(briefs_dir, fake_discord, tmp_path) as h:
        body = await h.subscribe(thread.id, time="08:30", timezone="UTC", quiet=False)
        assert "Daily at 08:30 (UTC)" in description(body)
        await h.clock.set(DAY1)
        (first,) = h.digests(thread.id)
        assert first["embeds"][0]["title"] == "Digest — 2026-03-05"
        assert h.digests() == []  # nothing in the parent channel

        # Discord archived the thread overnight: the next digest still arrives, and the
        # thread is open again.
        thread.archived = True
        await h.clock.set(DAY2)
        assert len(h.digests(thread.id)) == 2
        assert not thread.archived
        assert h.fake.take_violations() == []


async def test_a_locked_archived_thread_pauses_with_the_reason_and_resumes_once_fixed(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    thread = fake_discord.add_thread(fake_discord.channel_id, "locked")
    async with started(briefs_dir, fake_discord, tmp_path) as h:
        await h.subscribe(thread.id, time="08:30", timezone="UTC")
        thread.archived = thread.locked = True  # a moderator closed it
        await h.clock.set(DAY1)
        assert h.digests(thread.id) == []
        assert thread.archived  # the bot did not reopen what it may not
        sub = await h.store.get(thread.id)
        assert sub is not None and not sub.enabled
        assert sub.disabled_reason is not None
        assert "archived and the bot may not unarchive it" in sub.disabled_reason
        status = await h.fake.invoke("digest status", permissions=MANAGER, channel_id=thread.id)
        assert "archived and the bot may not unarchive it" in description(status)

        # Told once, by DM to the member who subscribed (no notices channel is set).
        await h.clock.set(DAY2)
        (notice,) = h.fake.dms(TESTER)
        text = notice["embeds"][0]["description"]
        assert f"<#{thread.id}>" in text and "unarchive the thread" in text

        # With Manage Threads the bot may post into it (which reopens it): resume, next slot.
        h.fake.set_bot_permissions(h.fake.bot_permissions(h.fake.channel_id) | MANAGE_THREADS.value)
        body = await h.fake.invoke("digest resume", permissions=MANAGER, channel_id=thread.id)
        assert body["data"]["embeds"][0]["title"] == "Digest resumed"
        await h.scheduler_idle()
        await h.clock.set(DAY3)
        assert len(h.digests(thread.id)) == 1
        assert len(h.fake.dms(TESTER)) == 1  # no second notice


async def test_a_locked_open_thread_pauses_with_the_reason(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    thread = fake_discord.add_thread(fake_discord.channel_id, "locked-open")
    async with started(briefs_dir, fake_discord, tmp_path) as h:
        await h.subscribe(thread.id, time="08:30", timezone="UTC")
        thread.locked = True
        await h.clock.set(DAY1)
        assert h.digests(thread.id) == []
        sub = await h.store.get(thread.id)
        assert sub is not None and not sub.enabled
        assert "locked" in (sub.disabled_reason or "")
        # Paused at once, not retried until the grace window runs out.
        (slot,) = await h.store.slot_log(thread.id)
        assert (slot.state, slot.attempts) == (SlotState.SKIPPED, 1)
        assert slot.reason == sub.disabled_reason
        assert len(h.fake.dms(TESTER)) == 1


async def test_a_deleted_thread_pauses_with_one_notice(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    thread = fake_discord.add_thread(fake_discord.channel_id, "doomed")
    async with started(briefs_dir, fake_discord, tmp_path) as h:
        await h.subscribe(thread.id, time="08:30", timezone="UTC")
        h.fake.delete_channel(thread.id)
        await h.clock.set(DAY1)
        await h.clock.set(DAY3)  # two more passes over a paused channel
        sub = await h.store.get(thread.id)
        assert sub is not None and not sub.enabled
        assert sub.disabled_reason == "channel gone: Unknown Channel (404)"
        (notice,) = h.fake.dms(TESTER)
        assert "Unknown Channel (404)" in notice["embeds"][0]["description"]
        assert h.fake.allowed_mentions(int(notice["id"])) == {"parse": []}
