"""/digest as a demanding user meets it: odd dates, offsets typed as zones, half-done commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.commands.digest_world import MANAGER, START, Harness, description, run_bot
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord, payloads
from tests.fakediscord.payloads import MANAGE_GUILD, MEMBER_PERMISSIONS


@pytest.fixture
async def harness(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path
) -> AsyncIterator[Harness]:
    clock = FakeClock(START)
    base = fake_discord.channel_id
    fake_discord.guild.channels += [payloads.FakeChannel(base + 2, "notices")]
    async with run_bot(briefs_dir, fake_discord, tmp_path / "db.sqlite3", clock) as h:
        yield h


async def test_pause_until_a_leap_day_without_a_year(harness: Harness) -> None:
    await harness.subscribe(time="08:30")
    await harness.clock.set(dt.datetime(2027, 6, 1, 9, 0, tzinfo=dt.UTC))
    await harness.scheduler_idle()
    body = await harness.fake.invoke("digest pause", {"until": "29 Feb"}, permissions=MANAGER)
    assert body["data"]["embeds"][0]["title"] == "Digest paused", body
    assert "until 2028-02-29" in description(body)
    body = await harness.fake.invoke("digest pause", {"until": "March 20"}, permissions=MANAGER)
    assert "until 2028-03-20" in description(body), body


async def test_pause_until_a_far_date_is_refused_and_status_still_answers(
    harness: Harness,
) -> None:
    await harness.subscribe(time="08:30")
    body = await harness.fake.invoke("digest pause", {"until": "9999-12-31"}, permissions=MANAGER)
    assert "at most a year ahead" in description(body), body
    sub = await harness.store.get(harness.fake.channel_id)
    assert sub is not None and sub.enabled
    status = await harness.fake.invoke(
        "digest status", permissions=MEMBER_PERMISSIONS, check_permissions=False
    )
    assert status["data"]["embeds"][0]["title"] == "Digest", status


async def test_a_typed_offset_is_never_completed_to_the_inverted_etc_zone(
    harness: Harness,
) -> None:
    # Etc/GMT+5 is UTC-5 (POSIX signs): offering it to someone typing GMT+5 posts 10 hours off.
    body = await harness.fake.autocomplete(
        "digest subscribe", {"timezone": "GMT+5"}, focused="timezone", permissions=MANAGER
    )
    values = [c["value"] for c in body["data"]["choices"]]
    assert "Etc/GMT+5" not in values
    assert "Asia/Karachi" in values, values
    refused = await harness.fake.invoke(
        "digest subscribe", {"timezone": "GMT+5"}, permissions=MANAGER
    )
    assert "fixed UTC offset" in str(refused["data"]["embeds"][0])
    assert "Asia/Karachi" in str(refused["data"]["embeds"][0])


async def test_notices_in_an_unsubscribed_channel_change_nothing_they_do_not_report(
    harness: Harness,
) -> None:
    notices = harness.fake.channel_id + 2
    body = await harness.fake.invoke(
        "digest notices",
        {"channel": str(notices), "dm": False},
        permissions=MANAGER | MANAGE_GUILD,
    )
    assert body["data"]["embeds"][0]["title"] == "No digest here", body
    settings = await harness.store.guild_settings(harness.fake.guild_id)
    assert settings.notices_channel_id is None


async def test_a_pause_stored_until_the_calendars_end_still_has_a_status(
    harness: Harness,
) -> None:
    # A database written before far dates were refused may hold one.
    await harness.subscribe(time="08:30")
    await harness.store.pause(harness.fake.channel_id, 1, dt.date(9999, 12, 31))
    status = await harness.fake.invoke(
        "digest status", permissions=MEMBER_PERMISSIONS, check_permissions=False
    )
    assert status["data"]["embeds"][0]["title"] == "Digest (paused)", status
    assert "It resumes on 9999-12-31" in description(status)


async def test_topics_all_widens_a_narrowed_digest_again_keeping_its_history(
    harness: Harness,
) -> None:
    await harness.subscribe(time="08:30", topics="finance")
    await harness.store.pause(harness.fake.channel_id, 1)  # a setting to see kept
    body = await harness.subscribe(topics="all")
    assert body["data"]["embeds"][0]["title"] == "Digest subscribed", body
    assert "Daily at 08:30 (UTC) · all topics" in description(body)
    sub = await harness.store.get(harness.fake.channel_id)
    assert sub is not None and sub.topics == () and sub.enabled


async def test_subscribe_in_a_post_of_a_subscribed_forum_changes_the_forums_digest(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    forum = fake_discord.add_forum("briefings")
    setup = fake_discord.add_thread(forum, "setup")
    other = fake_discord.add_thread(forum, "another post")
    clock = FakeClock(START)
    async with run_bot(briefs_dir, fake_discord, tmp_path / "db.sqlite3", clock) as h:
        await h.subscribe(setup.id, time="08:30", timezone="UTC", forum=True)
        # Later someone moves it to 09:00 from another post, forgetting forum:true.
        body = await h.subscribe(other.id, time="09:00")
        assert "Each digest is a new post in this forum." in description(body), body
        sub = await h.store.get(forum.id)
        assert sub is not None and [f"{t:%H:%M}" for t in sub.slot_times] == ["09:00"]
        assert await h.store.get(other.id) is None  # no digest into that one post


async def test_time_autocomplete_offers_only_what_discord_and_the_schedule_take(
    harness: Harness,
) -> None:
    async def offered(typed: str) -> list[str]:
        body = await harness.fake.autocomplete(
            "digest subscribe", {"time": typed}, focused="time", permissions=MANAGER
        )
        return [c["value"] for c in body["data"]["choices"]]

    assert (await offered("08:00, 5pm"))[0] == "08:00,17:00"
    # A fourth time would be refused: none is offered.
    assert await offered("08:00,12:00,17:00,9") == []
    # Pasted junk longer than a choice may be (100): nothing Discord would reject.
    assert await offered("x" * 120 + ",9") == []


async def test_a_deleted_channels_digest_can_be_removed_from_another_channel(
    harness: Harness,
) -> None:
    here, gone = harness.fake.channel_id, harness.fake.channel_id + 2
    await harness.subscribe(time="08:30")
    await harness.subscribe(gone, time="08:30")
    harness.fake.unknown_channels.add(gone)  # deleted: no command can run in it any more
    await harness.clock.set(dt.datetime(2026, 3, 5, 8, 31, tzinfo=dt.UTC))
    await harness.scheduler_idle()
    listing = await harness.fake.invoke("digest list", permissions=MANAGER)
    assert f"/digest unsubscribe channel:{gone}" in str(listing["data"]["embeds"][0]), listing

    # Offered by autocomplete; a live channel is not (it is unsubscribed where it is).
    body = await harness.fake.autocomplete(
        "digest unsubscribe", {"channel": ""}, focused="channel", permissions=MANAGER
    )
    assert [c["value"] for c in body["data"]["choices"]] == [str(gone)]
    refused = await harness.fake.invoke(
        "digest unsubscribe", {"channel": str(here)}, permissions=MANAGER
    )
    assert "run /digest unsubscribe in it" in description(refused), refused
    assert await harness.store.get(here) is not None
    elsewhere = await harness.fake.invoke(
        "digest unsubscribe", {"channel": "123"}, permissions=MANAGER
    )
    assert elsewhere["data"]["embeds"][0]["title"] == "Not subscribed"

    body = await harness.fake.invoke(
        "digest unsubscribe", {"channel": str(gone)}, permissions=MANAGER
    )
    assert body["data"]["embeds"][0]["title"] == "Digest cancelled", body
    assert await harness.store.get(gone) is None
    assert await harness.store.get(here) is not None  # the channel it ran in keeps its digest
