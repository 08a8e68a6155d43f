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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

DISCORD_EPOCH_MS = 1420070400000

DEFAULT_APPLICATION_ID = 1311111111111111111
DEFAULT_GUILD_ID = 1322222222222222222
DEFAULT_CHANNEL_ID = 1333333333333333333
DEFAULT_USER_ID = 1344444444444444444

# Discord option types (application-commands.mdx, "Application Command Option Type").
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 6, 7, 8, 9, 10, 11

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

# What the bot itself may do in a channel (sent as app_permissions).
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

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


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


@dataclass
class FakeChannel:
    """A guild channel the fake announces in GUILD_CREATE."""

    id: int
    name: str
    type: int = 0  # GUILD_TEXT
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None


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
    """A guild text channel object."""
    return {
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
        "permission_overwrites": [],
        "flags": 0,
    }


def guild_create_payload(guild: FakeGuild, bot_user: Mapping[str, Any]) -> dict[str, Any]:
    """The GUILD_CREATE data for one available guild."""
    everyone = {
        "id": str(guild.id),  # the @everyone role shares the guild's id
        "name": "@everyone",
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": 0,
        "permissions": str(MEMBER_PERMISSIONS),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "region": None,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
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
        "max_members": 500000,
        "max_video_channel_users": 25,
        "application_id": None,
        "roles": [everyone],
        "emojis": [],
        "stickers": [],
        "features": [],
        "channels": [channel_payload(c, guild.id) for c in guild.channels],
        "threads": [],
        "members": [],
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
        "incidents_data": None,
    }


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
    attachment_id: int, channel_id: int, filename: str, size: int
) -> dict[str, Any]:
    """An attachment object for an uploaded file."""
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


def member_payload(user: Mapping[str, Any], permissions: int) -> dict[str, Any]:
    """The member object of an interaction, with its computed channel permissions."""
    return {
        "user": dict(user),
        "roles": [],
        "premium_since": None,
        "permissions": str(permissions),
        "pending": False,
        "nick": None,
        "mute": False,
        "deaf": False,
        "joined_at": "2024-01-01T00:00:00+00:00",
        "flags": 0,
        "avatar": None,
        "banner": None,
        "communication_disabled_until": None,
        "unusual_dm_activity_until": None,
    }


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
        "member": member_payload(user, permissions),
    }
