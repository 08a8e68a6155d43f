"""The Discord bot: its class, its command tree, and the `run` and `sync` entry points."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.poster import DiscordPoster
from bot.adapters.discord.respond import send_text
from bot.briefs.reloader import LiveLibrary
from bot.clock import Clock, SystemClock
from bot.digest.scheduler import DigestScheduler
from bot.ops.health import OpsServer, OpsServerError, ReadinessCheck
from bot.ops.metrics import Metrics
from bot.settings import Settings
from bot.store import Store, open_store
from bot.store.records import StoreError, StoreUnavailable

log = logging.getLogger(__name__)

# Loaded in this order by setup_hook; explicit so a stray file is never loaded by accident.
EXTENSIONS: tuple[str, ...] = (
    "bot.commands.briefs",
    "bot.commands.admin",
)
# Loaded only when the bot has a subscription store.
DIGEST_EXTENSION = "bot.commands.digest"

# What the bot needs in a channel: see it, post, and post embeds (for digests).
PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
SCOPES = ("bot", "applications.commands")


def outcome_of(error: app_commands.AppCommandError) -> str:
    """How a failed command is counted: denied, invalid or error."""
    if isinstance(error, app_commands.CheckFailure):  # permissions, DMs, checks
        return "denied"
    if isinstance(error, app_commands.TransformerError):
        return "invalid"
    return "error"


class BriefTree(app_commands.CommandTree["BriefBot"]):
    """One error handler for every command: log it, tell the user privately, never go silent."""

    async def _call(self, interaction: discord.Interaction[BriefBot]) -> None:
        # The one place every command and autocomplete passes through (discord.py is pinned):
        # count and time them here rather than in every cog.
        started = time.perf_counter()
        outcome = "ok"
        try:
            await super()._call(interaction)
        except app_commands.AppCommandError as exc:
            outcome = outcome_of(exc)
            raise
        except Exception:
            outcome = "error"
            raise
        finally:
            self.client.observe(interaction, outcome, time.perf_counter() - started)

    async def on_error(
        self, interaction: discord.Interaction[BriefBot], error: app_commands.AppCommandError
    ) -> None:
        """Answer ephemerally whether or not the interaction was already answered."""
        command = interaction.command.qualified_name if interaction.command else "?"
        interaction.extras["outcome"] = outcome_of(error)
        if isinstance(error, app_commands.MissingPermissions):
            perms = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
            message = f"You need the {perms} permission to use /{command}."
        elif isinstance(error, app_commands.NoPrivateMessage):
            message = f"/{command} works only in a server channel."
        elif isinstance(error, app_commands.CheckFailure):
            message = f"You cannot use /{command} here."
        elif isinstance(error, app_commands.TransformerError):
            message = f"That value is not valid for /{command}: {error.value!r}."
        elif isinstance(getattr(error, "original", None), StoreUnavailable):
            log.warning("/%s: %s", command, getattr(error, "original", error))
            message = (
                f"/{command} is temporarily unavailable: the bot cannot reach its database. "
                "Please try again in a minute."
            )
        else:
            log.error("error in /%s", command, exc_info=error)
            message = (
                f"Something went wrong running /{command}. It has been logged; please try again."
            )
        try:
            await send_text(interaction, message)
        except discord.HTTPException:
            log.exception("could not tell the user about an error in /%s", command)


class BriefBot(commands.Bot):
    """briefbot on Discord; its services are handed in, never imported as globals."""

    def __init__(
        self,
        *,
        settings: Settings,
        library: LiveLibrary,
        store: Store | None = None,
        clock: Clock | None = None,
        extensions: Sequence[str] = EXTENSIONS,
        metrics: Metrics | None = None,
        **options: object,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # slash commands need no privileged intents
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=BriefTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,  # type: ignore[arg-type]
        )
        self.settings = settings
        self.library = library
        self.store = store
        self.clock = clock or SystemClock()
        self.scheduler: DigestScheduler | None = None
        self._extensions = tuple(extensions)
        self._background: list[asyncio.Task[None]] = []
        self.metrics = metrics or Metrics()
        self.ops: OpsServer | None = None

    def observe(
        self, interaction: discord.Interaction[BriefBot], outcome: str, took: float
    ) -> None:
        """Count and time one handled interaction (commands and autocomplete)."""
        data: dict[str, object] = interaction.data or {}  # type: ignore[assignment]
        command = interaction.command
        name = command.qualified_name if command else str(data.get("name", "?"))
        if interaction.type is discord.InteractionType.autocomplete:
            option = _focused(data.get("options"))
            self.metrics.autocomplete_latency.labels(name, option).observe(took)
            return
        if interaction.type is not discord.InteractionType.application_command:
            return
        # A handler that caught its own error and told the user still failed.
        outcome = interaction.extras.get("outcome", outcome)
        if outcome == "ok" and interaction.command_failed:
            outcome = "error"
        self.metrics.commands.labels(name, outcome).inc()
        self.metrics.command_latency.labels(name).observe(took)
        log.debug(
            "/%s %s in %.1f ms",
            name,
            outcome,
            took * 1000,
            extra={
                "command": name,
                "outcome": outcome,
                "latency_ms": round(took * 1000, 1),
                "guild": interaction.guild_id,
                "channel": interaction.channel_id,
            },
        )

    async def setup_hook(self) -> None:
        """Load extensions, sync the dev guild, start watching briefs and the digest scheduler."""
        await self._start_ops()
        extensions = self._extensions
        if self.store is not None:
            live = self.library
            self.scheduler = DigestScheduler(
                self.store,
                self.clock,
                lambda: live.current().briefs,
                DiscordPoster(
                    self, per_second=self.settings.send_rate, budget=self.store.reserve_send
                ),
                self.settings.digest_grace,
                topic_labels=lambda: live.current().topic_names,
                renew_every=self.settings.claim_lease / 3,
            )
            extensions = (*extensions, DIGEST_EXTENSION)
        for extension in extensions:
            await self.load_extension(extension)
        if self.settings.dev_guild_id is not None:
            guild = discord.Object(id=self.settings.dev_guild_id)
            # Guild commands update instantly: the right thing for a test server.
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to dev guild %s", len(synced), guild.id)
        if self.settings.reload_seconds > 0:
            self.start_background(self.library.watch(self.settings.reload_seconds))
        if self.scheduler is not None:
            self.start_background(self._start_scheduler())
        if self.application_id is not None:
            log.info("invite: %s", invite_url(self.application_id))

    async def _start_ops(self) -> None:
        """Expose metrics; serve them with health and readiness when an address is set."""
        live = self.library
        self.metrics.watch_library(
            lambda: len(live.current().briefs), lambda: len(live.current().errors)
        )
        self.metrics.watch_gateway(lambda: self.latency)
        if self.settings.metrics_addr is None:
            return
        self.ops = OpsServer(self.metrics, self.readiness_checks())
        await self.ops.start(*self.settings.metrics_addr)

    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        """What /readyz requires: gateway connected, database reachable, briefs loaded."""

        def gateway() -> str | None:
            if self.is_closed():
                return "closed"
            return None if self.is_ready() and self.ws is not None else "not connected yet"

        def briefs() -> str | None:
            library = self.library.current()
            if library.briefs:
                return None
            if not library.errors:
                return "no briefs loaded"
            more = f" (and {len(library.errors) - 1} more)" if len(library.errors) > 1 else ""
            return f"no briefs loaded: {library.errors[0]}{more}"

        checks: dict[str, ReadinessCheck] = {"gateway": gateway, "briefs": briefs}
        store = self.store
        if store is not None:

            async def database() -> None:
                await store.schema_version()

            checks["database"] = database
        return checks

    async def _start_scheduler(self) -> None:
        # Digests go out once the gateway is up: a post before READY would race the login.
        await self.wait_until_ready()
        assert self.scheduler is not None
        self.scheduler.start()

    def start_background(self, coro: object) -> None:
        """Run a service task for the bot's lifetime; cancelled on close."""
        self._background.append(asyncio.create_task(coro))  # type: ignore[arg-type]

    async def close(self) -> None:
        """Stop background services, then disconnect."""
        if self.scheduler is not None:
            await self.scheduler.stop()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background.clear()
        await super().close()
        if self.ops is not None:
            await self.ops.stop()


class ShardedBriefBot(BriefBot, commands.AutoShardedBot):
    """BriefBot over the gateway shards `shard_ids` of `shard_count` (several processes, one
    token); everything else is BriefBot's."""


def _focused(options: object) -> str:
    """The name of the option being typed in an autocomplete payload (subcommands nest it)."""
    if not isinstance(options, list):
        return "?"
    for option in options:
        if not isinstance(option, dict):
            continue
        if option.get("focused"):
            return str(option.get("name", "?"))
        if "options" in option:
            found = _focused(option["options"])
            if found != "?":
                return found
    return "?"


def invite_url(application_id: int) -> str:
    """The link a server admin opens to add the bot with the scopes and permissions it needs."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


NO_TOKEN = """\
briefbot: no Discord token. Set DISCORD_TOKEN in the environment or in .env
(copy .env.example to .env and fill it in; the README says how to get a token).
To try the bot without Discord, ask it offline:  briefbot ask "/quotes speaker:Dar"
"""


def load_briefs(settings: Settings) -> LiveLibrary:
    """The live library, with every brief error logged."""
    library = LiveLibrary(settings.briefs_dir, cache=settings.brief_cache)
    for error in library.current().errors:
        log.warning("brief error: %s", error)
    log.info("%d briefs loaded from %s", len(library.current().briefs), settings.briefs_dir)
    return library


def make_bot(
    settings: Settings, library: LiveLibrary, store: Store | None, clock: Clock | None = None
) -> BriefBot:
    """BriefBot; sharded over `settings.shard_ids` of `settings.shard_count` when given."""
    if settings.shard_count is None:
        return BriefBot(settings=settings, library=library, store=store, clock=clock)
    ids = list(settings.shard_ids) if settings.shard_ids is not None else None
    return ShardedBriefBot(
        settings=settings,
        library=library,
        store=store,
        shard_count=settings.shard_count,
        shard_ids=ids,
        clock=clock,
    )


async def _start(settings: Settings) -> None:
    assert settings.token is not None
    # The database first: a start-up problem with it is one line, before Discord is touched.
    store = await open_store(settings.database, lease=settings.claim_lease)
    async with store:
        log.info("subscriptions database: %s", store.where)
        library = load_briefs(settings)
        # What startup built lives as long as the bot: keep the collector from walking it again
        # and again (a full collection over 10k briefs stalls the event loop for a second).
        gc.freeze()
        if settings.shard_count is not None:
            log.info(
                "running shards %s of %d",
                ",".join(map(str, settings.shard_ids or range(settings.shard_count))),
                settings.shard_count,
            )
        async with make_bot(settings, library, store) as bot:
            await bot.start(settings.token)


def run(settings: Settings) -> int:
    """`briefbot run`: connect and serve until Ctrl-C."""
    if not settings.token:
        print(NO_TOKEN, end="")
        return 2
    try:
        asyncio.run(_start(settings))
    except KeyboardInterrupt:
        log.info("stopped")
    except StoreError as exc:
        print(f"briefbot: {exc}")
        return 1
    except discord.LoginFailure:
        print("briefbot: Discord rejected the token. Check DISCORD_TOKEN (see README).")
        return 1
    except OpsServerError as exc:
        print(f"briefbot: {exc}")
        return 1
    except discord.PrivilegedIntentsRequired:  # pragma: no cover - we ask for none
        print("briefbot: Discord refused the intents requested.")
        return 1
    return 0


async def _sync(settings: Settings, guild_id: int | None) -> int:
    assert settings.token is not None
    library = load_briefs(settings)
    async with (
        await open_store(settings.database, lease=settings.claim_lease) as store,
        BriefBot(settings=settings, library=library, store=store) as bot,
    ):
        await bot.login(settings.token)  # runs setup_hook, which loads the extensions
        if guild_id is None:
            synced = await bot.tree.sync()
            print(f"synced {len(synced)} global commands (may take up to an hour to appear)")
        else:
            guild = discord.Object(id=guild_id)
            bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
            print(f"synced {len(synced)} commands to guild {guild_id}")
    return 0


def sync(settings: Settings, guild_id: int | None) -> int:
    """`briefbot sync`: publish the slash commands, globally unless a guild is given."""
    if not settings.token:
        print(NO_TOKEN, end="")
        return 2
    try:
        return asyncio.run(_sync(settings, guild_id))
    except StoreError as exc:
        print(f"briefbot: {exc}")
        return 1
    except discord.LoginFailure:
        print("briefbot: Discord rejected the token. Check DISCORD_TOKEN (see README).")
        return 1
