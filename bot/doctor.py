"""`briefbot doctor`: check the token, the commands, permissions, the database and the briefs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import discord

from bot import limits
from bot.app import BriefBot, _connection_target
from bot.briefs.library import load_library
from bot.briefs.reloader import LiveLibrary, file_events
from bot.ops.paths import index_problem
from bot.settings import Settings
from bot.store import is_postgres, sqlite_path
from bot.store.records import ChannelKind, StoreError, Subscription
from bot.store.schema import SCHEMA_VERSION
from bot.store.sqlite import Store, read_schema_version

log = logging.getLogger(__name__)

ALL_PERMISSIONS = (1 << 53) - 1


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the checklist: what was checked, how it went, and the fix when it failed."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def channel_permissions(
    *,
    guild_id: int,
    owner_id: int,
    user_id: int,
    roles: Mapping[int, int],
    member_roles: Iterable[int],
    overwrites: Sequence[Mapping[str, Any]],
) -> int:
    """The bot's permissions in a channel, by Discord's rule (developers/topics/permissions)."""
    if user_id == owner_id:
        return ALL_PERMISSIONS
    mine = [r for r in member_roles if r in roles]
    base = roles.get(guild_id, 0)  # @everyone's role has the guild's id
    for role in mine:
        base |= roles[role]
    if base & limits.ADMINISTRATOR:
        return ALL_PERMISSIONS
    by_id = {int(o["id"]): o for o in overwrites}

    def apply(value: int, allow: int, deny: int) -> int:
        return (value & ~deny) | allow

    everyone = by_id.get(guild_id)
    if everyone is not None:
        base = apply(base, int(everyone["allow"]), int(everyone["deny"]))
    allow = deny = 0
    for role in mine:
        overwrite = by_id.get(role)
        if overwrite is not None and int(overwrite.get("type", 0)) == 0:
            allow |= int(overwrite["allow"])
            deny |= int(overwrite["deny"])
    base = apply(base, allow, deny)
    member = by_id.get(user_id)
    if member is not None and int(member.get("type", 1)) == 1:
        base = apply(base, int(member["allow"]), int(member["deny"]))
    return base


def _fix_for(kind: ChannelKind, missing: list[str], where: str) -> str:
    return (
        f"give the bot {', '.join(missing)} in {where} (channel settings → Permissions → add "
        f"the bot or its role); a {kind.value} channel needs "
        f"{', '.join(limits.PERMISSION_NAMES[b] for b in limits.CHANNEL_PERMISSIONS[kind.value])}"
        ", then run /digest resume there if its digest was paused"
    )


class _Doctor:
    """The checks, run in order against one logged-in (not connected) client."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.checks: list[Check] = []

    def add(self, name: str, ok: bool, detail: str, fix: str = "") -> None:
        self.checks.append(Check(name, ok, detail, fix))

    async def run(self) -> list[Check]:
        subscriptions = await self.database()
        await self.discord(subscriptions)
        self.briefs()
        self.index()
        self.watcher()
        return self.checks

    async def postgres(self, url: str) -> list[Subscription] | None:
        """Reachable and migrated (not migrating it); the subscriptions, or None."""
        from bot.store.pg_schema import SCHEMA_VERSION as PG_VERSION
        from bot.store.postgres import PostgresStore, describe_url

        where = f"PostgreSQL at {describe_url(url)}"
        try:
            store = await PostgresStore.open(url, migrate=False)
        except StoreError as exc:
            self.add("database", False, str(exc), "check BRIEFBOT_DATABASE and the server")
            return None
        async with store:
            version = await store.schema_version()
            if version != PG_VERSION:
                self.add(
                    "database",
                    False,
                    f"{where} is at schema version {version}; this briefbot uses {PG_VERSION}",
                    "upgrade briefbot (the database was written by a newer one)"
                    if version > PG_VERSION
                    else "run briefbot run once: it migrates the database at start",
                )
                return None
            subscriptions = await store.list_all()
        self.add(
            "database",
            True,
            f"{where} reachable, schema version {version} (current), "
            f"{len(subscriptions)} subscription(s)",
        )
        return subscriptions

    async def database(self) -> list[Subscription] | None:
        """Reachable and migrated; the subscriptions, or None when they cannot be read."""
        if is_postgres(self.settings.database):
            return await self.postgres(str(self.settings.database))
        path = sqlite_path(self.settings.database)
        if not path.exists():
            self.add(
                "database",
                True,
                f"{path} does not exist yet: briefbot run creates it (no subscriptions)",
            )
            return []
        try:
            version = await read_schema_version(path)
        except Exception as exc:  # noqa: BLE001 - any failure to read it is the finding
            self.add(
                "database",
                False,
                f"{path} cannot be read: {exc}",
                "check the file's owner and permissions, and that BRIEFBOT_DATABASE names "
                "a briefbot database",
            )
            return None
        if version != SCHEMA_VERSION:
            newer = version > SCHEMA_VERSION
            self.add(
                "database",
                False,
                f"{path} is at schema version {version}; this briefbot uses {SCHEMA_VERSION}",
                "upgrade briefbot (the database was written by a newer one)"
                if newer
                else "run briefbot run once: it migrates the database at start",
            )
            return None
        async with await Store.open(path) as store:
            subscriptions = await store.list_all()
        self.add(
            "database",
            True,
            f"{path} reachable, schema version {version} (current), "
            f"{len(subscriptions)} subscription(s)",
        )
        return subscriptions

    async def discord(self, subscriptions: list[Subscription] | None) -> None:
        token = self.settings.token
        if not token:
            self.add(
                "token",
                False,
                "no Discord token",
                "set DISCORD_TOKEN in the environment or in .env (README: Run it on Discord)",
            )
            return
        # The real bot with its real commands, logged in over HTTP only: no gateway, no sync.
        library = LiveLibrary(self.settings.briefs_dir, self._index())
        async with (
            await Store.open(":memory:") as scratch,
            _bot(self.settings, library, scratch) as bot,
        ):
            try:
                await bot.login(token)
            except aiohttp.ClientConnectionError as exc:  # no network, DNS, a firewall
                self.add(
                    "token",
                    False,
                    f"cannot reach Discord ({_connection_target(exc)})",
                    "check the network, DNS, a proxy or firewall, then run briefbot doctor again",
                )
                return
            except discord.LoginFailure:
                self.add(
                    "token",
                    False,
                    "Discord rejected the token (401 on GET /users/@me)",
                    "reset the token (Developer Portal → your application → Bot → Reset Token) "
                    "and put the new one in DISCORD_TOKEN",
                )
                return
            except discord.HTTPException as exc:
                self.add("token", False, f"Discord answered {exc.status}: {exc.text}", "retry")
                return
            assert bot.user is not None
            self.add("token", True, f"logged in as {bot.user} (id {bot.user.id})")
            await self.commands(bot)
            if subscriptions is not None:
                await self.permissions(bot, subscriptions)

    async def commands(self, bot: BriefBot) -> None:
        tree = bot.tree
        local = {c.name: c.to_dict(tree) for c in tree.get_commands()}
        guild_id = self.settings.dev_guild_id
        where = f"the dev guild {guild_id}" if guild_id else "globally"
        try:
            fetched = await tree.fetch_commands(
                guild=discord.Object(guild_id) if guild_id else None
            )
        except discord.HTTPException as exc:
            self.add(
                "commands",
                False,
                f"cannot list the commands registered {where}: {exc.status} {exc.text}",
                "invite the bot with the applications.commands scope (its invite URL is "
                "logged by briefbot run)",
            )
            return
        registered = {c.name: c.to_dict() for c in fetched}
        missing = sorted(local.keys() - registered.keys())
        extra = sorted(registered.keys() - local.keys())
        changed = sorted(
            n
            for n in local.keys() & registered.keys()
            if _options(local[n]) != _options(registered[n])
        )
        fix = (
            "restart briefbot run (it syncs the dev guild at start)"
            if guild_id
            else "run briefbot sync (global commands may take an hour to show)"
        )
        if missing or extra or changed:
            parts = []
            if missing:
                parts.append("not registered: " + ", ".join(f"/{n}" for n in missing))
            if changed:
                parts.append("out of date: " + ", ".join(f"/{n}" for n in changed))
            if extra:
                parts.append("registered but unknown: " + ", ".join(f"/{n}" for n in extra))
            self.add("commands", False, f"commands {where}: " + "; ".join(parts), fix)
        else:
            self.add("commands", True, f"{len(local)} commands synced {where}")

    async def permissions(self, bot: BriefBot, subscriptions: list[Subscription]) -> None:
        assert bot.user is not None
        if not subscriptions:
            self.add("permissions", True, "no subscribed channels to check")
            return
        http = bot.http
        guilds: dict[int, tuple[dict[int, int], int, list[int]] | None] = {}
        problems: list[tuple[str, str]] = []
        for sub in subscriptions:
            where = f"channel {sub.channel_id}"
            try:
                channel: dict[str, Any] = dict(await http.get_channel(sub.channel_id))
                where = f"#{channel.get('name', sub.channel_id)} ({sub.channel_id})"
                parent = channel
                if sub.kind is ChannelKind.THREAD and channel.get("parent_id"):
                    parent = dict(await http.get_channel(int(channel["parent_id"])))
                guild_id = int(channel.get("guild_id") or sub.guild_id)
                if guild_id not in guilds:
                    guild = await http.get_guild(guild_id)
                    member = await http.get_member(guild_id, bot.user.id)
                    roles = {int(r["id"]): int(r["permissions"]) for r in guild["roles"]}
                    guilds[guild_id] = (
                        roles,
                        int(guild["owner_id"]),
                        [int(r) for r in member["roles"]],
                    )
                known = guilds[guild_id]
                assert known is not None
                roles, owner, mine = known
            except discord.NotFound:
                problems.append(
                    (
                        f"{where}: the channel is gone (or the bot left its server)",
                        f"remove its digest with /digest unsubscribe channel:{sub.channel_id} "
                        "from another channel of that server",
                    )
                )
                continue
            except discord.Forbidden:
                problems.append(
                    (
                        f"{where}: the bot cannot see the channel (missing View Channel)",
                        _fix_for(sub.kind, ["View Channel"], where),
                    )
                )
                continue
            except (discord.HTTPException, aiohttp.ClientError) as exc:
                # One channel Discord could not answer for is one failed line, not a traceback
                # that hides every other check.
                status = getattr(exc, "status", None)
                answer = f"Discord answered {status}" if status else "Discord could not be reached"
                problems.append(
                    (
                        f"{where}: not checked ({answer})",
                        "run briefbot doctor again; if it persists, see https://discordstatus.com",
                    )
                )
                continue
            granted = channel_permissions(
                guild_id=guild_id,
                owner_id=owner,
                user_id=bot.user.id,
                roles=roles,
                member_roles=mine,
                overwrites=parent.get("permission_overwrites", []),
            )
            missing = limits.missing_permissions(sub.kind.value, granted)
            if missing:
                problems.append(
                    (f"{where} lacks {', '.join(missing)}", _fix_for(sub.kind, missing, where))
                )
        if not problems:
            self.add(
                "permissions",
                True,
                f"every permission digests need in {len(subscriptions)} channel(s)",
            )
        for detail, fix in problems:
            self.add("permissions", False, detail, fix)

    def _index(self) -> Path | None:
        """The shared index, or None (a private one) when this user cannot write it."""
        index = self.settings.index_path
        return None if index_problem(index) is not None else index

    def index(self) -> None:
        """Only a failure is listed: the index is derived data, rebuilt when deleted."""
        problem = index_problem(self.settings.index_path)
        if problem is not None:
            self.add(
                "index",
                False,
                problem,
                "run briefbot as the user that owns BRIEFBOT_DATA_DIR, or make it writable "
                "(the brief index lives there; briefbot run cannot start without it)",
            )

    def briefs(self) -> None:
        root = self.settings.briefs_dir
        library = load_library(root, self._index())
        if library.errors:
            self.add(
                "briefs",
                False,
                f"{len(library.errors)} error(s) in {root}: {library.errors[0]}"
                + (" …" if len(library.errors) > 1 else ""),
                f"run briefbot check {root} for every error (file:line: field: message) and "
                "fix the files",
            )
        elif not library.briefs:
            self.add("briefs", False, f"no briefs in {root}", "set BRIEFBOT_BRIEFS_DIR")
        else:
            self.add("briefs", True, f"{len(library.briefs)} brief(s) in {root}, no errors")

    def watcher(self) -> None:
        root, seconds = self.settings.briefs_dir, self.settings.reload_seconds
        if not root.is_dir():
            self.add(
                "watcher",
                False,
                f"{root} {'does not exist' if not root.exists() else 'is not a folder'}: "
                "no edits to watch",
                "set BRIEFBOT_BRIEFS_DIR to the folder of your briefs",
            )
            return
        if seconds <= 0:
            self.add("watcher", True, "off (BRIEFBOT_RELOAD_SECONDS=0): edits go live on /reload")
            return
        events, why = file_events(root)
        if events:
            self.add("watcher", True, f"edits to {root} go live at once: {why}")
        else:
            self.add("watcher", True, f"{root} is scanned every {seconds:g} s: {why}")


def _options(payload: Mapping[str, Any]) -> Any:
    """What must match between the tree and Discord: options, by name, type and nesting."""

    def shape(options: Any) -> Any:
        return sorted(
            (o["name"], int(o["type"]), bool(o.get("required", False)), shape(o.get("options")))
            for o in options or ()
        )

    return shape(payload.get("options"))


def _bot(settings: Settings, library: LiveLibrary, store: Store) -> BriefBot:
    return BriefBot(settings=settings, library=library, store=store, serve=False)


def render(checks: Sequence[Check]) -> str:
    """The checklist, one line per check and the fix under each failure."""
    lines = ["briefbot doctor"]
    for check in checks:
        lines.append(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
        if not check.ok and check.fix:
            lines.append(f"         fix: {check.fix}")
    failed = sum(1 for c in checks if not c.ok)
    lines.append(f"{failed} problem(s) found." if failed else "All checks passed.")
    return "\n".join(lines) + "\n"


async def diagnose(settings: Settings) -> list[Check]:
    """Every check, in order."""
    return await _Doctor(settings).run()


def doctor(settings: Settings) -> int:
    """`briefbot doctor`: print the checklist; 1 if anything failed."""
    checks = asyncio.run(diagnose(settings))
    print(render(checks), end="")
    return 0 if all(c.ok for c in checks) else 1


__all__ = ["Check", "channel_permissions", "diagnose", "doctor", "render"]
