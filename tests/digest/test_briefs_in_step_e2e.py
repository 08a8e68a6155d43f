"""The real bot against the fake Discord: a digest pass never reads a view of the briefs behind
the files, so a channel's digest is never skipped as "nothing new" for a brief the bot has
not caught up with yet.

Two ways a process's view lags: a start that serves the index as it was (`serve_first`) and
checks the files in the background, and an index file another process replaced under it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from bot.app import BriefBot, load_briefs
from bot.briefs.index import BriefIndex
from bot.clock import Zone
from bot.settings import Settings
from bot.store.records import SlotState
from bot.store.sqlite import Store
from tests.conftest import write_briefs
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord, run_client

START = dt.datetime(2026, 3, 5, 7, 0, tzinfo=dt.UTC)
SLOT = dt.time(7, 30)
DUE = dt.datetime.combine(START.date(), SLOT, dt.UTC)
TITLE = "Council approves budget"  # the brief `write_briefs` writes (council.yaml)
TIMEOUT = 15.0


async def until(check: Callable[[], object], what: str) -> None:
    """Poll `check` every 10 ms until it is true; fail (naming `what`) after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def briefs_without_the_brief(tmp_path: Path) -> tuple[Path, str]:
    """A briefs folder whose only brief is set aside for now: (folder, the brief's text)."""
    root = write_briefs(tmp_path / "briefs")
    brief = root / "council.yaml"
    text = brief.read_text(encoding="utf-8")
    brief.unlink()
    return root, text


async def subscribe(db: Path, fake: FakeDiscord) -> int:
    channel = fake.add_channel("digest").id
    async with await Store.open(db, clock=FakeClock(START)) as store:
        await store.upsert_subscription(
            guild_id=fake.guild_id,
            channel_id=channel,
            local_time=SLOT,
            timezone=Zone.named("UTC"),
            created_by=1,
        )
    return channel


async def slot_state(store: Store, channel: int) -> SlotState | None:
    slot = await store.get_slot(channel, DUE.date(), SLOT)
    return slot.state if slot is not None else None


def digest_text(fake: FakeDiscord, channel: int) -> str:
    [message] = fake.messages(channel)
    return str(message)


async def test_a_first_digest_due_at_start_waits_for_the_check_of_the_files(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    root, text = briefs_without_the_brief(tmp_path)
    db = tmp_path / "briefbot.sqlite3"
    # No watcher: only the start's check of the files can bring the brief in.
    settings = Settings(briefs_dir=root, data_dir=tmp_path / "data", database=db, reload_seconds=0)
    # The index as the last run left it: built before the brief was added.
    BriefIndex(root, settings.index_path).sync()
    (root / "council.yaml").write_text(text, encoding="utf-8")  # added while the bot was down
    channel = await subscribe(db, fake)

    # Another process holds the index's write lock: the start's check of the files waits.
    holder = sqlite3.connect(settings.index_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        library = load_briefs(settings)  # served at once, as it was: without the brief
        assert len(library.current().briefs) == 0
        clock = FakeClock(DUE + dt.timedelta(seconds=5))
        async with await Store.open(db, clock=clock) as store:
            bot = BriefBot(settings=settings, library=library, store=store, clock=clock)
            async with run_client(bot, fake):
                await until(lambda: bot.scheduler is not None and bot.scheduler.running, "start")
                await asyncio.sleep(0.5)  # a pass that did not wait would be over by now
                assert await slot_state(store, channel) is None  # neither sent nor skipped
                assert not fake.messages(channel)
                holder.execute("ROLLBACK")  # the check of the files goes ahead
                await until(lambda: fake.messages(channel), "the digest")
                await until(lambda: clock.sleepers, "the end of the pass")
                assert await slot_state(store, channel) is SlotState.SENT
    finally:
        holder.close()
    assert TITLE in digest_text(fake, channel)


async def test_an_index_another_process_rebuilt_is_read_before_the_digests(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    root, text = briefs_without_the_brief(tmp_path)
    db = tmp_path / "briefbot.sqlite3"
    settings = Settings(briefs_dir=root, data_dir=tmp_path / "data", database=db, reload_seconds=0)
    channel = await subscribe(db, fake)
    library = load_briefs(settings)  # builds the index: no brief yet
    clock = FakeClock(START)  # half an hour before the slot
    async with await Store.open(db, clock=clock) as store:
        bot = BriefBot(settings=settings, library=library, store=store, clock=clock)
        async with run_client(bot, fake):
            await until(lambda: clock.sleepers, "the scheduler to wait for the slot")
            # Meanwhile the brief is added and another process, finding the index damaged,
            # deletes it and builds it again from the files: the bot's view is of a file gone.
            (root / "council.yaml").write_text(text, encoding="utf-8")
            other = BriefIndex(root, settings.index_path)
            other.discard("damaged, for the test")
            other.sync()
            assert len(library.current().briefs) == 0
            await clock.advance(DUE - START + dt.timedelta(seconds=5))
            await until(lambda: fake.messages(channel), "the digest")
            await until(lambda: clock.sleepers, "the end of the pass")
            assert await slot_state(store, channel) is SlotState.SENT
    assert TITLE in digest_text(fake, channel)


async def test_digests_wait_while_the_index_holds_no_finished_build(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    root = write_briefs(tmp_path / "briefs")
    vocabulary = root / "topics.yaml"
    good = vocabulary.read_text(encoding="utf-8")
    vocabulary.write_text("topics: [\n", encoding="utf-8")  # no brief can load: no build
    db = tmp_path / "briefbot.sqlite3"
    settings = Settings(briefs_dir=root, data_dir=tmp_path / "data", database=db, reload_seconds=0)
    channel = await subscribe(db, fake)
    library = load_briefs(settings)
    assert not library.current().built
    clock = FakeClock(DUE + dt.timedelta(seconds=5))
    async with await Store.open(db, clock=clock) as store:
        bot = BriefBot(settings=settings, library=library, store=store, clock=clock)
        async with run_client(bot, fake):
            await until(lambda: clock.sleepers, "the first pass")
            # The first pass waited: the slot is neither skipped as "nothing new" nor sent.
            assert await slot_state(store, channel) is None
            assert not fake.messages(channel)
            vocabulary.write_text(good, encoding="utf-8")  # fixed
            await clock.advance(dt.timedelta(minutes=1))  # the pass after the wait
            await until(lambda: fake.messages(channel), "the digest")
            await until(lambda: clock.sleepers, "the end of the pass")
            assert await slot_state(store, channel) is SlotState.SENT
    assert TITLE in digest_text(fake, channel)
