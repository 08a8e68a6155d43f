"""The interactions part of the fake: building and dispatching interactions, callbacks, webhooks.

Slash commands (``invoke``), autocomplete, components (``click``: buttons and selects on
any message the fake recorded, so persistent views work after a client restart), modals
(``submit_modal`` answers the modal a callback of type 9 opened) and attachment options
(values made with ``add_attachment``, resolved with a URL on the fake's CDN route).
Callbacks enforce the 3-second deadline and answer once; the interaction webhooks
(followups, @original) enforce the 15-minute token lifetime.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord
from aiohttp import web

from . import payloads
from .base import (
    ALREADY_ACKNOWLEDGED,
    INVALID_WEBHOOK_TOKEN,
    RECORD,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    CommandNotVisible,
    InteractionRecord,
    RecordedRequest,
    json_response,
)
from .gateway import GatewayMixin
from .models import DEFAULT_USER_ID, FakeAttachment, FakeChannel, FakeGuild, FakeMember, FakeRole
from .rest import AddRoute
from .spec import EPHEMERAL, LOADING

MemberLike = FakeMember | int

# Component types (components/reference.mdx).
ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT = 1, 2, 3, 4
USER_SELECT, ROLE_SELECT, MENTIONABLE_SELECT, CHANNEL_SELECT = 5, 6, 7, 8
TEXT_DISPLAY, LABEL = 10, 18
_SELECTS = {STRING_SELECT, USER_SELECT, ROLE_SELECT, MENTIONABLE_SELECT, CHANNEL_SELECT}


class InteractionsMixin(GatewayMixin):
    """Interactions the test sends as a member, and the bot's answers to them."""

    def _add_interaction_routes(self, add: AddRoute) -> None:
        add("POST", "/interactions/{interaction_id}/{interaction_token}/callback", self._callback)
        add("POST", "/webhooks/{webhook_id}/{webhook_token}", self._followup)
        webhook_message = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
        add("GET", webhook_message, self._get_webhook_message)
        add("PATCH", webhook_message, self._edit_webhook_message)
        add("DELETE", webhook_message, self._delete_webhook_message)

    def _before_dispatch(self, event: str, data: Mapping[str, Any]) -> None:
        if event == "INTERACTION_CREATE" and {"id", "token", "type"} <= data.keys():
            record = InteractionRecord(dict(data), time.monotonic())
            self._interactions[record.id] = record
            self._by_token[record.token] = record
        super()._before_dispatch(event, data)

    # ------------------------------------------------------------------ inspection

    def callbacks(self) -> list[dict[str, Any]]:
        """Bodies of the interaction callbacks the fake accepted, in order."""
        return [r.json for r in self.requests("POST", "/callback") if 200 <= r.status < 300]

    def deduplicated(self) -> list[RecordedRequest]:
        """Create-message requests answered with an earlier message because of their nonce."""
        return [r for r in self._requests if r.deduplicated]

    def interactions(self) -> list[InteractionRecord]:
        """Every interaction dispatched, in order."""
        return list(self._interactions.values())

    def _find_command(self, name: str, guild_id: int) -> tuple[dict[str, Any] | None, bool]:
        """The synced CHAT_INPUT command ``name`` and whether it is a guild command."""
        for scope, is_guild in ((guild_id, True), (None, False)):
            command = self._commands.get(scope, {}).get((1, name))
            if command is not None:
                return command, is_guild
        return None, True

    def interaction(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        kind: int = 2,
        focused: str | None = None,
        channel_id: int | None = None,
        user: Mapping[str, Any] | None = None,
        member: MemberLike | None = None,
        permissions: int | discord.Permissions | None = None,
        app_permissions: int | None = None,
        locale: str = "en-US",
        resolved: Mapping[str, Any] | None = None,
        check_permissions: bool = True,
    ) -> dict[str, Any]:
        """Build an INTERACTION_CREATE payload for a slash command (``kind=2``) or autocomplete (4).

        ``command`` may hold subcommands: ``"digest subscribe"`` or ``"admin briefs reload"``
        (group, then subcommand). ``options`` maps option names to values (types come from
        the synced command, else from the Python type) or is a raw list of option dicts for
        the innermost level; channel, user, role and attachment options (a
        ``FakeAttachment`` from ``add_attachment``) get Discord's ``resolved`` data.
        ``focused`` names the option being typed (autocomplete).

        Who invokes: ``member`` (a ``FakeMember`` from ``add_member``, or its id) sends the
        member's roles and the permissions computed from them in the channel; otherwise
        ``user`` with ``permissions`` as the whole permission set, ordinary by default
        (``payloads.MEMBER_PERMISSIONS``; e.g. ``MEMBER_PERMISSIONS | MANAGE_GUILD``).
        ``permissions`` overrides the computed set too. ``app_permissions`` defaults to the
        bot's computed permissions in the channel. With ``check_permissions``, a command
        whose ``default_member_permissions`` the member lacks raises CommandNotVisible,
        because Discord would not offer it.
        """
        guild, channel = self._channel(channel_id or self.channel_id)
        name, *path = command.split()
        definition, is_guild_command = self._find_command(name, guild.id)
        who = self._who(guild, channel, user, member, permissions)
        if check_permissions and definition is not None:
            self._check_visible(name, definition, who.permissions)

        leaf_defs, path_kinds = _descend(definition, path)
        extra_resolved: dict[str, dict[str, Any]] = {}
        if isinstance(options, Mapping):
            leaf = []
            for option_name, value in options.items():
                option_type = _option_type(leaf_defs, option_name, value)
                entry: dict[str, Any] = {"type": option_type, "name": option_name, "value": value}
                if option_type in (
                    payloads.USER,
                    payloads.CHANNEL,
                    payloads.ROLE,
                    payloads.MENTIONABLE,
                    payloads.ATTACHMENT,
                ):
                    snowflake = _snowflake(value)
                    entry["value"] = str(snowflake)
                    self._resolve(option_type, snowflake, guild, extra_resolved)
                if option_name == focused:
                    # Discord sends the partial input of the focused option as typed text.
                    entry["focused"] = True
                    entry["value"] = str(value)
                leaf.append(entry)
        else:
            leaf = [dict(o) for o in options or []]
        if kind == 4 and not any(o.get("focused") for o in leaf):
            raise ValueError("an autocomplete interaction needs a focused option")
        for part, part_kind in reversed(list(zip(path, path_kinds, strict=True))):
            leaf = [{"type": part_kind, "name": part, "options": leaf}]

        data: dict[str, Any] = {
            "id": definition["id"] if definition else str(_stable_id(name)),
            "name": name,
            "type": 1,
        }
        if leaf:
            data["options"] = leaf
        if is_guild_command:
            data["guild_id"] = str(guild.id)
        if definition is not None and kind == 4:
            data["version"] = definition["version"]
        merged = {**extra_resolved, **(resolved or {})}
        if merged:
            data["resolved"] = merged
        return self._envelope(kind, data, guild, channel, who, app_permissions, locale)

    def _who(
        self,
        guild: FakeGuild,
        channel: FakeChannel,
        user: Mapping[str, Any] | None,
        member: MemberLike | None,
        permissions: int | discord.Permissions | None,
    ) -> _Invoker:
        """The invoking member: a world member (roles, computed permissions) or a plain user."""
        if member is not None:
            found = member if isinstance(member, FakeMember) else guild.member(member)
            if found is None:
                raise KeyError(f"guild {guild.id} has no member {member}")
            computed = self.permissions_for(found.id, channel.id)
            return _Invoker(
                payloads.member_user_payload(found),
                computed if permissions is None else _permission_value(permissions),
                list(found.roles),
                found.nick,
            )
        default_user = payloads.user_payload(DEFAULT_USER_ID, "tester", global_name="Tester")
        return _Invoker(dict(user or default_user), _permission_value(permissions), [], None)

    def _envelope(
        self,
        kind: int,
        data: dict[str, Any],
        guild: FakeGuild,
        channel: FakeChannel,
        who: _Invoker,
        app_permissions: int | None,
        locale: str,
    ) -> dict[str, Any]:
        """The INTERACTION_CREATE payload around ``data``, with a fresh id and token."""
        return payloads.interaction_payload(
            interaction_id=self._ids.next(),
            token=payloads.new_token(),
            interaction_type=kind,
            application_id=self.application_id,
            guild=guild,
            channel=channel,
            user=who.user,
            permissions=who.permissions,
            app_permissions=self.bot_permissions(channel.id)
            if app_permissions is None
            else app_permissions,
            data=data,
            locale=locale,
            roles=who.roles,
            nick=who.nick,
        )

    def component_interaction(
        self,
        message: Mapping[str, Any] | int,
        custom_id: str,
        *,
        values: Sequence[str | int] | None = None,
        user: Mapping[str, Any] | None = None,
        member: MemberLike | None = None,
        permissions: int | discord.Permissions | None = None,
        app_permissions: int | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """Build a MESSAGE_COMPONENT interaction (type 3): a click on a component of ``message``.

        ``message`` is a message dict or the id of one the fake recorded (also one sent
        before a client restart, for persistent views). ``values`` picks options of a
        select: values of a string select (checked against its options and
        min/max_values), or ids for user/role/channel/mentionable selects (resolved as
        Discord does). The component must exist and be enabled, as on Discord.
        ``member``/``user``/``permissions`` as for ``interaction``.
        """
        if isinstance(message, int):
            found = self._messages.get(message)
            if found is None:
                raise KeyError(f"the fake has no message {message}")
            message = found
        component = _find_component(message.get("components") or [], custom_id)
        if component is None:
            raise ValueError(f"message {message['id']} has no component {custom_id!r}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled: it cannot be used")
        guild, channel = self._channel(int(message["channel_id"]))
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] in _SELECTS:
            picked = [str(v) for v in values or []]
            _check_select(component, picked)
            data["values"] = picked
            resolved = self._resolve_select(component["type"], picked, guild)
            if resolved:
                data["resolved"] = resolved
        elif values is not None:
            raise ValueError(f"component {custom_id!r} is not a select: it takes no values")
        who = self._who(guild, channel, user, member, permissions)
        payload = self._envelope(3, data, guild, channel, who, app_permissions, locale)
        payload["message"] = dict(message)
        return payload

    def _resolve_select(
        self, component_type: int, values: Sequence[str], guild: FakeGuild
    ) -> dict[str, dict[str, Any]]:
        resolved: dict[str, dict[str, Any]] = {}
        option_type = {
            USER_SELECT: payloads.USER,
            ROLE_SELECT: payloads.ROLE,
            CHANNEL_SELECT: payloads.CHANNEL,
        }.get(component_type)
        for value in values:
            kind = option_type
            if component_type == MENTIONABLE_SELECT:
                kind = payloads.ROLE if guild.role(int(value)) else payloads.USER
            if kind is not None:
                self._resolve(kind, int(value), guild, resolved)
        return resolved

    async def click(
        self,
        message: Mapping[str, Any] | int,
        custom_id: str,
        *,
        values: Sequence[str | int] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper; callers want a plain number
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Click a component (or pick ``values`` in a select) and return the callback body."""
        payload = self.component_interaction(message, custom_id, values=values, **kwargs)
        return await self._send_interaction(payload, timeout)

    def modal_interaction(
        self,
        values: Mapping[str, str | Sequence[str]],
        *,
        opened_by: InteractionRecord | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """Build the MODAL_SUBMIT (type 5) for the modal a callback of type 9 opened.

        ``opened_by`` defaults to the latest interaction answered with a modal. ``values``
        maps inputs, by custom id or by label (discord.py makes random custom ids), to
        text (selects: to lists of values); inputs left out keep the modal's pre-filled
        ``value``. Like Discord's client, it refuses
        a missing required input, text outside min/max_length and unknown custom ids.
        The member, channel and (for a modal opened from a component) message are those of
        the interaction that opened it.
        """
        origin = opened_by or next(
            (i for i in reversed(self.interactions()) if i.modal is not None), None
        )
        if origin is None or origin.modal is None:
            raise ValueError("no interaction was answered with a modal (callback type 9)")
        modal = origin.modal
        rows = payloads.numbered_components(modal.get("components"))
        submitted = [_submitted(row, _by_custom_id(rows, values, modal)) for row in rows]
        data = {"custom_id": modal.get("custom_id"), "components": submitted}
        base = origin.payload
        payload = {
            **base,
            "id": str(self._ids.next()),
            "token": payloads.new_token(),
            "type": 5,
            "data": data,
            "locale": locale,
        }
        payload.pop("message", None)
        self._modal_origins[int(payload["id"])] = origin
        if origin.type == 3 and "message" in base:
            message = self._messages.get(int(base["message"]["id"]), base["message"])
            payload["message"] = dict(message)
        return payload

    async def submit_modal(
        self,
        values: Mapping[str, str | Sequence[str]],
        *,
        opened_by: InteractionRecord | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper; callers want a plain number
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """Submit the open modal with ``values`` and return the bot's callback body."""
        payload = self.modal_interaction(values, opened_by=opened_by, locale=locale)
        return await self._send_interaction(payload, timeout)

    @staticmethod
    def _check_visible(name: str, definition: Mapping[str, Any], permissions: int) -> None:
        required = definition.get("default_member_permissions")
        if required is None or permissions & payloads.ADMINISTRATOR:
            return
        needed = int(required)
        if needed == 0 or permissions & needed != needed:
            raise CommandNotVisible(
                f"/{name} needs default_member_permissions {needed}; a member with "
                f"permissions {permissions} would not see it (pass check_permissions=False "
                "to send it anyway)"
            )

    def _resolve(
        self, option_type: int, value: int, guild: FakeGuild, into: dict[str, dict[str, Any]]
    ) -> None:
        """Add resolved data for a channel, user, role or attachment option, as Discord does."""
        if option_type == payloads.CHANNEL:
            _, channel = self._channel(value)
            entry = payloads.channel_payload(channel, guild.id)
            entry["permissions"] = str(payloads.MEMBER_PERMISSIONS)
            into.setdefault("channels", {})[str(value)] = entry
        elif option_type == payloads.ATTACHMENT:
            attachment = self._attachments.get(value)
            if attachment is None:
                raise KeyError(f"no attachment {value}: make it with fake.add_attachment()")
            entry = payloads.resolved_attachment_payload(
                attachment, self.attachment_url(attachment)
            )
            into.setdefault("attachments", {})[str(value)] = entry
        elif option_type == payloads.ROLE or (
            option_type == payloads.MENTIONABLE and guild.role(value) is not None
        ):
            role = guild.role(value) or FakeRole(value, f"role{value}")
            into.setdefault("roles", {})[str(value)] = payloads.role_payload(role, guild.id)
        elif option_type in (payloads.USER, payloads.MENTIONABLE):
            known = guild.member(value)
            user = self.user_payload_of(value)
            member = payloads.member_payload(
                user,
                self.permissions_for(value, self.channel_id)
                if known
                else payloads.MEMBER_PERMISSIONS,
                known.roles if known else (),
                known.nick if known else None,
            )
            for key in ("user", "deaf", "mute"):  # resolved members are partial
                member.pop(key)
            into.setdefault("users", {})[str(value)] = user
            into.setdefault("members", {})[str(value)] = member

    async def invoke(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper; callers want a plain number
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Dispatch a slash command and return the body of the bot's interaction callback."""
        return await self._send_interaction(self.interaction(command, options, **kwargs), timeout)

    async def autocomplete(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        focused: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper; callers want a plain number
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Dispatch an autocomplete interaction and return the callback body (type 8).

        ``focused`` defaults to the last option given.
        """
        if focused is None and isinstance(options, Mapping) and options:
            focused = list(options)[-1]
        payload = self.interaction(command, options, kind=4, focused=focused, **kwargs)
        return await self._send_interaction(payload, timeout)

    async def _send_interaction(self, payload: dict[str, Any], seconds: float) -> dict[str, Any]:
        prefix = f"/interactions/{payload['id']}/"
        since = len(self._requests)
        if not await self.dispatch("INTERACTION_CREATE", payload):
            raise RuntimeError("fake Discord: no client is connected to receive the interaction")
        request = await self.wait_for_request(
            lambda r: r.path.startswith(prefix) and r.reached_handler,
            seconds,
            since=since,
        )
        return dict(request.json or {})

    # ------------------------------------------------------------------ callbacks and webhooks

    def _now_interaction(
        self, request: web.Request
    ) -> tuple[InteractionRecord | None, web.Response | None]:
        """The interaction behind a webhook route, or Discord's error for a bad/expired token."""
        record: RecordedRequest = request[RECORD]
        webhook_id = request.match_info["webhook_id"]
        interaction = self._by_token.get(request.match_info["webhook_token"])
        if interaction is None or webhook_id != str(self.application_id):
            return None, json_response(UNKNOWN_WEBHOOK, 404)
        age = time.monotonic() - interaction.dispatched_at
        if age > self.token_lifetime:
            self._violation(
                "token-lifetime",
                record.method,
                record.path,
                f"interaction token used after {age:.0f} s; tokens last "
                f"{self.token_lifetime:.0f} s",
            )
            return None, json_response(INVALID_WEBHOOK_TOKEN, 401)
        if interaction.callback is None:
            return None, json_response(UNKNOWN_WEBHOOK, 404)
        return interaction, None

    async def _callback(self, request: web.Request) -> web.Response:
        record: RecordedRequest = request[RECORD]
        interaction = self._interactions.get(int(request.match_info["interaction_id"]))
        if interaction is None or interaction.token != request.match_info["interaction_token"]:
            return json_response(UNKNOWN_INTERACTION, 404)
        if interaction.callback is not None:
            return json_response(ALREADY_ACKNOWLEDGED, 400)
        delay = time.monotonic() - interaction.dispatched_at
        if delay > self.callback_deadline:
            self._violation(
                "callback-deadline",
                record.method,
                record.path,
                f"initial response after {delay:.2f} s; Discord invalidates the token after "
                f"{self.callback_deadline:g} s",
            )
            return json_response(UNKNOWN_INTERACTION, 404)
        body = record.json if isinstance(record.json, dict) else {}
        callback_type = body.get("type")
        raw_data = body.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        interaction.callback, interaction.callback_at = body, time.monotonic()
        message: dict[str, Any] | None = None
        if callback_type == 4:
            message = self._interaction_message(interaction, data, record, original=True)
        elif callback_type == 5:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message = self._interaction_message(interaction, {}, record, original=True, flags=flags)
        elif callback_type in (6, 7):
            # For components the "original response" is the message the component is on.
            message = self._component_message(interaction)
            if message is not None and callback_type == 7:
                payloads.apply_edit(message, data)
                self._apply_mentions(message, data)
        interaction.original = message
        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        summary: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        if message is not None and callback_type in (4, 5):
            summary["response_message_id"] = message["id"]
            summary["response_message_loading"] = callback_type == 5
            summary["response_message_ephemeral"] = bool(message["flags"] & EPHEMERAL)
        response: dict[str, Any] = {"interaction": summary}
        if message is not None and callback_type in (4, 7):
            # The spec documents a resource only for messages created/updated (and activities).
            response["resource"] = {"type": callback_type, "message": message}
        return json_response(response)

    def _interaction_message(
        self,
        interaction: InteractionRecord,
        body: Mapping[str, Any],
        record: RecordedRequest,
        *,
        original: bool,
        flags: int | None = None,
    ) -> dict[str, Any]:
        """A message created by an interaction response or followup."""
        payload = interaction.payload
        channel_id = int(payload["channel_id"])
        user = payload.get("member", {}).get("user") or payload.get("user") or {}
        name = " ".join(_command_path(payload.get("data") or {}))
        message_id = self._ids.next()
        message = payloads.message_payload(
            message_id=message_id,
            channel_id=channel_id,
            author=self.bot_user,
            body=body,
            flags=int(body.get("flags") or 0) if flags is None else flags,
            attachments=self._attachments_of(record, channel_id),
            message_type=20 if original and interaction.type == 2 else 0,
            extra={
                "webhook_id": str(self.application_id),
                "application_id": str(self.application_id),
                "interaction_metadata": _interaction_metadata(
                    interaction, user, name, self._modal_origins.get(interaction.id)
                ),
                "interaction": {
                    "id": str(interaction.id),
                    "type": interaction.type,
                    "name": name,
                    "user": user,
                },
            },
        )
        self._store(message, channel_id, from_channel_endpoint=False, body=body)
        return message

    def _component_message(self, interaction: InteractionRecord) -> dict[str, Any] | None:
        """The stored message a component interaction came from (None for other kinds)."""
        source = interaction.payload.get("message")
        if not isinstance(source, dict):
            return None
        message_id = int(source["id"])
        return self._messages.setdefault(message_id, dict(source))

    async def _followup(self, request: web.Request) -> web.StreamResponse:
        record: RecordedRequest = request[RECORD]
        interaction, error = self._now_interaction(request)
        if interaction is None:
            assert error is not None
            return error
        body = record.json if isinstance(record.json, dict) else {}
        original = interaction.original
        if original is not None and original["flags"] & LOADING:
            # Docs: right after a deferred response a followup edits the loading message.
            self.warnings.append(
                "followup after DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE edited the original "
                "response (deprecated; use PATCH .../messages/@original)"
            )
            message = self._edit(original, body, record)
        else:
            message = self._interaction_message(interaction, body, record, original=False)
            interaction.followups.append(message)
        if request.query.get("wait", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        return json_response(message)

    def _webhook_target(
        self, request: web.Request
    ) -> tuple[InteractionRecord | None, dict[str, Any] | None, web.Response | None]:
        interaction, error = self._now_interaction(request)
        if interaction is None:
            return None, None, error
        wanted = request.match_info["message_id"]
        if wanted == "@original":
            target = interaction.original
        else:
            candidates = [*interaction.followups, interaction.original]
            target = next((m for m in candidates if m is not None and m["id"] == wanted), None)
        if target is None or int(target["id"]) not in self._messages:
            return interaction, None, json_response(UNKNOWN_MESSAGE, 404)
        return interaction, target, None

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        _, target, error = self._webhook_target(request)
        if target is None:
            assert error is not None
            return error
        return json_response(target)

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        _, target, error = self._webhook_target(request)
        if target is None:
            assert error is not None
            return error
        record: RecordedRequest = request[RECORD]
        body = record.json if isinstance(record.json, dict) else {}
        return json_response(self._edit(target, body, record))

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        _, target, error = self._webhook_target(request)
        if target is None:
            assert error is not None
            return error
        self._messages.pop(int(target["id"]), None)
        return web.Response(status=204)


@dataclass
class _Invoker:
    """Who an interaction comes from: user object, permissions in the channel, roles, nick."""

    user: dict[str, Any]
    permissions: int
    roles: list[int]
    nick: str | None


def _snowflake(value: Any) -> int:
    """The id of an option value: a world object (attachment, role, member, channel) or an id."""
    if isinstance(value, (FakeAttachment, FakeRole, FakeMember, FakeChannel)):
        return value.id
    return int(value)


def _check_select(component: Mapping[str, Any], values: Sequence[str]) -> None:
    """Refuse what Discord's client would not let a member pick in a select."""
    low = int(component.get("min_values", 1))
    high = int(component.get("max_values", 1))
    if not low <= len(values) <= high:
        raise ValueError(
            f"select {component.get('custom_id')!r} takes {low}..{high} values, got {len(values)}"
        )
    if component["type"] == STRING_SELECT:
        offered = {str(o.get("value")) for o in component.get("options") or []}
        strays = [v for v in values if v not in offered]
        if strays:
            raise ValueError(
                f"select {component.get('custom_id')!r} offers no {strays} "
                f"(options: {sorted(offered)})"
            )


def _walk(components: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    """Every component in a tree (rows' ``components``, labels' ``component``)."""
    for component in components:
        yield component
        children = list(component.get("components") or [])
        if isinstance(component.get("component"), Mapping):
            children.append(component["component"])
        yield from _walk(children)


def _by_custom_id(
    rows: Iterable[Mapping[str, Any]],
    values: Mapping[str, str | Sequence[str]],
    modal: Mapping[str, Any],
) -> dict[str, str | Sequence[str]]:
    """``values`` keyed by custom id, translating the keys that are an input's label."""
    labels: dict[str, list[str]] = {}
    custom_ids: set[str] = set()
    for component in _walk(rows):
        inner = component.get("component") if component.get("type") == LABEL else component
        if not isinstance(inner, Mapping) or "custom_id" not in inner:
            continue
        custom_ids.add(str(inner["custom_id"]))
        label = component.get("label") or inner.get("label")
        if label:
            labels.setdefault(str(label), []).append(str(inner["custom_id"]))
    out: dict[str, str | Sequence[str]] = {}
    unknown = []
    for key, value in values.items():
        if key in custom_ids:
            out[key] = value
        elif len(labels.get(key, [])) == 1:
            out[labels[key][0]] = value
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(
            f"modal {modal.get('custom_id')!r} has no inputs {sorted(unknown)} "
            f"(labels: {sorted(labels)})"
        )
    return out


def _submitted(
    component: Mapping[str, Any], values: Mapping[str, str | Sequence[str]]
) -> dict[str, Any]:
    """One modal component as the MODAL_SUBMIT echoes it, filled with the member's input."""
    kind = component["type"]
    out: dict[str, Any] = {"type": kind, "id": component["id"]}
    if kind == ACTION_ROW:
        out["components"] = [_submitted(c, values) for c in component.get("components") or []]
    elif kind == LABEL:
        out["component"] = _submitted(component["component"], values)
    elif kind == TEXT_INPUT:
        custom_id = str(component["custom_id"])
        raw = values.get(custom_id, component.get("value") or "")
        if not isinstance(raw, str):
            raise ValueError(f"text input {custom_id!r} takes a string")
        name = component.get("label") or custom_id
        if component.get("required", True) and not raw:
            raise ValueError(f"text input {name!r} is required")
        low, high = int(component.get("min_length") or 0), int(component.get("max_length") or 4000)
        if raw and not low <= len(raw) <= high:
            raise ValueError(
                f"text input {custom_id!r} takes {low}..{high} characters, got {len(raw)}"
            )
        out["custom_id"] = custom_id
        out["value"] = raw
    elif kind in _SELECTS:
        custom_id = str(component["custom_id"])
        raw = values.get(custom_id, [])
        picked = [raw] if isinstance(raw, str) else [str(v) for v in raw]
        if picked or component.get("required", True):
            _check_select(component, picked)
        out["custom_id"] = custom_id
        out["values"] = picked
    return out


def _command_path(data: Mapping[str, Any]) -> list[str]:
    """The command name plus subcommand group/subcommand names of interaction data."""
    names = [str(data.get("name", ""))]
    options: Iterable[Mapping[str, Any]] = data.get("options") or []
    while True:
        nested = next((o for o in options if o.get("type") in (1, 2)), None)
        if nested is None:
            return names
        names.append(str(nested["name"]))
        options = nested.get("options") or []


def _descend(
    definition: Mapping[str, Any] | None, path: Sequence[str]
) -> tuple[list[dict[str, Any]] | None, list[int]]:
    """Walk a synced command along subcommand ``path``: leaf option defs and the path's types."""
    if definition is None:
        kinds = [payloads.SUB_COMMAND_GROUP, payloads.SUB_COMMAND][-len(path) :] if path else []
        return None, kinds
    options: list[dict[str, Any]] = list(definition.get("options") or [])
    kinds = []
    for part in path:
        found = next((o for o in options if o.get("name") == part), None)
        if found is None or found.get("type") not in (1, 2):
            raise ValueError(f"/{definition.get('name')} has no subcommand {part!r}")
        kinds.append(int(found["type"]))
        options = list(found.get("options") or [])
    return options, kinds


def _option_type(definitions: list[dict[str, Any]] | None, name: str, value: Any) -> int:
    """The option's type from the synced definition, else guessed from the Python value."""
    for option in definitions or []:
        if option.get("name") == name:
            return int(option["type"])
    if definitions is not None:
        raise ValueError(f"the synced command has no option {name!r}")
    if isinstance(value, FakeAttachment):
        return payloads.ATTACHMENT
    if isinstance(value, FakeRole):
        return payloads.ROLE
    if isinstance(value, FakeMember):
        return payloads.USER
    if isinstance(value, FakeChannel):
        return payloads.CHANNEL
    if isinstance(value, bool):
        return payloads.BOOLEAN
    if isinstance(value, int):
        return payloads.INTEGER
    if isinstance(value, float):
        return payloads.NUMBER
    return payloads.STRING


def _permission_value(permissions: int | discord.Permissions | None) -> int:
    """A member's permission integer; an ordinary member's when not given."""
    if isinstance(permissions, discord.Permissions):
        return permissions.value
    return payloads.MEMBER_PERMISSIONS if permissions is None else permissions


def _find_component(components: Iterable[Mapping[str, Any]], custom_id: str) -> Any:
    """The component with ``custom_id`` anywhere in a component tree, or None."""
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        children = list(component.get("components") or [])
        for key in ("accessory", "component"):
            if component.get(key):
                children.append(component[key])
        found = _find_component(children, custom_id)
        if found is not None:
            return found
    return None


def _stable_id(name: str) -> int:
    """A snowflake-sized id for a command the bot never synced (stable per name)."""
    digest = hashlib.blake2b(name.encode(), digest_size=5).digest()
    return (1 << 60) + int.from_bytes(digest, "big")


def _interaction_metadata(
    interaction: InteractionRecord,
    user: Mapping[str, Any],
    name: str,
    trigger: InteractionRecord | None = None,
) -> dict[str, Any]:
    """A message's interaction_metadata: command metadata, the clicked message for components,
    the interaction that opened the modal for modal submits."""
    payload = interaction.payload
    metadata: dict[str, Any] = {
        "id": str(interaction.id),
        "type": interaction.type,
        "user": user,
        "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
    }
    if interaction.type == 3:
        metadata["interacted_message_id"] = str(payload["message"]["id"])
    elif interaction.type == 5:
        if trigger is not None:
            trigger_name = " ".join(_command_path(trigger.payload.get("data") or {}))
            metadata["triggering_interaction_metadata"] = _interaction_metadata(
                trigger, user, trigger_name
            )
    else:
        metadata["name"] = name
        metadata["command_type"] = 1
    return metadata
