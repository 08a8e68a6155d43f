"""/digest through unmodified discord.py and the fake Discord, on a real SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.digest.scheduler import digest_nonce
from bot.settings import Settings
from bot.store.sqlite import Store
from tests.conftest import BRIEF
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord, run_client
from tests.fakediscord.payloads import MANAGE_CHANNELS, MEMBER_PERMISSIONS

EPHEMERAL = 1 << 6
MANAGER = MEMBER_PERMISSIONS | MANAGE_CHANNELS
# Thursday 5 March 2026, 07:00 in London (GMT, UTC+0).
START = dt.datetime(2026, 3, 5, 7, 0, tzinfo=dt.UTC)


class Harness:
    """A running bot with its database file, clock and fake Discord."""

    def __init__(self, bot: BriefBot, fake: FakeDiscord, clock: FakeClock, db: Path) -> None:
        self.bot, self.fake, self.clock, self.db = bot, fake, clock, db

    async def scheduler_idle(self) -> None:
        """Wait until the scheduler has finished its pass and sleeps on the clock."""
        for _ in range(500):
            if self.clock.sleepers:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the scheduler never went to sleep")

    async def subscribe(self, channel: int | None = None, **options: str) -> dict[str, Any]:
        body = await self.fake.invoke(
            "digest subscribe", options, permissions=MANAGER, channel_id=channel
        )
        await self.scheduler_idle()
        return body

    def digests(self, channel: int | None = None) -> list[dict[str, Any]]:
        return self.fake.messages(channel or self.fake.channel_id)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "briefbot.sqlite3"


@pytest.fixture
async def harness(briefs_dir: Path, fake_discord: FakeDiscord, db: Path) -> AsyncIterator[Harness]:
    clock = FakeClock(START)
    async with run_bot(briefs_dir, fake_discord, db, clock) as h:
        yield h


def run_bot(briefs_dir: Path, fake: FakeDiscord, db: Path, clock: FakeClock) -> Any:
    """A bot on `db`, started against `fake`; an async context manager yielding a Harness."""
    import contextlib

    @contextlib.asynccontextmanager
    async def runner() -> AsyncIterator[Harness]:
        settings = Settings(
            briefs_dir=briefs_dir, dev_guild_id=fake.guild_id, reload_seconds=0, database=db
        )
        async with await Store.open(db, clock=clock) as store:
            bot = BriefBot(
                settings=settings, library=LiveLibrary(briefs_dir), store=store, clock=clock
            )
            async with run_client(bot, fake):
                h = Harness(bot, fake, clock, db)
                await h.scheduler_idle()
                yield h

    return runner()


def description(body: dict[str, Any]) -> str:
    return str(body["data"]["embeds"][0].get("description", ""))


async def test_non_managers_cannot_change_subscriptions(harness: Harness) -> None:
    # Even when a server admin made /digest visible to everyone (Discord would then deliver it).
    for command in ("digest subscribe", "digest unsubscribe", "digest list"):
        body = await harness.fake.invoke(
            command, permissions=MEMBER_PERMISSIONS, check_permissions=False
        )
        assert body["data"]["flags"] & EPHEMERAL
        assert body["data"]["content"] == (
            f"You need the Manage Channels permission to use /{command}."
        )
    assert await harness.bot.store.get(harness.fake.channel_id) is None  # type: ignore[union-attr]


async def test_group_is_hidden_from_members_by_default(harness: Harness) -> None:
    synced = {c["name"]: c for c in harness.fake.commands(harness.fake.guild_id)}
    assert synced["digest"]["default_member_permissions"] == str(MANAGE_CHANNELS)
    group = harness.bot.tree.get_command("digest")
    assert group is not None and group.guild_only  # type: ignore[union-attr]
    names = [o["name"] for o in synced["digest"]["options"]]
    assert names == ["subscribe", "unsubscribe", "list", "status", "preview"]


async def test_subscribe_status_preview_unsubscribe(harness: Harness) -> None:
    body = await harness.subscribe(time="8:30", timezone="europe/london", topics="finance")
    assert body["data"]["flags"] & EPHEMERAL
    text = description(body)
    assert "Daily at 08:30 (Europe/London) · Budget" in text
    assert "Next digest: Thu 05 Mar 2026, 08:30 GMT" in text

    status = await harness.fake.invoke(
        "digest status", permissions=MEMBER_PERMISSIONS, check_permissions=False
    )
    assert "Next digest: Thu 05 Mar 2026, 08:30 GMT" in description(status)
    assert "Last digest: none yet" in description(status)

    preview = await harness.fake.invoke(
        "digest preview", permissions=MEMBER_PERMISSIONS, check_permissions=False
    )
    assert preview["data"]["flags"] & EPHEMERAL
    assert "Council approves budget" in str(preview["data"]["embeds"][0])
    assert harness.digests() == []  # a preview posts nothing to the channel

    listing = await harness.fake.invoke("digest list", permissions=MANAGER)
    assert f"<#{harness.fake.channel_id}>" in str(listing["data"]["embeds"][0]["fields"])

    gone = await harness.fake.invoke("digest unsubscribe", permissions=MANAGER)
    assert gone["data"]["embeds"][0]["title"] == "Daily digest cancelled"
    status = await harness.fake.invoke("digest status", permissions=MANAGER)
    assert status["data"]["embeds"][0]["title"] == "No daily digest here"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"time": "25:99"}, "Examples: 08:30, 9am"),
        ({"timezone": "Europe/Londn"}, "Europe/London"),
        ({"topics": "budget, nonsense"}, "No topic is called 'nonsense'"),
    ],
)
async def test_bad_schedule_gets_clear_private_error(
    harness: Harness, options: dict[str, str], expected: str
) -> None:
    body = await harness.fake.invoke("digest subscribe", options, permissions=MANAGER)
    assert body["data"]["flags"] & EPHEMERAL
    assert expected in str(body["data"]["embeds"][0])
    assert await harness.bot.store.get(harness.fake.channel_id) is None  # type: ignore[union-attr]


async def test_timezone_autocomplete(harness: Harness) -> None:
    body = await harness.fake.autocomplete(
        "digest subscribe", {"timezone": "karach"}, focused="timezone", permissions=MANAGER
    )
    assert body["data"]["choices"][0]["value"] == "Asia/Karachi"


async def test_digest_posts_once_a_day_with_a_nonce(harness: Harness, briefs_dir: Path) -> None:
    await harness.subscribe(time="08:30", timezone="Europe/London")
    await harness.clock.set(dt.datetime(2026, 3, 5, 8, 31, tzinfo=dt.UTC))
    (message,) = harness.digests()
    assert message["embeds"][0]["title"].startswith("Daily digest")
    assert "Council approves budget" in str(message["embeds"][0])
    sends = harness.fake.requests("POST", path_contains="/messages")
    assert sends[-1].json["nonce"] == digest_nonce(harness.fake.channel_id, dt.date(2026, 3, 5))
    assert sends[-1].json["enforce_nonce"] is True
    assert sends[-1].json["allowed_mentions"] == {"parse": []}

    # Next day: nothing new, so nothing is posted. A new brief arrives; the day after, it is.
    await harness.clock.set(dt.datetime(2026, 3, 6, 9, 0, tzinfo=dt.UTC))
    assert len(harness.digests()) == 1
    status = await harness.fake.invoke("digest status", permissions=MANAGER)
    assert "Last digest: Thu 05 Mar 2026, 08:30 GMT (1 brief)" in description(status)
    assert "Skipped 2026-03-06: nothing new" in description(status)  # never a silent skip
    (briefs_dir / "new.yaml").write_text(BRIEF.replace("id: council-budget", "id: new-one"))
    await harness.bot.library.reload()
    await harness.clock.set(dt.datetime(2026, 3, 7, 9, 0, tzinfo=dt.UTC))
    assert len(harness.digests()) == 2
    assert "new-one" not in str(harness.digests()[0]["embeds"])

    status = await harness.fake.invoke("digest status", permissions=MANAGER)
    assert "Last digest: Sat 07 Mar 2026, 08:30 GMT (1 brief)" in description(status)


async def test_rate_limited_send_is_retried_and_arrives_once(harness: Harness) -> None:
    await harness.subscribe(time="08:30", timezone="UTC")
    harness.fake.fail_next("POST", r"/channels/\d+/messages$", 429)
    await harness.clock.set(dt.datetime(2026, 3, 5, 8, 31, tzinfo=dt.UTC))
    assert len(harness.digests()) == 1
    assert len(harness.fake.requests("POST", path_contains="/messages")) == 2


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ("forbidden_channels", "no permission: Missing Access (403)"),
        ("unknown_channels", "channel gone: Unknown Channel (404)"),
    ],
)
async def test_lost_access_disables_and_shows_why(
    harness: Harness, broken: str, reason: str
) -> None:
    other = harness.fake.channel_id + 1
    await harness.subscribe(time="08:30", timezone="UTC")
    await harness.subscribe(other, time="08:30", timezone="UTC")
    getattr(harness.fake, broken).add(harness.fake.channel_id)
    await harness.clock.set(dt.datetime(2026, 3, 5, 8, 31, tzinfo=dt.UTC))
    assert harness.digests() == []
    assert len(harness.digests(other)) == 1  # the other channel still gets its digest

    status = await harness.fake.invoke("digest status", permissions=MANAGER)
    assert status["data"]["embeds"][0]["title"] == "Daily digest (paused)"
    assert f"Paused: {reason}" in description(status)
    listing = await harness.fake.invoke("digest list", permissions=MANAGER)
    assert "(paused)" in str(listing["data"]["embeds"][0]["fields"])

    # Access restored; subscribing again re-enables it (today's slot was spent: from tomorrow).
    getattr(harness.fake, broken).clear()
    await harness.subscribe(time="09:00", timezone="UTC")
    await harness.clock.set(dt.datetime(2026, 3, 6, 9, 1, tzinfo=dt.UTC))
    assert len(harness.digests()) == 1


async def test_many_channels_subscribe_at_once(harness: Harness) -> None:
    channels = [harness.fake.channel_id + i for i in range(1, 21)]
    await asyncio.gather(
        *(
            harness.fake.invoke(
                "digest subscribe", {"time": "08:30"}, permissions=MANAGER, channel_id=c
            )
            for c in channels
        )
    )
    await harness.scheduler_idle()
    await harness.clock.set(dt.datetime(2026, 3, 5, 8, 31, tzinfo=dt.UTC))
    assert all(len(harness.digests(c)) == 1 for c in channels)


async def test_subscriptions_and_sends_survive_a_restart(
    briefs_dir: Path, fake_discord: FakeDiscord, db: Path
) -> None:
    clock = FakeClock(START)
    async with run_bot(briefs_dir, fake_discord, db, clock) as first:
        await first.subscribe(time="08:30", timezone="UTC")
        await clock.set(dt.datetime(2026, 3, 5, 8, 31, tzinfo=dt.UTC))
        assert len(first.digests()) == 1
    # A new bot on the same database file, later the same day: no second digest.
    async with run_bot(briefs_dir, fake_discord, db, clock) as second:
        await clock.set(dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC))
        assert len(second.digests()) == 1
        status = await fake_discord.invoke("digest status", permissions=MANAGER)
        assert "Daily at 08:30 (UTC)" in description(status)
