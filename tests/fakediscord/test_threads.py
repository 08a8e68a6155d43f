"""Threads, forum posts and announcement channels through real discord.py calls."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord.http import handle_message_parameters

from tests.fakediscord import FakeDiscord, run_client
from tests.fakediscord.fixtures import require_spec
from tests.fakediscord.models import GUILD_ANNOUNCEMENT


def guild_bot() -> discord.Client:
    """A client with the guilds intent only, as briefbot runs."""
    return discord.Client(intents=discord.Intents(guilds=True))


async def test_thread_in_a_text_channel(fake_discord: FakeDiscord) -> None:
    async with run_client(guild_bot(), fake_discord) as client:
        channel = client.get_channel(fake_discord.channel_id)
        assert isinstance(channel, discord.TextChannel)
        thread = await channel.create_thread(
            name="Daily digest", type=discord.ChannelType.public_thread
        )
        assert client.user is not None
        assert thread.parent_id == channel.id and thread.owner_id == client.user.id
        sent = await thread.send("brief one")
        assert [m["content"] for m in fake_discord.messages(thread.id)] == ["brief one"]
        assert sent.channel.id == thread.id
        (stored,) = fake_discord.threads(channel.id)
        assert stored.name == "Daily digest" and stored.message_count == 1
        # THREAD_CREATE reached the cache, so the bot can find the thread by id later.
        await asyncio.sleep(0)
        assert client.get_channel(thread.id) is not None
        private = await channel.create_thread(name="private")
        assert private.type is discord.ChannelType.private_thread  # the route's default
        started = await (await channel.send("a brief")).create_thread(name="Discuss")
        assert str(started.id) == fake_discord.messages(channel.id)[-1]["id"]


async def test_archived_thread_is_unarchived_by_posting_unless_locked(
    fake_discord: FakeDiscord,
) -> None:
    archived = fake_discord.add_thread(fake_discord.channel_id, "old", archived=True)
    locked = fake_discord.add_thread(fake_discord.channel_id, "closed", archived=True, locked=True)
    async with run_client(guild_bot(), fake_discord) as client:
        # Archived threads are not in GUILD_CREATE: fetch them, as a bot must.
        assert client.get_channel(archived.id) is None
        thread = await client.fetch_channel(archived.id)
        assert isinstance(thread, discord.Thread) and thread.archived
        await thread.send("digest")  # "Sending a message will automatically unarchive"
        assert not archived.archived and len(fake_discord.messages(archived.id)) == 1

        closed = await client.fetch_channel(locked.id)
        assert isinstance(closed, discord.Thread) and closed.locked
        with pytest.raises(discord.HTTPException) as refused:
            await closed.send("digest")
        assert refused.value.code == 50083
        with pytest.raises(discord.Forbidden):  # unarchiving a locked thread: Manage Threads
            await closed.edit(archived=False)

        fake_discord.set_bot_permissions(
            fake_discord.bot_permissions(locked.id) | discord.Permissions(manage_threads=True).value
        )
        reopened = await closed.edit(archived=False, locked=False)
        assert not reopened.archived and not locked.archived and not locked.locked
        await reopened.send("digest")
        assert len(fake_discord.messages(locked.id)) == 1


async def test_deleted_thread_is_unknown_channel(fake_discord: FakeDiscord) -> None:
    live = fake_discord.add_thread(fake_discord.channel_id, "gone soon")
    async with run_client(guild_bot(), fake_discord) as client:
        thread = client.get_channel(live.id)
        assert isinstance(thread, discord.Thread)
        await thread.send("first")
        fake_discord.delete_channel(live.id)
        with pytest.raises(discord.NotFound) as missing:
            await thread.send("second")
        assert missing.value.code == 10003
        with pytest.raises(discord.NotFound):
            await client.fetch_channel(live.id)


async def test_forum_posts_tags_and_lookup_by_title(fake_discord: FakeDiscord) -> None:
    forum_channel = fake_discord.add_forum("briefings", tags=["digest", "urgent"], require_tag=True)
    old = fake_discord.add_thread(forum_channel, "Digest 2026-03-04", archived=True)
    async with run_client(guild_bot(), fake_discord) as client:
        forum = client.get_channel(forum_channel.id)
        assert isinstance(forum, discord.ForumChannel)
        assert forum.flags.require_tag
        digest_tag = next(t for t in forum.available_tags if t.name == "digest")

        with pytest.raises(discord.HTTPException) as untagged:
            await forum.create_thread(name="Digest 2026-03-05 (3 briefs)", content="x")
        assert untagged.value.code == 40067
        assert fake_discord.forum_posts(forum.id) == [old]

        post = await forum.create_thread(
            name="Digest 2026-03-05 (3 briefs)",
            content="Three new briefs",
            applied_tags=[digest_tag],
            allowed_mentions=discord.AllowedMentions.none(),
        )
        assert post.thread.id == post.message.id  # a post and its first message share an id
        assert post.thread.applied_tags == [digest_tag]
        titles = [p.name for p in fake_discord.forum_posts(forum.id)]
        assert titles == ["Digest 2026-03-04", "Digest 2026-03-05 (3 briefs)"]
        assert fake_discord.messages(post.thread.id)[0]["content"] == "Three new briefs"
        assert fake_discord.allowed_mentions(post.message.id) == {"parse": []}
        await post.thread.send("a follow-up in the post")

        # A resumed digest looks for its post by title: live posts, then archived ones.
        active = await forum.guild.active_threads()
        assert [t.name for t in active] == ["Digest 2026-03-05 (3 briefs)"]
        archived = [t.name async for t in forum.archived_threads(limit=10)]
        assert archived == ["Digest 2026-03-04"]


async def test_announcement_crosspost(fake_discord: FakeDiscord) -> None:
    news = fake_discord.add_channel("news", GUILD_ANNOUNCEMENT)
    async with run_client(guild_bot(), fake_discord) as client:
        channel = client.get_channel(news.id)
        assert isinstance(channel, discord.TextChannel) and channel.is_news()
        message = await channel.send("Digest")
        await message.publish()
        assert fake_discord.crossposted(news.id) == fake_discord.messages(news.id)
        with pytest.raises(discord.HTTPException) as again:
            await message.publish()
        assert again.value.code == 40033
        general = client.get_channel(fake_discord.channel_id)
        assert isinstance(general, discord.TextChannel)
        plain = await general.send("not news")
        with pytest.raises(discord.HTTPException):
            await plain.publish()
        assert fake_discord.crossposted(fake_discord.channel_id) == []


async def test_forum_post_bodies_are_validated(fake_discord: FakeDiscord) -> None:
    require_spec()
    forum = fake_discord.add_forum("briefings")
    async with run_client(guild_bot(), fake_discord) as client:
        params = handle_message_parameters(content="x" * 2001)
        body = {"name": "y" * 101, "message": params.payload}
        route = discord.http.Route("POST", "/channels/{channel_id}/threads", channel_id=forum.id)
        await client.http.request(route, json=body)
        found = {(v.source, v.rule, v.pointer) for v in fake_discord.take_violations()}
        assert ("docs", "content-length", "/message/content") in found
        assert any(source == "spec" and pointer == "/name" for source, _, pointer in found)
