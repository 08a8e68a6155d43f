"""/digest through unmodified discord.py and the fake Discord, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.digest.scheduler import digest_nonce
from tests.commands.digest_world import (
    EPHEMERAL,
    MANAGER,
    START,
    Harness,
    description,
    run_bot,
)
from tests.conftest import BRIEF
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord, payloads
from tests.fakediscord.payloads import MANAGE_CHANNELS, MANAGE_GUILD, MEMBER_PERMISSIONS
from tests.pgcluster import PgCluster


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """The whole /digest journey on each backend: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "data" / "briefbot.sqlite3"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return await cluster.create_database()


@pytest.fixture
async def harness(
    briefs_dir: Path, fake_discord: FakeDiscord, db: Path | str
) -> AsyncIterator[Harness]:
    clock = FakeClock(START)
    # Two more text channels the bot knows from GUILD_CREATE: another subscriber, notices.
    base = fake_discord.channel_id
    fake_discord.guild.channels += [
        payloads.FakeChannel(base + 1, "other"),
        payloads.FakeChannel(base + 2, "notices"),
    ]
    async with run_bot(briefs_dir, fake_discord, db, clock) as h:
        yield h


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
    assert names == [
        "subscribe",
        "unsubscribe",
        "list",
        "status",
        "preview",
        "pause",
        "resume",
        "unmention",
        "log",
        "notices",
    ]


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
    assert gone["data"]["embeds"][0]["title"] == "Digest cancelled"
    status = await harness.fake.invoke("digest status", permissions=MANAGER)
    assert status["data"]["embeds"][0]["title"] == "No digest here"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"time": "25:99"}, "Examples: 08:30 (once a day) or 08:00,17:30"),
        ({"time": "07:00,12:00,17:00,21:00"}, "4 times given; a digest posts at most 3 times"),
        ({"time": "08:00,1730x"}, "'1730x' is not a time of day"),
        ({"days": "mon,funday"}, "'funday' in 'mon,funday' is not a day of the week"),
        ({"publish": True}, "this is not an announcement channel"),
        ({"forum": True}, "run it inside any post of that forum"),
        ({"timezone": "Europe/Londn"}, "Europe/London"),
        ({"topics": "budget, nonsense"}, "No topic is called 'nonsense'"),
    ],
)
async def test_bad_schedule_gets_clear_private_error(
    harness: Harness, options: dict[str, str], expected: str
) -> None:
    body = await harness.fake.invoke("digest subscribe", options, permissions=MANAGER)
    assert body["data"]["flags"] & EPHEMERAL, body
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
    assert message["embeds"][0]["title"] == "Digest — 2026-03-05"
    assert "Council approves budget" in str(message["embeds"][0])
    sends = harness.fake.requests("POST", path_contains="/messages")
    nonce = digest_nonce(harness.fake.channel_id, dt.date(2026, 3, 5), dt.time(8, 30))
    assert sends[-1].json["nonce"] == nonce
    assert sends[-1].json["enforce_nonce"] is True
    assert sends[-1].json["allowed_mentions"] == {"parse": []}

    # Next day: nothing new, so nothing is posted. A new brief arrives; the day after, it is.
    await harness.clock.set(dt.datetime(2026, 3, 6, 9, 0, tzinfo=dt.UTC))
    assert len(harness.digests()) == 1
    status = await harness.fake.invoke("digest status", permissions=MANAGER)
    assert "Last digest: Thu 05 Mar 2026, 08:30 GMT (1 brief)" in description(status)
    assert "Skipped 2026-03-06 08:30: nothing new" in description(status)  # never a silent skip
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
async def test_lost_access_pauses_tells_once_and_resumes_once_fixed(
    harness: Harness, broken: str, reason: str
) -> None:
    other, notices = harness.fake.channel_id + 1, harness.fake.channel_id + 2
    body = await harness.fake.invoke(
        "digest notices", {"channel": notices}, permissions=MANAGER | MANAGE_GUILD
    )
    assert f"<#{notices}>" in description(body)
    await harness.subscribe(time="08:30", timezone="UTC")
    await harness.subscribe(other, time="08:30", timezone="UTC")
    getattr(harness.fake, broken).add(harness.fake.channel_id)
    await harness.clock.set(dt.datetime(2026, 3, 5, 8, 31, tzinfo=dt.UTC))
    assert harness.digests() == []
    assert len(harness.digests(other)) == 1  # the other channel still gets its digest

    status = await harness.fake.invoke("digest status", permissions=MANAGER)
    assert status["data"]["embeds"][0]["title"] == "Digest (paused)"
    assert f"Paused: {reason}" in description(status)
    listing = await harness.fake.invoke("digest list", permissions=MANAGER)
    assert "(paused)" in str(listing["data"]["embeds"][0]["fields"])

    # Told once, in the notices channel: the channel, the reason and the fix; no one pinged.
    await harness.clock.set(dt.datetime(2026, 3, 7, 9, 0, tzinfo=dt.UTC))
    (notice,) = harness.digests(notices)
    text = notice["embeds"][0]["description"]
    assert f"<#{harness.fake.channel_id}>" in text and reason in text and "/digest resume" in text
    sent = harness.fake.requests("POST", path_contains=f"/channels/{notices}/messages")
    assert sent[0].json["allowed_mentions"] == {"parse": []}

    # Resume first checks the bot's permissions here, and names the one still missing.
    getattr(harness.fake, broken).clear()
    lacking = payloads.APP_PERMISSIONS & ~(1 << 14)  # no Embed Links
    body = await harness.fake.invoke("digest resume", permissions=MANAGER, app_permissions=lacking)
    assert "missing Embed Links" in description(body)
    assert not (await harness.bot.store.get(harness.fake.channel_id)).enabled  # type: ignore[union-attr]
    body = await harness.fake.invoke("digest resume", permissions=MANAGER)
    assert body["data"]["embeds"][0]["title"] == "Digest resumed"
    await harness.scheduler_idle()
    await harness.clock.set(dt.datetime(2026, 3, 8, 8, 31, tzinfo=dt.UTC))
    assert len(harness.digests()) == 1  # the next slot is posted
    assert len(harness.digests(notices)) == 1  # and no second notice

    log = await harness.fake.invoke("digest log", permissions=MANAGER)
    fields = str(log["data"]["embeds"][0]["fields"])
    assert "2026-03-08 08:30" in fields and "Posted 1 brief" in fields
    assert f"Skipped — {reason}" in fields or f"Skipped — paused: {reason}" in fields


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
    briefs_dir: Path, fake_discord: FakeDiscord, db: Path | str
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


async def test_pause_keeps_settings_and_resume_restarts(harness: Harness) -> None:
    await harness.subscribe(time="08:30,17:00", timezone="UTC", days="weekdays")
    body = await harness.fake.invoke("digest pause", {"until": "yesterday"}, permissions=MANAGER)
    assert "is not a date" in description(body)
    body = await harness.fake.invoke("digest pause", permissions=MANAGER)
    assert body["data"]["embeds"][0]["title"] == "Digest paused"
    await harness.clock.set(dt.datetime(2026, 3, 5, 18, 0, tzinfo=dt.UTC))
    assert harness.digests() == []
    body = await harness.fake.invoke("digest resume", permissions=MANAGER)
    text = description(body)
    assert "Weekdays at 08:30, 17:00 (UTC)" in text
    # Friday 08:30 next, then Friday 17:00 and Monday 08:30: the weekend is skipped.
    assert "Next digest: Fri 06 Mar 2026, 08:30 GMT" in text
    assert "Then: Fri 06 Mar 2026, 17:00 GMT; Mon 09 Mar 2026, 08:30 GMT" in text
    await harness.scheduler_idle()
    await harness.clock.set(dt.datetime(2026, 3, 6, 8, 31, tzinfo=dt.UTC))
    assert len(harness.digests()) == 1
