"""Digests in threads, forums and announcement channels, role mentions and pause notices by DM,
end to end: unmodified discord.py against the fake Discord, a real SQLite file, a fake clock."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from pathlib import Path

import discord
import pytest

from bot.digest.scheduler import digest_nonce
from bot.store.records import ArchiveCutoff, History, SlotState
from tests.commands.digest_world import EPHEMERAL, MANAGER, START, Harness, description, run_bot
from tests.conftest import BRIEF
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord
from tests.fakediscord.models import DEFAULT_USER_ID, GUILD_ANNOUNCEMENT

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


# ---------------------------------------------------------------------------- forums


async def add_brief(h: Harness, briefs_dir: Path, brief_id: str) -> None:
    """A new brief on disk, titled with its id, picked up by the bot."""
    text = BRIEF.replace("id: council-budget", f"id: {brief_id}").replace(
        "title: Council approves budget", f"title: Story {brief_id}"
    )
    (briefs_dir / f"{brief_id}.yaml").write_text(text)
    await h.bot.library.reload()


async def test_a_forum_gets_a_new_post_per_digest_with_the_first_usable_tag(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    forum = fake_discord.add_forum("briefings", tags=["staff", "digest"], require_tag=True)
    staff, digest = forum.available_tags
    staff.moderated = True  # only moderators may apply it: the bot takes the next one
    setup = fake_discord.add_thread(forum, "how we use this forum")
    async with started(briefs_dir, fake_discord, tmp_path) as h:
        body = await h.subscribe(setup.id, time="08:30", timezone="UTC", forum=True)
        assert body["data"]["embeds"][0]["title"] == "Digest subscribed", body
        sub = await h.store.get(forum.id)
        assert sub is not None and sub.kind.value == "forum"

        await h.clock.set(DAY1)
        await add_brief(h, briefs_dir, "second-story")
        await add_brief(h, briefs_dir, "third-story")
        await h.clock.set(DAY2)
        posts = [p for p in h.fake.forum_posts(forum.id) if p.id != setup.id]
        assert [p.name for p in posts] == [
            "Digest 2026-03-05 08:30 · 1 brief",
            "Digest 2026-03-06 08:30 · 2 briefs",
        ]
        assert all(p.applied_tags == [digest.id] for p in posts)
        (opening,) = h.digests(posts[1].id)
        shown = str(opening["embeds"])
        assert "Story second-story" in shown and "Story third-story" in shown
        assert "Council approves budget" not in shown  # that one went in the first post
        assert h.digests(setup.id) == []  # nothing in the post the command ran in

        # /digest log, run in any post of the forum, links each digest's post.
        log = await h.fake.invoke("digest log", permissions=MANAGER, channel_id=setup.id)
        fields = str(log["data"]["embeds"][0]["fields"])
        for post in posts:  # each links to its post
            assert f"https://discord.com/channels/{h.fake.guild_id}/{post.id}\\n" in fields


async def test_a_forum_requiring_a_tag_the_bot_cannot_apply_pauses_with_the_reason(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    forum = fake_discord.add_forum("briefings", tags=["staff"], require_tag=True)
    forum.available_tags[0].moderated = True
    setup = fake_discord.add_thread(forum, "setup")
    async with started(briefs_dir, fake_discord, tmp_path) as h:
        await h.subscribe(setup.id, time="08:30", timezone="UTC", forum=True)
        await h.clock.set(DAY1)
        assert [p.id for p in h.fake.forum_posts(forum.id)] == [setup.id]
        status = await h.fake.invoke("digest status", permissions=MANAGER, channel_id=setup.id)
        text = description(status)
        assert "the forum requires a tag and has none the bot may apply" in text
        (notice,) = h.fake.dms(TESTER)
        assert "add a tag that is not moderator-only" in notice["embeds"][0]["description"]


async def test_a_resumed_forum_claim_finds_its_post_instead_of_posting_again(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    forum = fake_discord.add_forum("briefings")
    setup = fake_discord.add_thread(forum, "setup")
    db = tmp_path / "briefbot.sqlite3"
    clock = FakeClock(START)
    async with run_bot(briefs_dir, fake_discord, db, clock) as h:
        await h.subscribe(setup.id, time="08:30", timezone="UTC", forum=True)
        await clock.set(DAY1)
        (post,) = [p for p in h.fake.forum_posts(forum.id) if p.id != setup.id]
    # The bot died after Discord made the post and before the slot was recorded as sent: the
    # claim is still open (forum posts carry no nonce Discord could deduplicate by).
    with sqlite3.connect(db) as raw:
        raw.execute(
            "UPDATE digest_slots SET state = 'claimed', message_id = NULL, finished_at = NULL"
        )
        raw.execute("DELETE FROM sent_briefs")
        raw.execute("UPDATE subscriptions SET archive_date = NULL, archive_id = NULL")
    # It came back within the grace window, after the forum's one-hour auto-archive.
    post.archived = True
    await clock.set(DAY1 + dt.timedelta(hours=2))
    async with run_bot(briefs_dir, fake_discord, db, clock) as h:
        posts = [p for p in h.fake.forum_posts(forum.id) if p.id != setup.id]
        assert [p.id for p in posts] == [post.id]  # no second post
        (slot,) = await h.store.slot_log(forum.id)
        assert (slot.state, slot.message_id, slot.attempts) == (SlotState.SENT, post.id, 2)
        # Completed as the first attempt would have been: its brief sent, the cutoff set.
        assert await h.store.history(forum.id) == History(
            ArchiveCutoff(dt.date(2026, 3, 5), "council-budget"), frozenset({"council-budget"})
        )


# ---------------------------------------------------------------------------- announcements


async def test_an_announcement_channel_crossposts_only_when_asked(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    news = fake_discord.add_channel("news", GUILD_ANNOUNCEMENT)
    quiet_news = fake_discord.add_channel("quiet-news", GUILD_ANNOUNCEMENT)
    async with started(briefs_dir, fake_discord, tmp_path) as h:
        body = await h.subscribe(news.id, time="08:30", timezone="UTC", publish=True)
        assert body["data"]["embeds"][0]["title"] == "Digest subscribed", body
        await h.subscribe(quiet_news.id, time="08:30", timezone="UTC")
        await h.clock.set(DAY1)
        (digest,) = h.digests(news.id)
        assert h.fake.crossposted(news.id) == [digest]
        assert len(h.digests(quiet_news.id)) == 1
        assert h.fake.crossposted(quiet_news.id) == []
        crossposts = h.fake.requests("POST", path_contains="/crosspost")
        assert len(crossposts) == 1


# ---------------------------------------------------------------------------- mentions


async def test_a_digest_mentions_exactly_its_role_until_the_mention_is_cleared(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    analysts = fake_discord.add_role("Analysts", mentionable=True)
    leads = fake_discord.add_role("Leads", discord.Permissions(manage_channels=True))
    erin = fake_discord.add_member("erin", roles=[leads])
    async with started(briefs_dir, fake_discord, tmp_path) as h:
        body = await h.fake.invoke(
            "digest subscribe",
            {"time": "08:30", "timezone": "UTC", "mention": analysts.id},
            member=erin,
        )
        assert f"Mentions <@&{analysts.id}>." in description(body)
        await h.scheduler_idle()
        await h.clock.set(DAY1)
        (digest,) = h.digests()
        message_id = int(digest["id"])
        assert digest["content"] == f"<@&{analysts.id}>"
        allowed = h.fake.allowed_mentions(message_id)
        assert allowed is not None and allowed["parse"] == []
        assert [int(r) for r in allowed["roles"]] == [analysts.id]
        assert not allowed.get("users")
        pings = h.fake.pings(message_id)
        assert (pings.everyone, pings.users, pings.roles) == (False, set(), {analysts.id})
        # The interaction reply itself pinged no one.
        assert body["data"]["allowed_mentions"] == {"parse": []}

        body = await h.fake.invoke("digest unmention", member=erin)
        assert body["data"]["flags"] & EPHEMERAL
        assert f"no longer mentions <@&{analysts.id}>" in description(body)
        await h.subscribe(time="08:30")  # changing other options keeps it cleared
        await add_brief(h, briefs_dir, "second-story")
        await h.clock.set(DAY2)
        second = h.digests()[-1]
        assert second["content"] == ""
        assert h.fake.allowed_mentions(int(second["id"])) == {"parse": []}
        assert h.fake.pings(int(second["id"])).roles == set()


@pytest.mark.parametrize(
    ("pick", "expected"),
    [
        ("board", "is not below your highest role"),
        ("quiet", "is not mentionable and you lack the Mention @everyone"),
        ("everyone", "A digest never mentions @everyone or @here"),
    ],
)
async def test_a_role_the_member_may_not_mention_is_refused(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path, pick: str, expected: str
) -> None:
    roles = {
        "quiet": fake_discord.add_role("Quiet", mentionable=False),
        "leads": fake_discord.add_role("Leads", discord.Permissions(manage_channels=True)),
        "board": fake_discord.add_role("Board", mentionable=True),  # above Leads
    }
    erin = fake_discord.add_member("erin", roles=[roles["leads"]])
    role_id = fake_discord.guild_id if pick == "everyone" else roles[pick].id
    async with started(briefs_dir, fake_discord, tmp_path) as h:
        body = await h.fake.invoke(
            "digest subscribe", {"time": "08:30", "mention": role_id}, member=erin
        )
        assert body["data"]["flags"] & EPHEMERAL
        # What a reader sees: "@everyone" in the text is made inert with an invisible space.
        text = description(body)
        assert expected in text.replace("\u200b", "")
        if pick != "everyone":
            assert text.startswith(f"<@&{role_id}> is not")  # shown as the role
        assert await h.store.get(h.fake.channel_id) is None  # nothing was subscribed


# ---------------------------------------------------------------------------- notices by DM


async def test_pause_notices_by_dm_can_be_turned_off_and_a_blocked_dm_changes_nothing(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    leads = fake_discord.add_role("Leads", discord.Permissions(manage_channels=True))
    erin = fake_discord.add_member("erin", roles=[leads], blocks_dms=True)
    olga = fake_discord.add_member("olga", roles=[leads])
    blocked = fake_discord.add_channel("erin-desk")  # erin subscribes; her DMs are closed
    muted = fake_discord.add_channel("olga-desk")  # olga subscribes, then turns DMs off
    told = fake_discord.add_channel("tester-desk")  # the tester subscribes; DMs on
    healthy = fake_discord.add_channel("healthy")
    async with started(briefs_dir, fake_discord, tmp_path) as h:
        for channel, member in ((blocked, erin), (muted, olga)):
            await h.fake.invoke(
                "digest subscribe", {"time": "08:30"}, member=member, channel_id=channel.id
            )
        body = await h.fake.invoke(
            "digest notices", {"dm": False}, member=olga, channel_id=muted.id
        )
        assert "No direct message when the bot pauses this channel" in description(body)
        await h.subscribe(told.id, time="08:30")
        await h.subscribe(healthy.id, time="08:30")
        for channel in (blocked, muted, told):
            h.fake.forbidden_channels.add(channel.id)

        await h.clock.set(DAY1)
        await h.clock.set(DAY3)
        for channel in (blocked, muted, told):
            sub = await h.store.get(channel.id)
            assert sub is not None and not sub.enabled, channel.name
        assert len(h.digests(healthy.id)) == 1  # the scheduler kept going
        assert h.fake.dms(erin.id) == []
        assert f"member {erin.id} does not accept direct messages" in caplog.text
        assert h.fake.dm_channel(olga.id) is None  # never even opened
        (notice,) = h.fake.dms(TESTER)  # one notice for one pause, over three days
        assert f"<#{told.id}>" in notice["embeds"][0]["description"]

        # A new pause after a resume is a new notice: one per pause, not one ever.
        h.fake.forbidden_channels.discard(told.id)
        await h.fake.invoke("digest resume", permissions=MANAGER, channel_id=told.id)
        await h.scheduler_idle()
        await h.clock.set(DAY3 + dt.timedelta(days=1))
        assert len(h.digests(told.id)) == 1
        h.fake.forbidden_channels.add(told.id)
        await add_brief(h, briefs_dir, "later-story")  # something to post, so it finds out
        await h.clock.set(DAY3 + dt.timedelta(days=3))
        assert len(h.fake.dms(TESTER)) == 2


# ---------------------------------------------------------------------------- a week with DST


async def test_a_sunday_to_friday_schedule_over_the_spring_forward_weekend(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    # London moves from GMT to BST at 01:00 UTC on Sunday 29 March 2026: 01:30 does not exist
    # that day (it posts at the shifted 02:30 BST), 08:00 BST is 07:00 UTC from then on.
    clock = FakeClock(dt.datetime(2026, 3, 26, 0, 0, tzinfo=UTC))  # Thursday
    async with run_bot(briefs_dir, fake_discord, tmp_path / "db.sqlite3", clock) as h:
        body = await h.subscribe(
            time="01:30,08:00", timezone="Europe/London", days="sun-fri", quiet=False
        )
        assert "at 01:30, 08:00 (Europe/London)" in description(body)
        channel = h.fake.channel_id
        expected = [  # (UTC instant it posts, local date, slot time)
            (dt.datetime(2026, 3, 26, 1, 30, tzinfo=UTC), dt.date(2026, 3, 26), dt.time(1, 30)),
            (dt.datetime(2026, 3, 26, 8, 0, tzinfo=UTC), dt.date(2026, 3, 26), dt.time(8, 0)),
            (dt.datetime(2026, 3, 27, 1, 30, tzinfo=UTC), dt.date(2026, 3, 27), dt.time(1, 30)),
            (dt.datetime(2026, 3, 27, 8, 0, tzinfo=UTC), dt.date(2026, 3, 27), dt.time(8, 0)),
            # Saturday: not a digest day.
            (dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC), dt.date(2026, 3, 29), dt.time(1, 30)),
            (dt.datetime(2026, 3, 29, 7, 0, tzinfo=UTC), dt.date(2026, 3, 29), dt.time(8, 0)),
            (dt.datetime(2026, 3, 30, 0, 30, tzinfo=UTC), dt.date(2026, 3, 30), dt.time(1, 30)),
            (dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC), dt.date(2026, 3, 30), dt.time(8, 0)),
        ]
        for number, (at, day, slot) in enumerate(expected, start=1):
            await clock.set(at - dt.timedelta(minutes=1))
            assert len(h.digests()) == number - 1, f"posted before {at}"
            await clock.set(at)
            assert len(h.digests()) == number, f"not posted at {at}"
            sent = h.fake.requests("POST", path_contains=f"/channels/{channel}/messages")
            assert sent[-1].json["nonce"] == digest_nonce(channel, day, slot)
        # A restart on the same file the same morning posts nothing again.
        await clock.set(dt.datetime(2026, 3, 30, 9, 0, tzinfo=UTC))
    async with run_bot(briefs_dir, fake_discord, tmp_path / "db.sqlite3", clock) as h:
        await clock.set(dt.datetime(2026, 3, 30, 10, 0, tzinfo=UTC))
        assert len(h.digests()) == len(expected)
        first, *rest = h.digests()
        assert first["embeds"][0]["title"] == "Digest — 2026-03-26"
        assert all("Nothing new since" in str(m["embeds"][0]) for m in rest)
