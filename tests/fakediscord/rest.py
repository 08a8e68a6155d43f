"""The REST part of the fake: users, application, commands, guilds, channels, threads, messages.

Routes are relative to ``/api/v10``. Errors are Discord's (codes from
developers/topics/opcodes-and-status-codes.mdx); permissions are checked against the
world in ``state.py`` where Discord checks them for a bot: View Channel, Send Messages (Send
Messages in Threads in a thread), Create Public/Private Threads, Manage Threads/Channels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord
from aiohttp import web

from . import payloads
from .base import (
    ALREADY_CROSSPOSTED,
    CANNOT_DM,
    INVALID_FORM_BODY,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    NOT_FOUND,
    RECORD,
    TAG_REQUIRED,
    THREAD_ARCHIVED,
    THREAD_LOCKED,
    UNKNOWN_CHANNEL,
    UNKNOWN_GUILD,
    UNKNOWN_MEMBER,
    UNKNOWN_MESSAGE,
    UNKNOWN_USER,
    WRONG_CHANNEL_TYPE,
    RecordedRequest,
    json_response,
)
from .gateway import GatewayMixin
from .models import (
    ANNOUNCEMENT_THREAD,
    DM,
    GUILD_ANNOUNCEMENT,
    GUILD_FORUM,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    FakeChannel,
    FakeGuild,
)

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AddRoute = Callable[[str, str, Handler], None]


def _perm(**flags: bool) -> int:
    return discord.Permissions(**flags).value


VIEW = _perm(view_channel=True)
SEND = _perm(send_messages=True)
SEND_IN_THREADS = _perm(send_messages_in_threads=True)
MANAGE_THREADS = _perm(manage_threads=True)
MANAGE_CHANNELS = _perm(manage_channels=True)
READ_HISTORY = _perm(read_message_history=True)
CREATE_PUBLIC = _perm(create_public_threads=True)
CREATE_PRIVATE = _perm(create_private_threads=True)


def _body(request: web.Request) -> dict[str, Any]:
    record: RecordedRequest = request[RECORD]
    return record.json if isinstance(record.json, dict) else {}


class RestMixin(GatewayMixin):
    """REST handlers other than interaction callbacks and webhooks."""

    def _add_rest_routes(self, add: AddRoute) -> None:
        add("GET", "/gateway", self._get_gateway)
        add("GET", "/gateway/bot", self._get_gateway_bot)
        add("GET", "/users/@me", self._get_me)
        add("GET", "/users/{user_id}", self._get_user)
        add("POST", "/users/@me/channels", self._create_dm)
        add("GET", "/oauth2/applications/@me", self._get_application)
        add("GET", "/applications/@me", self._get_application)
        for scope in ("", "/guilds/{guild_id}"):
            add("PUT", f"/applications/{{application_id}}{scope}/commands", self._put_commands)
            add("GET", f"/applications/{{application_id}}{scope}/commands", self._get_commands)
        add("GET", "/guilds/{guild_id}", self._get_guild)
        add("GET", "/guilds/{guild_id}/roles", self._get_roles)
        add("GET", "/guilds/{guild_id}/channels", self._get_guild_channels)
        add("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member)
        add("GET", "/guilds/{guild_id}/threads/active", self._active_threads)
        add("GET", "/channels/{channel_id}", self._get_channel)
        add("PATCH", "/channels/{channel_id}", self._edit_channel)
        add("DELETE", "/channels/{channel_id}", self._delete_channel)
        add("POST", "/channels/{channel_id}/typing", self._typing)
        add("POST", "/channels/{channel_id}/threads", self._create_thread)
        add("GET", "/channels/{channel_id}/threads/archived/public", self._archived_public)
        add("GET", "/channels/{channel_id}/threads/archived/private", self._archived_private)
        add(
            "GET",
            "/channels/{channel_id}/users/@me/threads/archived/private",
            self._archived_joined,
        )
        add("PUT", "/channels/{channel_id}/thread-members/@me", self._join_thread)
        add("DELETE", "/channels/{channel_id}/thread-members/@me", self._join_thread)
        add("GET", "/channels/{channel_id}/messages", self._list_messages)
        add("POST", "/channels/{channel_id}/messages", self._create_message)
        message = "/channels/{channel_id}/messages/{message_id}"
        add("GET", message, self._get_message)
        add("PATCH", message, self._edit_message)
        add("DELETE", message, self._delete_message)
        add("POST", message + "/crosspost", self._crosspost)
        add("POST", message + "/threads", self._thread_from_message)

    # ------------------------------------------------------------------ helpers

    def _missing(self, channel_id: int, needed: int) -> web.Response | None:
        """Discord's 403 when the bot lacks View Channel (50001) or ``needed`` (50013)."""
        found = self.find_channel(channel_id)
        if found is not None and found[1].type == DM:
            return None
        have = self.bot_permissions(channel_id)
        if not have & VIEW:
            return json_response(MISSING_ACCESS, 403)
        if have & needed != needed:
            return json_response(MISSING_PERMISSIONS, 403)
        return None

    async def _changed(self, guild: FakeGuild, channel: FakeChannel, verb: str) -> None:
        """Dispatch CHANNEL_/THREAD_ ``verb`` so discord.py's cache follows, as Discord does."""
        kind = "THREAD" if channel.is_thread else "CHANNEL"
        await self.dispatch(f"{kind}_{verb}", payloads.channel_payload(channel, guild.id))

    def _new_thread(
        self, parent: FakeChannel, name: str, kind: int, body: Mapping[str, Any], thread_id: int
    ) -> FakeChannel:
        return self.add_thread(
            parent,
            name,
            type=kind,
            owner_id=self.application_id,
            thread_id=thread_id,
            applied_tags=[int(t) for t in body.get("applied_tags") or []],
        )

    def _thread_response(self, guild: FakeGuild, thread: FakeChannel) -> dict[str, Any]:
        payload = payloads.channel_payload(thread, guild.id)
        payload["member"] = payloads.thread_member_payload(thread.id, self.application_id)
        return payload

    # ------------------------------------------------------------------ misc routes

    async def _unhandled(self, request: web.Request) -> web.Response:
        record: RecordedRequest = request[RECORD]
        self.unhandled.append(record)
        log.warning("fake Discord has no route for %s %s", record.method, record.path)
        return json_response(NOT_FOUND, 404)

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}
        return json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _get_me(self, request: web.Request) -> web.Response:
        return json_response(payloads.current_user_payload(self.bot_user))

    async def _get_user(self, request: web.Request) -> web.Response:
        user_id = int(request.match_info["user_id"])
        if user_id == self.application_id:
            return json_response(self.bot_user)
        if self.find_user(user_id) is not None:
            return json_response(self.user_payload_of(user_id))
        known = [r.payload.get("member", {}).get("user") for r in self._interactions.values()]
        for user in known:
            if user and int(user["id"]) == user_id:
                return json_response(user)
        return json_response(UNKNOWN_USER, 404)

    async def _get_application(self, request: web.Request) -> web.Response:
        return json_response(payloads.application_payload(self.application_id, self.bot_user))

    async def _create_dm(self, request: web.Request) -> web.Response:
        raw = _body(request).get("recipient_id")
        if raw is None or not str(raw).isdigit():
            return json_response(INVALID_FORM_BODY, 400)
        user_id = int(raw)
        channel = self._open_dm(user_id)
        return json_response(payloads.dm_channel_payload(channel, self.user_payload_of(user_id)))

    # ------------------------------------------------------------------ commands

    def _guild_scope(self, request: web.Request) -> tuple[int | None, web.Response | None]:
        """The command scope of a request, or an error response for a foreign app/guild."""
        if request.match_info["application_id"] != str(self.application_id):
            return None, json_response(MISSING_ACCESS, 403)
        raw = request.match_info.get("guild_id")
        if raw is None:
            return None, None
        if all(str(g.id) != raw for g in self.guilds):
            # The classic: syncing to a guild the bot is not in (or lacks applications.commands).
            return None, json_response(MISSING_ACCESS, 403)
        return int(raw), None

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope, error = self._guild_scope(request)
        if error is not None:
            return error
        body = request[RECORD].json
        if not isinstance(body, list):
            return json_response(INVALID_FORM_BODY, 400)
        previous = self._commands.get(scope, {})
        stored: dict[tuple[int, str], dict[str, Any]] = {}
        for item in body:
            kind = int(item.get("type") or 1)
            key = (kind, str(item.get("name")))
            old = previous.get(key)
            stored[key] = self._stored_command(item, kind, scope, old["id"] if old else None)
        self._commands[scope] = stored
        return json_response(list(stored.values()))

    def _stored_command(
        self, item: Mapping[str, Any], kind: int, scope: int | None, command_id: str | None
    ) -> dict[str, Any]:
        """A command as Discord returns it: ids, version, string permissions, defaults."""
        permissions = item.get("default_member_permissions")
        command: dict[str, Any] = {
            # Discord keeps a command's id across overwrites that keep its name and type.
            "id": command_id or str(self._ids.next()),
            "application_id": str(self.application_id),
            "version": str(self._ids.next()),
            "default_member_permissions": None if permissions is None else str(permissions),
            "type": kind,
            "name": item.get("name"),
            "name_localizations": item.get("name_localizations"),
            "description": item.get("description") or "",
            "description_localizations": item.get("description_localizations"),
            "nsfw": bool(item.get("nsfw", False)),
        }
        if item.get("options"):
            command["options"] = item["options"]
        if scope is None:
            command["dm_permission"] = item.get("dm_permission", True)
            command["contexts"] = item.get("contexts")
            command["integration_types"] = item.get("integration_types") or [0]
        else:
            command["guild_id"] = str(scope)
        return command

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Commands the bot synced (global when ``guild_id`` is None), as Discord stores them."""
        return list(self._commands.get(guild_id, {}).values())

    async def _get_commands(self, request: web.Request) -> web.Response:
        scope, error = self._guild_scope(request)
        if error is not None:
            return error
        return json_response(self.commands(scope))

    # ------------------------------------------------------------------ guilds

    def _request_guild(self, request: web.Request) -> FakeGuild | None:
        raw = request.match_info["guild_id"]
        return self._guild_of(int(raw)) if raw.isdigit() else None

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self._request_guild(request)
        if guild is None:
            return json_response(UNKNOWN_GUILD, 404)
        payload = payloads.guild_payload(guild, self.application_id)
        if request.query.get("with_counts", "").lower() in ("1", "true"):
            payload["approximate_member_count"] = guild.member_count
            payload["approximate_presence_count"] = 1
        return json_response(payload)

    async def _get_roles(self, request: web.Request) -> web.Response:
        guild = self._request_guild(request)
        if guild is None:
            return json_response(UNKNOWN_GUILD, 404)
        return json_response(payloads.roles_payload(guild, self.application_id))

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._request_guild(request)
        if guild is None:
            return json_response(UNKNOWN_GUILD, 404)
        return json_response([payloads.channel_payload(c, guild.id) for c in guild.channels])

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self._request_guild(request)
        if guild is None:
            return json_response(UNKNOWN_GUILD, 404)
        member = guild.member(int(request.match_info["user_id"]))
        if member is None:
            return json_response(UNKNOWN_MEMBER, 404)
        user = self.bot_user if member.id == self.application_id else None
        return json_response(payloads.guild_member_payload(member, user))

    async def _active_threads(self, request: web.Request) -> web.Response:
        guild = self._request_guild(request)
        if guild is None:
            return json_response(UNKNOWN_GUILD, 404)
        live = [t for t in guild.threads if not t.archived]
        return json_response(
            {
                "threads": [payloads.thread_payload(t, guild.id) for t in live],
                "members": [
                    payloads.thread_member_payload(t.id, self.application_id)
                    for t in live
                    if t.owner_id == self.application_id
                ],
                "has_more": False,
            }
        )

    # ------------------------------------------------------------------ channels and threads

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        found = self.find_channel(channel_id)
        if found is not None and found[0] is None:
            channel = found[1]
            recipient = self.user_payload_of(channel.recipient_id or 0)
            return json_response(payloads.dm_channel_payload(channel, recipient))
        guild, channel = self._channel(channel_id)
        if not self.bot_permissions(channel_id) & VIEW:
            return json_response(MISSING_ACCESS, 403)
        return json_response(payloads.channel_payload(channel, guild.id))

    async def _edit_channel(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        guild, channel = self._channel(channel_id)
        body = _body(request)
        if channel.is_thread:
            error = self._thread_edit_denied(channel, body)
            if error is not None:
                return error
            if "archived" in body and body["archived"] is not None:
                if bool(body["archived"]) != channel.archived:
                    channel.archive_timestamp = payloads.iso_now()
                channel.archived = bool(body["archived"])
            if body.get("locked") is not None:
                channel.locked = bool(body["locked"])
            if body.get("auto_archive_duration") is not None:
                channel.auto_archive_duration = int(body["auto_archive_duration"])
            if body.get("applied_tags") is not None:
                channel.applied_tags = [int(t) for t in body["applied_tags"]]
        else:
            error = self._missing(channel_id, MANAGE_CHANNELS)
            if error is not None:
                return error
            if body.get("topic") is not None:
                channel.topic = body["topic"]
        if body.get("name"):
            channel.name = str(body["name"])
        await self._changed(guild, channel, "UPDATE")
        return json_response(payloads.channel_payload(channel, guild.id))

    def _thread_edit_denied(
        self, thread: FakeChannel, body: Mapping[str, Any]
    ) -> web.Response | None:
        """Modify Channel for threads: Manage Threads, except what the docs let others do.

        "When setting archived to false, when locked is also false, only the SEND_MESSAGES
        permission is required"; the thread's owner may also rename it.
        """
        changes = {k for k, v in body.items() if v is not None}
        unarchive_only = changes <= {"archived", "name"} and body.get("archived") is False
        if unarchive_only and not thread.locked:
            return self._missing(thread.id, SEND)
        if changes <= {"name", "auto_archive_duration", "applied_tags"} and (
            thread.owner_id == self.application_id
        ):
            return self._missing(thread.id, 0)
        return self._missing(thread.id, MANAGE_THREADS)

    async def _delete_channel(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        guild, channel = self._channel(channel_id)
        error = self._missing(channel_id, MANAGE_THREADS if channel.is_thread else MANAGE_CHANNELS)
        if error is not None:
            return error
        payload = payloads.channel_payload(channel, guild.id)
        self.delete_channel(channel_id)
        await self._changed(guild, channel, "DELETE")
        return json_response(payload)

    async def _typing(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _join_thread(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        _, channel = self._channel(channel_id)
        if not channel.is_thread:
            return json_response(WRONG_CHANNEL_TYPE, 400)
        return self._missing(channel_id, 0) or web.Response(status=204)

    async def _create_thread(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        guild, parent = self._channel(channel_id)
        body = _body(request)
        name = str(body.get("name") or "")
        if parent.type == GUILD_FORUM:
            return await self._create_forum_post(request, guild, parent, body, name)
        if parent.is_thread or parent.type not in (0, GUILD_ANNOUNCEMENT):
            return json_response(WRONG_CHANNEL_TYPE, 400)
        if parent.type == GUILD_ANNOUNCEMENT:
            kind = ANNOUNCEMENT_THREAD
        else:
            # Without a type, this route makes a private thread (channel.mdx, Start Thread).
            kind = int(body.get("type") or PRIVATE_THREAD)
        needed = CREATE_PRIVATE if kind == PRIVATE_THREAD else CREATE_PUBLIC
        error = self._missing(channel_id, needed)
        if error is not None:
            return error
        thread = self._new_thread(parent, name, kind, body, self._ids.next())
        thread.invitable = bool(body.get("invitable", True))
        await self._changed(guild, thread, "CREATE")
        return json_response(self._thread_response(guild, thread), 201)

    async def _create_forum_post(
        self,
        request: web.Request,
        guild: FakeGuild,
        forum: FakeChannel,
        body: Mapping[str, Any],
        name: str,
    ) -> web.Response:
        record: RecordedRequest = request[RECORD]
        first = body.get("message")
        if not isinstance(first, dict):
            return json_response(
                {**INVALID_FORM_BODY, "errors": {"message": "a forum post needs a message"}}, 400
            )
        error = self._missing(forum.id, SEND)
        if error is not None:
            return error
        tags = [int(t) for t in body.get("applied_tags") or []]
        known = {t.id for t in forum.available_tags}
        if any(t not in known for t in tags):
            return json_response(
                {**INVALID_FORM_BODY, "errors": {"applied_tags": "unknown tag"}}, 400
            )
        if forum.requires_tag and not tags:
            return json_response(TAG_REQUIRED, 400)
        # The post and its first message share one id (threads.mdx, Forums).
        post_id = self._ids.next()
        thread = self._new_thread(forum, name, PUBLIC_THREAD, body, post_id)
        message = payloads.message_payload(
            message_id=post_id,
            channel_id=post_id,
            author=self.bot_user,
            body=first,
            flags=int(first.get("flags") or 0),
            attachments=self._attachments_of(record, post_id),
        )
        self._store(message, post_id, from_channel_endpoint=True, body=first)
        await self._changed(guild, thread, "CREATE")
        return json_response({**self._thread_response(guild, thread), "message": message}, 201)

    async def _thread_from_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        guild, parent = self._channel(channel_id)
        message = self._channel_message(request)
        if message is None:
            return json_response(UNKNOWN_MESSAGE, 404)
        if parent.type not in (0, GUILD_ANNOUNCEMENT):
            return json_response(WRONG_CHANNEL_TYPE, 400)
        error = self._missing(channel_id, CREATE_PUBLIC)
        if error is not None:
            return error
        kind = ANNOUNCEMENT_THREAD if parent.type == GUILD_ANNOUNCEMENT else PUBLIC_THREAD
        body = _body(request)
        # "The id of the created thread will be the same as the id of the source message."
        thread = self._new_thread(
            parent, str(body.get("name") or ""), kind, body, int(message["id"])
        )
        message["flags"] |= payloads.HAS_THREAD
        await self._changed(guild, thread, "CREATE")
        return json_response(self._thread_response(guild, thread), 201)

    def _archived(
        self, request: web.Request, kinds: set[int], *, joined_only: bool = False
    ) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        guild, _ = self._channel(channel_id)
        threads = [
            t
            for t in self.threads(channel_id)
            if t.archived
            and t.type in kinds
            and (not joined_only or t.owner_id == self.application_id)
        ]
        threads.sort(key=lambda t: t.archive_timestamp or "", reverse=True)
        before = request.query.get("before")
        if before:
            if joined_only:  # this listing pages by thread id
                threads = [t for t in threads if t.id < int(before)]
            else:  # the others by archive timestamp
                threads = [t for t in threads if (t.archive_timestamp or "") < before]
        limit = int(request.query.get("limit") or 50)
        page = threads[:limit]
        return json_response(
            {
                "threads": [payloads.thread_payload(t, guild.id) for t in page],
                "members": [
                    payloads.thread_member_payload(t.id, self.application_id)
                    for t in page
                    if t.owner_id == self.application_id
                ],
                "has_more": len(threads) > limit,
            }
        )

    async def _archived_public(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        error = self._missing(channel_id, READ_HISTORY)
        if error is not None:
            return error
        return self._archived(request, {PUBLIC_THREAD, ANNOUNCEMENT_THREAD})

    async def _archived_private(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        error = self._missing(channel_id, READ_HISTORY | MANAGE_THREADS)
        if error is not None:
            return error
        return self._archived(request, {PRIVATE_THREAD})

    async def _archived_joined(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        error = self._missing(channel_id, READ_HISTORY)
        if error is not None:
            return error
        return self._archived(request, {PRIVATE_THREAD}, joined_only=True)

    # ------------------------------------------------------------------ messages

    async def _post_allowed(self, channel_id: int) -> web.Response | None:
        """Why the bot may not post in a channel (403/400 as Discord), or None.

        An archived thread that is not locked is unarchived by the post, as the docs say
        ("Sending a message will automatically unarchive the thread, unless the thread has
        been locked by a moderator").
        """
        found = self.find_channel(channel_id)
        if found is not None and found[0] is None:
            user = self.find_user(found[1].recipient_id or 0)
            return json_response(CANNOT_DM, 403) if user and user.blocks_dms else None
        guild, channel = self._channel(channel_id)
        if not self._sendable(channel):
            return json_response(WRONG_CHANNEL_TYPE, 400)
        if not channel.is_thread:
            return self._missing(channel_id, SEND)
        error = self._missing(channel_id, SEND_IN_THREADS)
        if error is not None:
            return error
        if channel.locked and not self._bot_can(channel_id, MANAGE_THREADS):
            # Codes from the opcodes page; the status is the fake's reading (both 400).
            return json_response(THREAD_ARCHIVED if channel.archived else THREAD_LOCKED, 400)
        if channel.archived:
            channel.archived = False
            channel.archive_timestamp = payloads.iso_now()
            await self._changed(guild, channel, "UPDATE")
        return None

    async def _create_message(self, request: web.Request) -> web.Response:
        record: RecordedRequest = request[RECORD]
        channel_id = int(request.match_info["channel_id"])
        body = record.json if isinstance(record.json, dict) else {}
        nonce = body.get("nonce")
        # The docs scope nonce uniqueness to "the same author"; every message here is the
        # bot's, and dedupe is kept per channel so one nonce scheme can serve many channels.
        key = (str(channel_id), str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self._nonces.get(key)
            if earlier is not None and time.monotonic() - earlier[1] <= self.nonce_window:
                existing = self._messages.get(earlier[0])
                if existing is not None:
                    record.deduplicated = True
                    return json_response(existing)
        refusal = await self._post_allowed(channel_id)
        if refusal is not None:
            return refusal
        message = payloads.message_payload(
            message_id=self._ids.next(),
            channel_id=channel_id,
            author=self.bot_user,
            body=body,
            flags=int(body.get("flags") or 0),
            attachments=self._attachments_of(record, channel_id),
            message_type=19 if body.get("message_reference") else 0,
        )
        self._store(message, channel_id, from_channel_endpoint=True, body=body)
        if nonce is not None:
            # Discord remembers every nonce, also of messages sent without enforce_nonce.
            self._nonces[key] = (int(message["id"]), time.monotonic())
        return json_response(message)

    def _channel_message(self, request: web.Request) -> dict[str, Any] | None:
        message = self._messages.get(int(request.match_info["message_id"]))
        if message is None or message["channel_id"] != request.match_info["channel_id"]:
            return None
        return message

    async def _list_messages(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        limit = min(int(request.query.get("limit", 50)), 100)
        newest_first = list(reversed(self.messages(channel_id, include_interactions=True)))
        before = request.query.get("before")
        if before is not None:
            newest_first = [m for m in newest_first if int(m["id"]) < int(before)]
        return json_response(newest_first[:limit])

    async def _get_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        return json_response(message) if message else json_response(UNKNOWN_MESSAGE, 404)

    async def _edit_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return json_response(UNKNOWN_MESSAGE, 404)
        _, channel = self._channel(int(message["channel_id"]))
        if channel.is_thread and channel.archived:
            # "Users cannot edit messages ... in archived threads."
            return json_response(THREAD_ARCHIVED, 400)
        record: RecordedRequest = request[RECORD]
        body = record.json if isinstance(record.json, dict) else {}
        return json_response(self._edit(message, body, record))

    async def _delete_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return json_response(UNKNOWN_MESSAGE, 404)
        self._messages.pop(int(message["id"]))
        return web.Response(status=204)

    async def _crosspost(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        message = self._channel_message(request)
        if message is None:
            return json_response(UNKNOWN_MESSAGE, 404)
        _, channel = self._channel(channel_id)
        if channel.type != GUILD_ANNOUNCEMENT:
            return json_response(WRONG_CHANNEL_TYPE, 400)
        # Publishing one's own message needs Send Messages (others' need Manage Messages).
        error = self._missing(channel_id, SEND)
        if error is not None:
            return error
        if message["flags"] & payloads.CROSSPOSTED:
            return json_response(ALREADY_CROSSPOSTED, 400)
        message["flags"] |= payloads.CROSSPOSTED
        return json_response(message)

    def crossposted(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages of an announcement channel that were published to following channels."""
        return [m for m in self.messages(channel_id) if m["flags"] & payloads.CROSSPOSTED]

    def _unknown_channel(self, channel_id: int) -> web.Response | None:
        if channel_id in self.unknown_channels:
            return json_response(UNKNOWN_CHANNEL, 404)
        if channel_id in self.forbidden_channels:
            return json_response(MISSING_ACCESS, 403)
        return None
