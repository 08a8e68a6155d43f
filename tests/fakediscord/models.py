"""The fake's world, as plain data: guilds, channels, threads, roles, members, attachments.

Tests build these (or use the ``FakeDiscord.add_*`` helpers) and the fake turns them into
Discord's JSON with ``payloads.py``. Constants follow developers/resources/channel.mdx and
developers/topics/permissions.mdx.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import discord

DEFAULT_APPLICATION_ID = 1311111111111111111
DEFAULT_GUILD_ID = 1322222222222222222
DEFAULT_CHANNEL_ID = 1333333333333333333
DEFAULT_USER_ID = 1344444444444444444

# Channel types.
GUILD_TEXT, DM, GUILD_CATEGORY, GUILD_ANNOUNCEMENT = 0, 1, 4, 5
ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD, GUILD_FORUM = 10, 11, 12, 15
THREAD_TYPES = frozenset({ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD})

# Channel flags.
PINNED = 1 << 1
REQUIRE_TAG = 1 << 4

# Permission overwrite targets.
ROLE_OVERWRITE, MEMBER_OVERWRITE = 0, 1

# An ordinary member: can talk and use commands, cannot manage anything.
MEMBER_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    read_message_history=True,
    use_external_emojis=True,
    use_application_commands=True,
    connect=True,
    speak=True,
).value
MANAGE_CHANNELS = discord.Permissions(manage_channels=True).value  # 1 << 4
MANAGE_GUILD = discord.Permissions(manage_guild=True).value  # 1 << 5
ADMINISTRATOR = discord.Permissions(administrator=True).value  # 1 << 3
ALL_PERMISSIONS = discord.Permissions.all().value

# What the bot itself may do in a channel (sent as app_permissions when not computed).
APP_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    read_message_history=True,
    use_external_emojis=True,
).value

# The bot's own managed role by default: the app permissions plus starting threads.
BOT_PERMISSIONS = APP_PERMISSIONS | (
    discord.Permissions(create_public_threads=True, create_private_threads=True).value
)


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int = ROLE_OVERWRITE
    allow: int = 0
    deny: int = 0


@dataclass
class ForumTag:
    """A tag a forum post may carry."""

    id: int
    name: str
    moderated: bool = False
    emoji_name: str | None = None


@dataclass
class FakeChannel:
    """A guild channel, thread or DM channel of the fake.

    Guild channels go in ``FakeGuild.channels``, threads (types 10-12) in
    ``FakeGuild.threads`` with ``parent_id`` set, DM channels are made by
    ``POST /users/@me/channels``.
    """

    id: int
    name: str
    type: int = GUILD_TEXT
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    flags: int = 0
    available_tags: list[ForumTag] = field(default_factory=list)
    # Threads only.
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    archive_timestamp: str | None = None
    create_timestamp: str | None = None
    invitable: bool = True
    applied_tags: list[int] = field(default_factory=list)
    message_count: int = 0
    total_message_sent: int = 0
    # DM channels only.
    recipient_id: int | None = None

    @property
    def is_thread(self) -> bool:
        """Whether this is a thread (announcement, public or private)."""
        return self.type in THREAD_TYPES

    @property
    def requires_tag(self) -> bool:
        """Whether a forum post here must carry a tag (channel flag REQUIRE_TAG)."""
        return bool(self.flags & REQUIRE_TAG)


@dataclass
class FakeRole:
    """A guild role (the @everyone role is implicit: ``FakeGuild.everyone_permissions``)."""

    id: int
    name: str
    permissions: int = 0
    position: int = 1
    mentionable: bool = False
    managed: bool = False
    color: int = 0


@dataclass
class FakeMember:
    """A guild member (or, with no guild, just a user the bot can DM)."""

    id: int
    username: str
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    global_name: str | None = None
    bot: bool = False
    blocks_dms: bool = False  # a DM to them fails with 50007, as when DMs are closed


@dataclass
class FakeGuild:
    """A guild the bot is in."""

    id: int = DEFAULT_GUILD_ID
    name: str = "Fake Guild"
    channels: list[FakeChannel] = field(
        default_factory=lambda: [FakeChannel(DEFAULT_CHANNEL_ID, "general")]
    )
    owner_id: int = DEFAULT_USER_ID
    preferred_locale: str = "en-US"
    member_count: int = 2
    everyone_permissions: int = MEMBER_PERMISSIONS
    roles: list[FakeRole] = field(default_factory=list)
    members: list[FakeMember] = field(default_factory=list)
    threads: list[FakeChannel] = field(default_factory=list)

    def role(self, role_id: int) -> FakeRole | None:
        """A role by id."""
        return next((r for r in self.roles if r.id == role_id), None)

    def member(self, user_id: int) -> FakeMember | None:
        """A member by user id."""
        return next((m for m in self.members if m.id == user_id), None)


@dataclass
class FakeAttachment:
    """A file a user attached to a command, served by the fake's CDN route.

    ``size`` is what Discord reports in the interaction (defaults to ``len(data)``; set it
    to lie, as a truncated upload would). ``delay`` holds the CDN response back that many
    seconds (for timeouts); ``status`` other than 200 makes the download fail with it.
    """

    id: int
    channel_id: int
    filename: str
    data: bytes = b""
    content_type: str | None = "text/plain; charset=utf-8"
    size: int | None = None
    delay: float = 0.0
    status: int = 200
    description: str | None = None
    signature: str = ""

    @property
    def declared_size(self) -> int:
        """The size the interaction reports."""
        return len(self.data) if self.size is None else self.size


@dataclass
class Download:
    """One request the CDN route answered."""

    attachment_id: int | None
    path: str
    method: str
    status: int
    at: float  # time.monotonic() on arrival
    headers: dict[str, str]
