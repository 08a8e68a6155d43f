"""Builders for the JSON objects the fake Discord sends: users, guilds, messages, interactions.

Shapes follow the docs examples in ``../shared/discord-api/examples`` (Example User,
derived READY, slash-command and autocomplete interactions) and carry every field
discord.py 2.7.1 reads without a default.
"""

from __future__ import annotations

import datetime
import itertools
import mimetypes
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .models import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    APP_PERMISSIONS,
    BOT_PERMISSIONS,
    DEFAULT_APPLICATION_ID,
    DEFAULT_CHANNEL_ID,
    DEFAULT_GUILD_ID,
    DEFAULT_USER_ID,
    GUILD_FORUM,
    MANAGE_CHANNELS,
    MANAGE_GUILD,
    MEMBER_PERMISSIONS,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
)

__all__ = [
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "APP_PERMISSIONS",
    "BOT_PERMISSIONS",
    "DEFAULT_APPLICATION_ID",
    "DEFAULT_CHANNEL_ID",
    "DEFAULT_GUILD_ID",
    "DEFAULT_USER_ID",
    "MANAGE_CHANNELS",
    "MANAGE_GUILD",
    "MEMBER_PERMISSIONS",
    "FakeChannel",
    "FakeGuild",
]

DISCORD_EPOCH_MS = 1420070400000

# Discord option types (application-commands.mdx, "Application Command Option Type").
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 6, 7, 8, 9, 10, 11

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# Message flags (message.mdx): a published announcement; a message that started a thread.
CROSSPOSTED = 1 << 0
HAS_THREAD = 1 << 5


class Snowflakes:
    """Unique, time-ordered Discord snowflakes."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._last = 0

    def next(self) -> int:
        """A new snowflake, strictly greater than the previous one."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (next(self._counter) & 0xFFF)
        self._last = value = max(value, self._last + 1)
        return value


def iso_now() -> str:
    """The current time as Discord formats timestamps."""
    return datetime.datetime.now(datetime.UTC).isoformat()


def new_token() -> str:
    """An opaque interaction token (real ones are long base64 strings)."""
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)


def user_payload(
    user_id: int, username: str, *, bot: bool = False, global_name: str | None = None
) -> dict[str, Any]:
    """A public user object (the Example User without the private fields)."""
    payload: dict[str, Any] = {
        "id": str(user_id),
        "username": username,
        "global_name": global_name,
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "collectibles": None,
        "primary_guild": None,
    }
    if bot:
        payload["bot"] = True
    return payload


def current_user_payload(user: Mapping[str, Any]) -> dict[str, Any]:
    """GET /users/@me: the spec's UserPIIResponse also requires mfa_enabled and locale."""
    return {
        **user,
        "verified": True,
        "mfa_enabled": False,
        "locale": "en-US",
        "email": None,
        "premium_type": 0,
    }


def application_payload(application_id: int, bot_user: Mapping[str, Any]) -> dict[str, Any]:
    """GET /oauth2/applications/@me, with every key discord.py's AppInfo indexes."""
    return {
        "id": str(application_id),
        "name": bot_user["username"],
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": 0,
        "flags_new": "0",
        "owner": user_payload(DEFAULT_USER_ID, "owner"),
        "team": None,
        "rpc_origins": [],
        "redirect_uris": [],
        # Must stay null: with an endpoint URL Discord (and discord.py) skip the gateway.
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "approximate_guild_count": 1,
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "eligible_oauth2_scopes": ["bot", "applications.commands"],
        "bot": dict(bot_user),
        "integration_types_config": {"0": {}},
    }


def channel_payload(channel: FakeChannel, guild_id: int) -> dict[str, Any]:
    """A guild channel (text, announcement, forum...) or thread object, as GET /channels returns."""
    if channel.is_thread:
        return thread_payload(channel, guild_id)
    payload: dict[str, Any] = {
        "id": str(channel.id),
        "type": channel.type,
        "guild_id": str(guild_id),
        "name": channel.name,
        "position": channel.position,
        "topic": channel.topic,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "parent_id": str(channel.parent_id) if channel.parent_id else None,
        "last_message_id": None,
        "permission_overwrites": [
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in channel.overwrites
        ],
        "flags": channel.flags,
    }
    if channel.type == GUILD_FORUM:
        payload["available_tags"] = [
            {
                "id": str(tag.id),
                "name": tag.name,
                "moderated": tag.moderated,
                "emoji_id": None,
                "emoji_name": tag.emoji_name,
            }
            for tag in channel.available_tags
        ]
        payload["default_reaction_emoji"] = None
        payload["default_sort_order"] = None
        payload["default_forum_layout"] = 0
        payload["default_thread_rate_limit_per_user"] = 0
    return payload


def thread_payload(thread: FakeChannel, guild_id: int) -> dict[str, Any]:
    """A thread channel object (types 10-12) with its thread_metadata."""
    created = thread.create_timestamp or iso_now()
    metadata: dict[str, Any] = {
        "archived": thread.archived,
        "archive_timestamp": thread.archive_timestamp or created,
        "auto_archive_duration": thread.auto_archive_duration,
        "locked": thread.locked,
        "create_timestamp": created,
    }
    if thread.type == 12:
        metadata["invitable"] = thread.invitable
    return {
        "id": str(thread.id),
        "type": thread.type,
        "guild_id": str(guild_id),
        "name": thread.name,
        "parent_id": str(thread.parent_id) if thread.parent_id else None,
        "owner_id": str(thread.owner_id or DEFAULT_APPLICATION_ID),
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": thread.flags,
        "thread_metadata": metadata,
        "message_count": thread.message_count,
        "member_count": 1,
        "total_message_sent": thread.total_message_sent,
        "applied_tags": [str(t) for t in thread.applied_tags],
    }


def thread_member_payload(thread_id: int, user_id: int) -> dict[str, Any]:
    """A thread member object (the bot in a thread it created or joined)."""
    return {"id": str(thread_id), "user_id": str(user_id), "join_timestamp": iso_now(), "flags": 1}


def dm_channel_payload(channel: FakeChannel, recipient: Mapping[str, Any]) -> dict[str, Any]:
    """A DM channel object (type 1)."""
    return {
        "id": str(channel.id),
        "type": 1,
        "last_message_id": None,
        "flags": 0,
        "recipients": [dict(recipient)],
    }


def everyone_role_payload(guild: FakeGuild) -> dict[str, Any]:
    """The @everyone role, which shares the guild's id."""
    return role_payload(
        FakeRole(guild.id, "@everyone", guild.everyone_permissions, position=0), guild.id
    )


def role_payload(role: FakeRole, guild_id: int, bot_id: int | None = None) -> dict[str, Any]:
    """A role object; a managed role carries the bot_id tag of the bot it belongs to."""
    payload: dict[str, Any] = {
        "id": str(role.id),
        "name": role.name,
        "color": role.color,
        "colors": {"primary_color": role.color, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": role.position,
        "permissions": str(role.permissions),
        "managed": role.managed,
        "mentionable": role.mentionable,
        "flags": 0,
    }
    if role.managed and bot_id is not None:
        payload["tags"] = {"bot_id": str(bot_id)}
    return payload


def roles_payload(guild: FakeGuild, bot_id: int | None = None) -> list[dict[str, Any]]:
    """Every role of a guild, @everyone first."""
    return [everyone_role_payload(guild), *(role_payload(r, guild.id, bot_id) for r in guild.roles)]


def guild_payload(guild: FakeGuild, bot_id: int | None = None) -> dict[str, Any]:
    """The guild object (GET /guilds/{id}) without channels, members or counts."""
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "home_header": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "region": "deprecated",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw": False,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": guild.preferred_locale,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "max_presences": None,
        "max_members": 500000,
        "max_stage_video_channel_users": 50,
        "max_video_channel_users": 25,
        "application_id": None,
        "roles": roles_payload(guild, bot_id),
        "emojis": [],
        "stickers": [],
        "features": [],
        "incidents_data": None,
    }


def guild_create_payload(
    guild: FakeGuild, bot_user: Mapping[str, Any], bot_member: FakeMember | None = None
) -> dict[str, Any]:
    """The GUILD_CREATE data for one available guild: channels, active threads, the bot's member."""
    payload = guild_payload(guild, int(bot_user["id"]))
    # GUILD_CREATE carries the pre-REST shape: a region of null, no max_presences etc.
    for key in ("home_header", "widget_enabled", "widget_channel_id", "nsfw", "max_presences"):
        payload.pop(key)
    payload["region"] = None
    payload.pop("max_stage_video_channel_users")
    members = []
    if bot_member is not None:
        # Discord always includes the current user's own member, whatever the intents.
        members.append(guild_member_payload(bot_member, bot_user))
    payload.update(
        {
            "channels": [channel_payload(c, guild.id) for c in guild.channels],
            "threads": [thread_payload(t, guild.id) for t in guild.threads if not t.archived],
            "members": members,
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "member_count": guild.member_count,
            "large": False,
            "unavailable": False,
            "lazy": True,
            "joined_at": iso_now(),
        }
    )
    return payload


def message_payload(
    *,
    message_id: int,
    channel_id: int,
    author: Mapping[str, Any],
    body: Mapping[str, Any],
    flags: int = 0,
    attachments: Sequence[Mapping[str, Any]] = (),
    message_type: int = 0,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A message object as Discord returns it for a create request ``body``."""
    embeds = []
    for embed in body.get("embeds") or []:
        embeds.append({"type": "rich", **embed, "content_scan_version": 0})
    payload: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": dict(author),
        "content": body.get("content") or "",
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": bool(body.get("tts")),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": list(attachments),
        "embeds": embeds,
        "pinned": False,
        "type": message_type,
        "flags": flags,
        "components": numbered_components(body.get("components")),
    }
    if body.get("nonce") is not None:
        payload["nonce"] = body["nonce"]
    if body.get("message_reference"):
        payload["message_reference"] = {"type": 0, **body["message_reference"]}
    if body.get("poll"):
        payload["poll"] = body["poll"]
    if extra:
        payload.update(extra)
    return payload


def apply_edit(message: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """Apply an edit request ``body`` to a stored message, as Discord does."""
    if "content" in body:
        message["content"] = body["content"] or ""
    if "components" in body:
        message["components"] = numbered_components(body["components"])
    if "poll" in body:
        message["poll"] = body["poll"]
    if "embeds" in body:
        message["embeds"] = [
            {"type": "rich", **e, "content_scan_version": 0} for e in body["embeds"] or []
        ]
    if body.get("flags") is not None:
        # Only SUPPRESS_EMBEDS can be toggled by an edit; EPHEMERAL etc. stay as created.
        message["flags"] = (message["flags"] & ~4) | (body["flags"] & 4)
    message["edited_timestamp"] = iso_now()
    return message


def numbered_components(components: Any) -> list[dict[str, Any]]:
    """Copy components, giving each one Discord's sequential ``id`` (depth-first from 1)."""
    counter = itertools.count(1)

    def number(items: Any) -> list[dict[str, Any]]:
        result = []
        for item in items or []:
            copy = {**item, "id": item.get("id") or next(counter)}
            if "components" in item:
                copy["components"] = number(item["components"])
            result.append(copy)
        return result

    return number(components)


def attachment_payload(
    attachment_id: int, channel_id: int, filename: str, size: int, *, url: str | None = None
) -> dict[str, Any]:
    """An attachment object for an uploaded file (``url`` defaults to Discord's CDN)."""
    if url is None:
        url = f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{filename}"
    payload: dict[str, Any] = {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
    }
    content_type, _ = mimetypes.guess_type(filename)
    if content_type is not None:
        payload["content_type"] = content_type
    return payload


def resolved_attachment_payload(attachment: FakeAttachment, url: str) -> dict[str, Any]:
    """A command's attachment as Discord resolves it in the interaction data."""
    payload: dict[str, Any] = {
        "id": str(attachment.id),
        "filename": attachment.filename,
        "size": attachment.declared_size,
        "url": url,
        "proxy_url": url,
        "ephemeral": True,
    }
    if attachment.content_type is not None:
        payload["content_type"] = attachment.content_type
    if attachment.description is not None:
        payload["description"] = attachment.description
    return payload


def member_payload(
    user: Mapping[str, Any], permissions: int, roles: Iterable[int] = (), nick: str | None = None
) -> dict[str, Any]:
    """The member object of an interaction, with its computed channel permissions."""
    return {
        "user": dict(user),
        "roles": [str(r) for r in roles],
        "premium_since": None,
        "permissions": str(permissions),
        "pending": False,
        "nick": nick,
        "mute": False,
        "deaf": False,
        "joined_at": "2024-01-01T00:00:00+00:00",
        "flags": 0,
        "avatar": None,
        "banner": None,
        "communication_disabled_until": None,
        "unusual_dm_activity_until": None,
    }


def member_user_payload(member: FakeMember) -> dict[str, Any]:
    """The user object of a fake member."""
    return user_payload(member.id, member.username, bot=member.bot, global_name=member.global_name)


def guild_member_payload(
    member: FakeMember, user: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A guild member object as GET /guilds/{id}/members/{user} returns it (no permissions)."""
    payload = member_payload(user or member_user_payload(member), 0, member.roles, member.nick)
    del payload["permissions"]
    return payload


def interaction_payload(
    *,
    interaction_id: int,
    token: str,
    interaction_type: int,
    application_id: int,
    guild: FakeGuild,
    channel: FakeChannel,
    user: Mapping[str, Any],
    permissions: int,
    app_permissions: int,
    data: Mapping[str, Any],
    locale: str,
    roles: Iterable[int] = (),
    nick: str | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload for a guild-installed app used in a guild channel."""
    return {
        "id": str(interaction_id),
        "type": interaction_type,
        "token": token,
        "version": 1,
        "application_id": str(application_id),
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
        "channel_id": str(channel.id),
        "channel": {**channel_payload(channel, guild.id), "permissions": str(permissions)},
        "app_permissions": str(app_permissions),
        "locale": locale,
        "guild_locale": guild.preferred_locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        # A guild install: Discord keys the owner by integration type 0 (GUILD_INSTALL).
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "data": dict(data),
        "member": member_payload(user, permissions, roles, nick),
    }
