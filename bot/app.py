"""The Discord bot: its class, its command tree, and the `run` and `sync` entry points."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gc
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot import limits
from bot.adapters.discord.feeds import review_queue
from bot.adapters.discord.poster import (
    DiscordPoster,
    digest_rate_limit_trace,
)
from bot.adapters.discord.respond import Refused, send_text
from bot.adapters.discord.review import REVIEW_ITEMS
from bot.briefs.index import IndexBusy, IndexDamaged
from bot.briefs.reloader import LiveLibrary
from bot.clock import Clock, SystemClock
from bot.digest.scheduler import BriefsNotReady, DigestScheduler, SharedPacer
from bot.feeds.draft import EngineDrafter
from bot.feeds.loop import FeedLoop
from bot.feeds.poller import FeedPoller
from bot.feeds.queue import PublishedLinks
from bot.feeds.service import VET_SECONDS, FeedService
from bot.ingest.fetch import Fetcher
from bot.ops.about import AboutFacts, LastPass, about_reply, version
from bot.ops.health import OpsServer, OpsServerError, ReadinessCheck
from bot.ops.metrics import Metrics
from bot.ops.paths import briefs_folder_problem, index_problem
from bot.reply import Reply
from bot.review.service import LibraryHandle, ReviewConfig, ReviewService
from bot.settings import Settings
from bot.store import open_store
from bot.store.records import StoreError, StoreUnavailable
from bot.store.sqlite import Store
from bot.store.timing import instrument

log = logging.getLogger(__name__)

# Loaded in this order by setup_hook; explicit so a stray file is never loaded by accident.
EXTENSIONS: tuple[str, ...] = (
    "bot.commands.briefs",
    "bot.commands.admin",
)
# Loaded only when the bot has a store.
DIGEST_EXTENSION = "bot.commands.digest"
FEEDS_EXTENSION = "bot.commands.feeds"
REVIEW_EXTENSION = "bot.commands.brief"
# How often drafts past their expiry are deleted (a press on one refuses it at any time).
EXPIRY_SWEEP_SECONDS = 3600.0

# What the bot needs in every kind of channel a digest goes to (bot/limits.py).
PERMISSIONS = discord.Permissions(limits.invite_permissions())
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
            perms = ", ".join(limits.permission_label(p) for p in error.missing_permissions)
            message = f"You need the {perms} permission to use /{command}."
        elif isinstance(error, app_commands.NoPrivateMessage):
            message = f"/{command} works only in a server channel."
        elif isinstance(error, Refused):
            message = str(error)
        elif isinstance(error, app_commands.CheckFailure):
            message = f"You cannot use /{command} here."
        elif isinstance(error, app_commands.TransformerError):
            message = f"That value is not valid for /{command}: {error.value!r}."
        elif isinstance(getattr(error, "original", None), IndexDamaged):
            # Logged once by the rebuild; the next command is answered from the new index.
            interaction.client.library.recover_soon()
            message = (
                f"The brief index is damaged and is being rebuilt from the brief files; "
                f"please try /{command} again in a minute."
            )
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
        serve: bool = True,
        **options: object,
    ) -> None:
        """`serve=False` builds the commands at login and nothing else (`briefbot doctor`):
        no sync, no metrics server, no background task."""
        intents = discord.Intents.none()
        intents.guilds = True  # slash commands need no privileged intents
        metrics = metrics or Metrics()
        # 429s are handled inside discord.py's HTTP client; a trace counts the digests' ones.
        options.setdefault("http_trace", digest_rate_limit_trace(metrics.digest_rate_limited.inc))
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
        self.feeds: FeedService | None = None
        self.feed_loop: FeedLoop | None = None
        self._fetcher: Fetcher | None = None
        self.review: ReviewService | None = None
        self._extensions = tuple(extensions)
        self._background: list[asyncio.Task[None]] = []
        self._caught_up: asyncio.Task[None] | None = None  # the start's check of the files
        self.metrics = metrics
        self.ops: OpsServer | None = None
        self._started = time.monotonic()
        self._serve = serve
        library.on_reload = metrics.observe_reload
        if store is not None:
            instrument(store, metrics.observe_db)

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
        if self._serve:
            await self._start_ops()
        extensions = self._extensions
        if self.store is not None:
            live = self.library
            # Every process on the database shares Discord's global budget through it.
            # (A rate of 0 sends unpaced: only `bench.fanout --pace 0` asks for that.)
            rate = self.settings.send_rate
            shared = SharedPacer(self.store, rate).wait if rate > 0 else None
            poster = DiscordPoster(self, per_second=rate, shared=shared)
            self.scheduler = DigestScheduler(
                self.store,
                self.clock,
                live.current,  # the index library: a digest decodes only what it shows
                poster,
                self.settings.digest_grace,
                topic_labels=lambda: live.current().topic_names,
                notifier=poster,
                events=self.metrics,
                in_step=self.briefs_in_step,
            )
            self.review = review_service(self.settings, self.store, live)
            await self._setup_feeds(self.store, self.review)
            extensions = (*extensions, DIGEST_EXTENSION, FEEDS_EXTENSION, REVIEW_EXTENSION)
            # Review controls are persistent: a preview drawn before a restart still works.
            self.add_dynamic_items(*REVIEW_ITEMS)
            self.start_background(self._sweep_drafts())
        for extension in extensions:
            await self.load_extension(extension)
        if not self._serve:
            return
        if self.settings.dev_guild_id is not None:
            guild = discord.Object(id=self.settings.dev_guild_id)
            # Guild commands update instantly: the right thing for a test server.
            self.tree.copy_global_to(guild=guild)
            try:
                synced = await self.tree.sync(guild=guild)
            except discord.HTTPException as exc:
                # A wrong id, or an invite without the commands scope: the usual first-run slips.
                invite = (
                    f"; the invite URL: {invite_url(self.application_id)}"
                    if self.application_id is not None
                    else ""
                )
                raise StartupProblem(
                    f"cannot sync the commands to the dev guild {guild.id} "
                    f"(BRIEFBOT_DEV_GUILD_ID): {exc.status} {exc.text}: check the server id, and "
                    f"that the bot was invited there with the applications.commands scope{invite}"
                ) from exc
            log.info("synced %d commands to dev guild %s", len(synced), guild.id)
        # A start that served the index as it was checks the files at once (then the watcher).
        self._caught_up = self.start_background(self.library.catch_up())
        if self.settings.reload_seconds > 0:
            self.start_background(self.library.watch(self.settings.reload_seconds))
        if self.scheduler is not None:
            self.start_background(self._start_scheduler())
        if self.feed_loop is not None:
            self.start_background(self._start_feeds())
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

    def connected(self) -> bool:
        """Whether this process's gateway connection is up (every shard's, when sharded)."""
        return self.ws is not None

    def shards_here(self) -> tuple[int, ...]:
        """The gateway shards this process runs; () when unsharded."""
        return (self.shard_id,) if self.shard_id is not None else ()

    async def about(self) -> Reply:
        """The /about reply: version, uptime, gateway, briefs, digests, database."""
        library = self.library.current()
        facts = AboutFacts(
            version=version(),
            uptime=dt.timedelta(seconds=time.monotonic() - self._started),
            briefs=len(library.briefs),
            broken=len(library.errors),
            # `where`: a PostgreSQL store is a Store too, and its `path` is no file.
            database=self.store.where if self.store is not None else None,
            gateway_latency=self.latency,
            shards=self.shard_count or 1,
            shard_ids=self.shards_here(),
        )
        if self.store is None:
            return about_reply(facts)
        subscriptions = await self.store.list_all()
        active = sum(1 for s in subscriptions if s.enabled)
        scheduler = self.scheduler
        report = scheduler.last_pass if scheduler is not None else None
        return about_reply(
            dataclasses.replace(
                facts,
                active=active,
                paused=len(subscriptions) - active,
                next_due=await scheduler.next_due() if scheduler is not None else None,
                last_pass=LastPass(
                    finished=report.finished,
                    sent=report.sent,
                    skipped=report.skipped,
                    failed=report.failed,
                    paused=report.paused,
                    rate_limited=report.rate_limited,
                )
                if report is not None
                else None,
            )
        )

    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        """What /readyz requires: gateway connected, database reachable, briefs loaded."""

        def gateway() -> str | None:
            if self.is_closed():
                return "closed"
            return None if self.is_ready() and self.connected() else "not connected yet"

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

    async def _sweep_drafts(self) -> None:
        while True:
            assert self.store is not None
            try:
                expired = await self.store.expire_drafts()
                if expired:
                    log.info("deleted %d expired drafts", expired)
            except Exception:  # the sweep must outlive a bad moment of the database
                log.exception("deleting expired drafts failed")
            await asyncio.sleep(EXPIRY_SWEEP_SECONDS)

    async def _start_scheduler(self) -> None:
        # Digests go out once the gateway is up: a post before READY would race the login.
        await self.wait_until_ready()
        assert self.scheduler is not None
        self.scheduler.start()

    async def _setup_feeds(self, store: Store, review: ReviewService) -> None:
        """The feed poller, its loop and the /feeds service (the loop starts once ready)."""
        live = self.library
        self._fetcher = await Fetcher(private_hosts=self.settings.fetch_private_hosts).__aenter__()
        drafter = EngineDrafter(
            lambda: live.current().vocabulary, lambda: {b.id for b in live.current().briefs}
        )
        poller = FeedPoller(
            store,
            self._fetcher,
            review_queue(self, review),
            clock=self.clock,
            drafter=drafter,
            burst=self.settings.feed_burst,
            published_urls=PublishedLinks(live.current),
        )
        self.feed_loop = FeedLoop(poller, self.clock)

        def resolve_topic(name: str) -> str | None:
            topic = live.current().topic(name)
            return topic.id if topic is not None else None

        async def vet(url: str) -> None:
            # The poller's own fetcher (its allow-list, its resolver) judges the address now.
            await poller.fetcher.vet(url, lookup_seconds=VET_SECONDS)

        self.feeds = FeedService(
            store, resolve_topic=resolve_topic, wake=self.feed_loop.wake, vet=vet
        )

    async def _start_feeds(self) -> None:
        # Drafts are posted to the review channel: wait for the gateway, as the digest does.
        await self.wait_until_ready()
        assert self.feed_loop is not None
        await self.feed_loop.start_when_needed()

    def start_background(self, coro: object) -> asyncio.Task[None]:
        """Run a service task for the bot's lifetime; cancelled on close."""
        task: asyncio.Task[None] = asyncio.create_task(coro)  # type: ignore[arg-type]
        self._background.append(task)
        return task

    async def briefs_in_step(self) -> None:
        """Before a digest pass reads the briefs: bring this process's view in step with them."""
        # A digest (or a "nothing new" skip) from a view behind the files drops briefs
        # silently: the start's check of the files is waited for, and an index file another
        # process replaced (deleted as damaged, rebuilt) is reloaded rather than read on.
        caught_up = self._caught_up
        if caught_up is not None and not caught_up.done():
            log.info("digests wait for the check of the brief files after start")
            await asyncio.wait({caught_up})  # its failure is its own to log
        # (A file deleted and created again may get the same inode number: a view of an
        # index with no finished build is as suspect as a file replaced.)
        index = self.library.index
        why = (
            "was replaced by another process"
            if index.moved_away()
            else "holds no finished build"
            if not self.library.current().built
            else None
        )
        if why is not None:
            log.warning("brief index %s %s: reloading it before the digests", index.path, why)
            await self.library.reload()
            if not self.library.current().built:
                raise BriefsNotReady(f"the brief index {index.path} is not built yet")

    async def shutdown(self, grace: float) -> None:
        """A graceful stop: no new digest claims, in-flight sends finish (at most `grace`
        seconds), then everything closes."""
        log.info("stopping: finishing digests in flight (at most %g s)", grace)
        if self.scheduler is not None:
            await self.scheduler.drain(grace)
        await self.close()

    async def close(self) -> None:
        """Stop background services, then disconnect."""
        if self.scheduler is not None:
            await self.scheduler.stop()
            # A stop without drain() (an error, Ctrl-C) still hands the digests it has not
            # begun to send to another process (drain() has released them already: 0 here).
            released = await self.scheduler.release_unsent_claims()
            if released:
                log.info("released %d digest claims not begun", released)
        if self.feed_loop is not None:
            await self.feed_loop.stop()
        if self._fetcher is not None:
            await self._fetcher.close()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background.clear()
        await super().close()
        if self.ops is not None:
            await self.ops.stop()


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


def review_service(settings: Settings, store: Store, live: LiveLibrary) -> ReviewService:
    """The review service for these settings."""
    private_hosts = settings.fetch_private_hosts
    return ReviewService(
        store,
        LibraryHandle(live.current, live.reload),
        ReviewConfig(
            briefs_dir=settings.briefs_dir,
            editor_role_id=settings.editor_role_id,
            review_channel_id=settings.review_channel_id,
            editor_guild_ids=settings.editor_guild_ids,
            dev_guild_id=settings.dev_guild_id,
            draft_lifetime=dt.timedelta(days=settings.draft_days),
        ),
        lambda: Fetcher(private_hosts=private_hosts),
    )


def invite_url(application_id: int) -> str:
    """The link a server admin opens to add the bot with the scopes and permissions it needs."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


NO_TOKEN = (
    "no Discord token: set DISCORD_TOKEN in the environment or in .env (copy .env.example; "
    "the README says how to get a token); to try "
    'the bot without Discord, ask it offline: briefbot ask "/quotes speaker:Dar"'
)


def no_token() -> str:
    """NO_TOKEN, and which .env was read: the usual first-run slips are an unfilled copy of
    .env.example, or a start from another folder (a service without a working directory)."""
    env_file = Path(".env")  # what Settings.from_env reads
    where = env_file.absolute()
    found = f"DISCORD_TOKEN is empty in {where}" if env_file.is_file() else f"there is no {where}"
    return f"{NO_TOKEN} ({found})"


def fail(message: str, token: str | None = None) -> int:
    """Report a start-up problem as one line on stderr (the traceback only at DEBUG); exit 1."""
    line = " ".join(message.split())
    if token:
        line = line.replace(token, "***")  # the token never reaches a message
    print(f"briefbot: {line}", file=sys.stderr)
    if sys.exc_info()[0] is not None:
        log.debug("start-up failed", exc_info=True)
    return 1


class ShardedBriefBot(BriefBot, commands.AutoShardedBot):
    """BriefBot over the gateway shards `shard_ids` of `shard_count` (several processes, one
    token); everything else is BriefBot's."""

    def connected(self) -> bool:
        """Every shard this process runs is up (an AutoShardedBot has no `ws` of its own)."""
        shards = self.shards
        return bool(shards) and not any(shard.is_closed() for shard in shards.values())

    def shards_here(self) -> tuple[int, ...]:
        """The shards this process runs."""
        return tuple(sorted(self.shards)) or tuple(self.shard_ids or ())


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


def load_briefs(settings: Settings) -> LiveLibrary:
    """The live library, with every brief error logged."""
    # A typo in the setting would serve an empty library: every digest slot skipped as
    # "nothing new", the index rebuilt for the wrong folder.
    folder = briefs_folder_problem(settings.briefs_dir)
    if folder is not None:
        raise StartupProblem(folder)
    problem = index_problem(settings.index_path)
    if problem is not None:
        # The bot's index is shared with its other processes and `ask`: never a private one.
        raise StartupProblem(
            f"brief index: {problem}: make BRIEFBOT_DATA_DIR writable by the user running "
            "briefbot, or point it at a folder that is"
        )
    library = LiveLibrary(settings.briefs_dir, settings.index_path, serve_first=True)
    for error in library.current().errors:
        log.warning("brief error: %s", error)
    log.info("%d briefs loaded from %s", len(library.current().briefs), settings.briefs_dir)
    return library


async def _start(settings: Settings) -> None:
    assert settings.token is not None
    # The database first: a problem with it is found before the briefs are loaded.
    async with await open_store(
        settings.database, lease=settings.digest_lease, call_timeout=settings.db_timeout
    ) as store:
        log.info("subscriptions database: %s", store.where)
        library = load_briefs(settings)
        # What startup built lives as long as the bot: keep the collector from walking it
        # again and again (a full collection over 10k briefs stalls the event loop a second).
        gc.freeze()
        if settings.shard_count is not None:
            log.info(
                "running shards %s of %d",
                ",".join(map(str, settings.shard_ids or range(settings.shard_count))),
                settings.shard_count,
            )
        async with make_bot(settings, library, store) as bot:
            await serve(bot, settings.token, settings.stop_seconds)
    log.info("stopped")


async def serve(bot: BriefBot, token: str, stop_seconds: float) -> None:
    """Run the bot until it closes, or until SIGTERM/SIGINT, which stop it gracefully."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGTERM, signal.SIGINT)
    for number in signals:
        loop.add_signal_handler(number, stop.set)
    running = asyncio.create_task(bot.start(token), name="briefbot-gateway")
    stopping = asyncio.create_task(stop.wait(), name="briefbot-stop")
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            log.info("stop signal received")
            # A second signal while stopping is not an emergency exit: the stop is bounded.
            await bot.shutdown(stop_seconds)
        await running  # raises what ended the bot, if it was not the stop
    finally:
        stopping.cancel()
        for number in signals:
            loop.remove_signal_handler(number)


_UNREACHABLE = (
    "cannot reach Discord ({exc}). Check the network, DNS, a proxy or firewall, then run it again."
)


def _connection_target(exc: aiohttp.ClientConnectionError) -> str:
    """Which host could not be reached, and why, for a one-line error (login happens once)."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"{exc.host}:{exc.port}: {exc.os_error.strerror or exc.os_error}"
    return str(exc) or type(exc).__name__


class StartupProblem(Exception):
    """A path or setting that stops the start; the message names it and the fix."""


def run(settings: Settings) -> int:
    """`briefbot run`: connect and serve until SIGTERM or Ctrl-C, which stop it gracefully;
    a start-up problem is one line."""
    if not settings.token:
        fail(no_token())
        return 2
    try:
        asyncio.run(_start(settings))
    except KeyboardInterrupt:
        log.info("stopped")
    except Exception as exc:  # noqa: BLE001 - every start-up problem is one line, not a trace
        return fail(problem(exc), settings.token)
    return 0


def problem(exc: Exception) -> str:
    """What went wrong at start-up, in one line naming the setting or path."""
    if isinstance(exc, discord.LoginFailure):
        return "Discord rejected the token: check DISCORD_TOKEN (see README)"
    if isinstance(exc, discord.PrivilegedIntentsRequired):  # pragma: no cover - we ask for none
        return "Discord refused the intents requested"
    if isinstance(exc, (StoreError, OpsServerError, IndexBusy, StartupProblem)):
        return str(exc)
    if isinstance(exc, aiohttp.ClientConnectionError):  # before OSError: some are both
        return _UNREACHABLE.format(exc=_connection_target(exc))
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    return f"could not start: {type(exc).__name__}: {exc} (BRIEFBOT_LOG_LEVEL=DEBUG shows where)"


async def _sync(settings: Settings, guild_id: int | None) -> int:
    assert settings.token is not None
    library = load_briefs(settings)
    async with (
        await open_store(
            settings.database, lease=settings.digest_lease, call_timeout=settings.db_timeout
        ) as store,
        # serve=False: commands only. A sync next to a running bot (the same .env) must not
        # bind its metrics port, sync the dev guild as a side effect or start digests.
        BriefBot(settings=settings, library=library, store=store, serve=False) as bot,
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
        fail(no_token())
        return 2
    try:
        return asyncio.run(_sync(settings, guild_id))
    except discord.HTTPException as exc:
        where = (
            f"is the bot in server {guild_id}, invited with the applications.commands scope "
            "(briefbot run logs the invite URL)?"
            if guild_id is not None
            else "check that DISCORD_TOKEN is this application's bot token"
        )
        return fail(f"Discord refused the sync ({exc.status} {exc.text}): {where}", settings.token)
    except Exception as exc:  # noqa: BLE001 - as `run`: one line, not a trace
        return fail(problem(exc), settings.token)
