"""The fake's world: guilds, channels, threads, DMs, roles, members, messages and attachments.

Also the two computations tests lean on: a member's (or the bot's) permissions in a channel,
following developers/topics/permissions.mdx ("Permission Hierarchy"), and who a message
would ping under its ``allowed_mentions`` (developers/resources/message.mdx).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from . import payloads
from .base import FakeBase, InteractionRecord, RecordedRequest
from .models import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    BOT_PERMISSIONS,
    DM,
    GUILD_ANNOUNCEMENT,
    GUILD_FORUM,
    GUILD_TEXT,
    MEMBER_OVERWRITE,
    PUBLIC_THREAD,
    REQUIRE_TAG,
    ROLE_OVERWRITE,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    ForumTag,
    Overwrite,
)
from .payloads import Snowflakes
from .spec import EPHEMERAL, LOADING

PermissionsLike = int | discord.Permissions

_VIEW = discord.Permissions(view_channel=True).value
_SEND = discord.Permissions(send_messages=True).value
# Lost with Send Messages in a text channel (as discord.py's permissions_for also does).
_NEEDS_SEND = discord.Permissions(
    send_tts_messages=True, mention_everyone=True, embed_links=True, attach_files=True
).value

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def permission_value(permissions: PermissionsLike) -> int:
    """A permission integer from an int or ``discord.Permissions``."""
    return permissions.value if isinstance(permissions, discord.Permissions) else permissions


@dataclass(frozen=True)
class Pings:
    """Who a message notifies: what its content mentions and its allowed_mentions let through."""

    everyone: bool  # @everyone or @here
    users: frozenset[int]
    roles: frozenset[int]
    replied_user: bool


def pings_of(content: str, allowed: Mapping[str, Any] | None) -> Pings:
    """The pings of ``content`` under ``allowed`` (None: the API default, everything parses).

    Role mentionability and the Mention Everyone permission are not applied: this is what
    the request asks Discord to ping, which is what a test must pin down.
    """
    users = {int(u) for u in _USER_MENTION.findall(content)}
    roles = {int(r) for r in _ROLE_MENTION.findall(content)}
    everyone = "@everyone" in content or "@here" in content
    if allowed is None:
        return Pings(everyone, frozenset(users), frozenset(roles), replied_user=True)
    parse = set(allowed.get("parse") or [])
    allowed_users = {int(u) for u in allowed.get("users") or []}
    allowed_roles = {int(r) for r in allowed.get("roles") or []}
    return Pings(
        everyone=everyone and "everyone" in parse,
        users=frozenset(u for u in users if "users" in parse or u in allowed_users),
        roles=frozenset(r for r in roles if "roles" in parse or r in allowed_roles),
        replied_user=bool(allowed.get("replied_user", False)),
    )


class StateMixin(FakeBase):
    """Holds the world and answers questions about it; no HTTP here."""

    def _init_state(self, guilds: Sequence[FakeGuild] | None, bot_name: str) -> None:
        self._ids = Snowflakes()
        self.guilds: list[FakeGuild] = list(guilds) if guilds is not None else [FakeGuild()]
        self.unknown_channels: set[int] = set()
        self.forbidden_channels: set[int] = set()
        self._messages: dict[int, dict[str, Any]] = {}
        self._channel_log: dict[int, list[int]] = {}
        self._from_channel_endpoint: set[int] = set()
        self._nonces: dict[tuple[str, str], tuple[int, float]] = {}
        self._allowed_mentions: dict[int, dict[str, Any] | None] = {}
        self._users: dict[int, FakeMember] = {}
        self._dm_channels: dict[int, FakeChannel] = {}
        self._attachments: dict[int, FakeAttachment] = {}
        self._bot_roles: dict[int, int] = {}
        # Commands as synced per scope (None: global) and interactions as dispatched.
        self._commands: dict[int | None, dict[tuple[int, str], dict[str, Any]]] = {}
        self._interactions: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self._modal_origins: dict[int, InteractionRecord] = {}  # modal submit id -> opener
        for guild in self.guilds:
            self._add_bot(guild, bot_name)

    def _add_bot(self, guild: FakeGuild, bot_name: str) -> None:
        """Give the bot its member and managed role in ``guild``, as joining does on Discord."""
        role = next((r for r in guild.roles if r.managed), None)
        if role is None:
            role = FakeRole(self._ids.next(), bot_name, BOT_PERMISSIONS, managed=True)
            guild.roles.append(role)
        self._bot_roles[guild.id] = role.id
        if guild.member(self.application_id) is None:
            guild.members.append(
                FakeMember(self.application_id, bot_name, roles=[role.id], bot=True)
            )

    # ------------------------------------------------------------------ lookups

    @property
    def guild(self) -> FakeGuild:
        """The first configured guild."""
        return self.guilds[0]

    @property
    def guild_id(self) -> int:
        """The first guild's id."""
        return self.guild.id

    @property
    def channel_id(self) -> int:
        """The first guild's first channel id."""
        return self.guild.channels[0].id

    def find_channel(self, channel_id: int) -> tuple[FakeGuild | None, FakeChannel] | None:
        """A configured guild channel, thread or DM channel with its guild (None for DMs)."""
        for guild in self.guilds:
            for channel in (*guild.channels, *guild.threads):
                if channel.id == channel_id:
                    return guild, channel
        for dm in self._dm_channels.values():
            if dm.id == channel_id:
                return None, dm
        return None

    def _channel(self, channel_id: int) -> tuple[FakeGuild, FakeChannel]:
        found = self.find_channel(channel_id)
        if found is not None and found[0] is not None:
            return found[0], found[1]
        # An unconfigured id: Discord would know it, so pretend it is a text channel.
        return self.guild, FakeChannel(channel_id, f"channel-{channel_id}")

    def _guild_of(self, guild_id: int) -> FakeGuild | None:
        return next((g for g in self.guilds if g.id == guild_id), None)

    def member(self, user_id: int, guild_id: int | None = None) -> FakeMember | None:
        """A member of a guild (the first by default), or a user added with ``add_user``."""
        guild = self._guild_of(guild_id) if guild_id is not None else self.guild
        found = guild.member(user_id) if guild is not None else None
        return found or self._users.get(user_id)

    def find_user(self, user_id: int) -> FakeMember | None:
        """A member of any guild, or a user added with ``add_user``."""
        found = next((m for g in self.guilds for m in g.members if m.id == user_id), None)
        return found or self._users.get(user_id)

    def user_payload_of(self, user_id: int) -> dict[str, Any]:
        """The user object of a known member or user (a made-up one for unknown ids)."""
        if user_id == self.application_id:
            return dict(self.bot_user)
        member = self.find_user(user_id)
        if member is None:
            return payloads.user_payload(user_id, f"user{user_id}")
        return payloads.member_user_payload(member)

    # ------------------------------------------------------------------ building the world

    def add_role(
        self,
        name: str,
        permissions: PermissionsLike = 0,
        *,
        mentionable: bool = False,
        guild_id: int | None = None,
    ) -> FakeRole:
        """Add a role to a guild (the first by default); set it up before ``run_client``."""
        guild = self._guild_of(guild_id or self.guild_id)
        assert guild is not None, f"no guild {guild_id}"
        role = FakeRole(
            self._ids.next(),
            name,
            permission_value(permissions),
            position=len(guild.roles) + 1,
            mentionable=mentionable,
        )
        guild.roles.append(role)
        return role

    def add_member(
        self,
        name: str,
        roles: Iterable[FakeRole | int] = (),
        *,
        blocks_dms: bool = False,
        guild_id: int | None = None,
    ) -> FakeMember:
        """Add a member with these roles to a guild (the first by default)."""
        guild = self._guild_of(guild_id or self.guild_id)
        assert guild is not None, f"no guild {guild_id}"
        member = FakeMember(
            self._ids.next(),
            name,
            roles=[r.id if isinstance(r, FakeRole) else r for r in roles],
            global_name=name.title(),
            blocks_dms=blocks_dms,
        )
        guild.members.append(member)
        guild.member_count += 1
        return member

    def add_user(self, name: str, *, blocks_dms: bool = False) -> FakeMember:
        """A user the bot can DM who is in none of the fake's guilds."""
        user = FakeMember(self._ids.next(), name, global_name=name.title(), blocks_dms=blocks_dms)
        self._users[user.id] = user
        return user

    def add_channel(
        self,
        name: str,
        type: int = GUILD_TEXT,
        *,
        overwrites: Iterable[Overwrite] = (),
        bot_denied: PermissionsLike = 0,
        everyone_denied: PermissionsLike = 0,
        topic: str | None = None,
        guild_id: int | None = None,
    ) -> FakeChannel:
        """Add a guild channel (text 0, announcement 5, forum 15...) before ``run_client``.

        ``bot_denied`` adds a member overwrite denying the bot those permissions, e.g.
        ``discord.Permissions(embed_links=True)`` for a channel where it cannot embed;
        ``everyone_denied`` does the same for @everyone.
        """
        guild = self._guild_of(guild_id or self.guild_id)
        assert guild is not None, f"no guild {guild_id}"
        channel = FakeChannel(
            self._ids.next(),
            name,
            type,
            position=len(guild.channels),
            topic=topic,
            overwrites=list(overwrites),
        )
        if permission_value(bot_denied):
            channel.overwrites.append(
                Overwrite(self.application_id, MEMBER_OVERWRITE, deny=permission_value(bot_denied))
            )
        if permission_value(everyone_denied):
            channel.overwrites.append(
                Overwrite(guild.id, ROLE_OVERWRITE, deny=permission_value(everyone_denied))
            )
        guild.channels.append(channel)
        return channel

    def add_forum(
        self,
        name: str,
        tags: Iterable[str] = (),
        *,
        require_tag: bool = False,
        guild_id: int | None = None,
        **kwargs: Any,
    ) -> FakeChannel:
        """Add a forum channel (type 15) with these tag names; ``require_tag`` sets REQUIRE_TAG."""
        forum = self.add_channel(name, GUILD_FORUM, guild_id=guild_id, **kwargs)
        forum.available_tags = [ForumTag(self._ids.next(), tag) for tag in tags]
        if require_tag:
            forum.flags |= REQUIRE_TAG
        return forum

    def add_thread(
        self,
        parent: FakeChannel | int,
        name: str,
        *,
        type: int = PUBLIC_THREAD,
        archived: bool = False,
        locked: bool = False,
        owner_id: int | None = None,
        thread_id: int | None = None,
        applied_tags: Iterable[int] = (),
    ) -> FakeChannel:
        """Add a thread under ``parent`` (archived ones are absent from GUILD_CREATE)."""
        parent_id = parent.id if isinstance(parent, FakeChannel) else parent
        guild, _ = self._channel(parent_id)
        now = payloads.iso_now()
        thread = FakeChannel(
            thread_id or self._ids.next(),
            name,
            type,
            parent_id=parent_id,
            owner_id=owner_id or self.application_id,
            archived=archived,
            locked=locked,
            archive_timestamp=now,
            create_timestamp=now,
            applied_tags=list(applied_tags),
        )
        guild.threads.append(thread)
        return thread

    def delete_channel(self, channel_id: int) -> None:
        """Remove a channel or thread: every later request for it gets 404 Unknown Channel."""
        for guild in self.guilds:
            guild.channels = [c for c in guild.channels if c.id != channel_id]
            guild.threads = [t for t in guild.threads if t.id != channel_id]
        self.unknown_channels.add(channel_id)

    def add_attachment(
        self,
        filename: str,
        data: bytes | str = b"",
        *,
        content_type: str | None = "text/plain; charset=utf-8",
        size: int | None = None,
        delay: float = 0.0,
        status: int = 200,
        channel_id: int | None = None,
        description: str | None = None,
    ) -> FakeAttachment:
        """A file a user attaches to a command; pass it as the option value to ``invoke``.

        The CDN route serves ``data`` with ``content_type``; ``size`` is the size the
        interaction claims (default the real one), ``delay`` holds the response back and a
        ``status`` other than 200 fails the download. Downloads land in ``fake.downloads``.
        """
        raw = data.encode() if isinstance(data, str) else data
        attachment = FakeAttachment(
            self._ids.next(),
            channel_id or self.channel_id,
            filename,
            raw,
            content_type=content_type,
            size=size,
            delay=delay,
            status=status,
            description=description,
        )
        # Discord's CDN URLs are signed (ex/is/hm); the fake checks hm like the real one.
        attachment.signature = hashlib.blake2b(
            f"{attachment.id}/{filename}".encode(), digest_size=16
        ).hexdigest()
        self._attachments[attachment.id] = attachment
        return attachment

    def attachment_url(self, attachment: FakeAttachment) -> str:
        """The signed CDN URL of an attachment on this server."""
        expires = f"{int(time.time()) + 86400:x}"
        issued = f"{int(time.time()):x}"
        return (
            f"{self.cdn_base}/attachments/{attachment.channel_id}/{attachment.id}/"
            f"{attachment.filename}?ex={expires}&is={issued}&hm={attachment.signature}&"
        )

    # ------------------------------------------------------------------ permissions

    def bot_member(self, guild_id: int | None = None) -> FakeMember:
        """The bot's own member in a guild (the first by default)."""
        member = self.member(self.application_id, guild_id)
        assert member is not None
        return member

    def set_everyone_permissions(
        self, permissions: PermissionsLike, guild_id: int | None = None
    ) -> None:
        """Change what @everyone may do guild-wide."""
        guild = self._guild_of(guild_id or self.guild_id)
        assert guild is not None
        guild.everyone_permissions = permission_value(permissions)

    def set_bot_permissions(
        self, permissions: PermissionsLike, guild_id: int | None = None
    ) -> None:
        """Change the bot's managed role (what it was invited with)."""
        guild = self._guild_of(guild_id or self.guild_id)
        assert guild is not None
        role = guild.role(self._bot_roles[guild.id])
        assert role is not None
        role.permissions = permission_value(permissions)

    def permissions_for(self, user_id: int, channel_id: int) -> int:
        """A member's permissions in a channel or thread, computed as Discord does.

        Base: @everyone plus the member's roles (owner or Administrator: everything); then
        the channel's @everyone overwrite, its role overwrites together, then the member's
        own. Threads use their parent's overwrites. Without View Channel nothing is left;
        without Send Messages the permissions that need it go too.
        """
        found = self.find_channel(channel_id)
        if found is None or found[0] is None:
            guild, channel = self._channel(channel_id)
        else:
            guild, channel = found[0], found[1]
        member = guild.member(user_id)
        roles = set(member.roles) if member is not None else set()
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        base = guild.everyone_permissions
        for role in guild.roles:
            if role.id in roles:
                base |= role.permissions
        if base & ADMINISTRATOR:
            return ALL_PERMISSIONS
        source = channel
        if channel.is_thread and channel.parent_id is not None:
            parent = self.find_channel(channel.parent_id)
            if parent is not None:
                source = parent[1]
        perms = base
        for overwrite in source.overwrites:
            if overwrite.type == ROLE_OVERWRITE and overwrite.id == guild.id:
                perms = (perms & ~overwrite.deny) | overwrite.allow
        allow = deny = 0
        for overwrite in source.overwrites:
            if overwrite.type == ROLE_OVERWRITE and overwrite.id in roles:
                allow |= overwrite.allow
                deny |= overwrite.deny
        perms = (perms & ~deny) | allow
        for overwrite in source.overwrites:
            if overwrite.type == MEMBER_OVERWRITE and overwrite.id == user_id:
                perms = (perms & ~overwrite.deny) | overwrite.allow
        if not perms & _VIEW:
            return 0
        if not perms & _SEND:
            perms &= ~_NEEDS_SEND
        return perms

    def bot_permissions(self, channel_id: int) -> int:
        """The bot's permissions in a channel (what interactions send as app_permissions)."""
        return self.permissions_for(self.application_id, channel_id)

    def _bot_can(self, channel_id: int, permissions: int) -> bool:
        return self.bot_permissions(channel_id) & permissions == permissions

    # ------------------------------------------------------------------ threads and DMs

    def threads(self, parent_id: int | None = None) -> list[FakeChannel]:
        """Threads (live and archived), optionally only those under one channel or forum."""
        return [
            t
            for g in self.guilds
            for t in g.threads
            if parent_id is None or t.parent_id == parent_id
        ]

    def forum_posts(self, forum_id: int) -> list[FakeChannel]:
        """The posts (threads) of a forum channel, oldest first; the title is ``.name``."""
        return self.threads(forum_id)

    def dm_channel(self, user_id: int) -> FakeChannel | None:
        """The DM channel the bot opened with a user, if any."""
        return self._dm_channels.get(user_id)

    def dms(self, user_id: int) -> list[dict[str, Any]]:
        """Messages the bot sent a user by DM, oldest first."""
        channel = self._dm_channels.get(user_id)
        return self.messages(channel.id) if channel is not None else []

    def _open_dm(self, user_id: int) -> FakeChannel:
        channel = self._dm_channels.get(user_id)
        if channel is None:
            channel = FakeChannel(self._ids.next(), "", DM, recipient_id=user_id)
            self._dm_channels[user_id] = channel
        return channel

    # ------------------------------------------------------------------ messages

    def messages(
        self, channel_id: int, *, include_interactions: bool = False
    ) -> list[dict[str, Any]]:
        """Live messages created in a channel by ``POST /channels/{id}/messages``, oldest first.

        Also a forum post's first message (in the post's thread). With
        ``include_interactions`` also non-ephemeral interaction responses and followups.
        """
        return [
            self._messages[mid]
            for mid in self._channel_log.get(channel_id, [])
            if mid in self._messages
            and (include_interactions or mid in self._from_channel_endpoint)
        ]

    def message(self, message_id: int) -> dict[str, Any] | None:
        """Any live message by id."""
        return self._messages.get(message_id)

    def allowed_mentions(self, message_id: int) -> dict[str, Any] | None:
        """The ``allowed_mentions`` the bot last sent for a message (None: it sent none)."""
        if message_id not in self._allowed_mentions:
            raise KeyError(f"the fake has no message {message_id}")
        return self._allowed_mentions[message_id]

    def pings(self, message_id: int) -> Pings:
        """Who the message notifies given its content and ``allowed_mentions``."""
        message = self._messages[message_id]
        return pings_of(message["content"], self.allowed_mentions(message_id))

    def _apply_mentions(self, message: dict[str, Any], body: Mapping[str, Any]) -> None:
        """Record ``allowed_mentions`` and fill the message's mention fields from them."""
        if "allowed_mentions" in body or int(message["id"]) not in self._allowed_mentions:
            raw = body.get("allowed_mentions")
            self._allowed_mentions[int(message["id"])] = dict(raw) if raw is not None else None
        pings = self.pings(int(message["id"]))
        message["mention_everyone"] = pings.everyone
        message["mention_roles"] = [str(r) for r in sorted(pings.roles)]
        message["mentions"] = [self.user_payload_of(u) for u in sorted(pings.users)]

    def _attachments_of(self, record: RecordedRequest, channel_id: int) -> list[dict[str, Any]]:
        return [
            payloads.attachment_payload(self._ids.next(), channel_id, name, size)
            for name, size in record.uploads
        ]

    def _store(
        self,
        message: dict[str, Any],
        channel_id: int,
        *,
        from_channel_endpoint: bool,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        message_id = int(message["id"])
        self._messages[message_id] = message
        self._apply_mentions(message, body or {})
        if message["flags"] & EPHEMERAL:
            return  # only the invoking user sees it; it is not part of the channel
        self._channel_log.setdefault(channel_id, []).append(message_id)
        if from_channel_endpoint:
            self._from_channel_endpoint.add(message_id)
        found = self.find_channel(channel_id)
        if found is not None and found[1].is_thread:
            found[1].message_count += 1
            found[1].total_message_sent += 1

    def _edit(
        self, message: dict[str, Any], body: Mapping[str, Any], record: RecordedRequest
    ) -> dict[str, Any]:
        payloads.apply_edit(message, body)
        message["flags"] &= ~LOADING
        message["attachments"] = [
            *message["attachments"],
            *self._attachments_of(record, int(message["channel_id"])),
        ]
        self._apply_mentions(message, body)
        return message

    def _sendable(self, channel: FakeChannel) -> bool:
        """Whether messages can be posted in this kind of channel (not a forum or category)."""
        return channel.type in (GUILD_TEXT, GUILD_ANNOUNCEMENT, DM) or channel.is_thread
