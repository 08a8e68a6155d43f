"""The Discord bot: its class, its command tree, and the `run` and `sync` entry points."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.poster import DiscordPoster
from bot.adapters.discord.respond import send_text
from bot.adapters.discord.review import REVIEW_ITEMS
from bot.briefs.reloader import LiveLibrary
from bot.clock import Clock, SystemClock
from bot.digest.scheduler import DigestScheduler
from bot.ingest.fetch import Fetcher
from bot.review.service import LibraryHandle, ReviewConfig, ReviewService
from bot.settings import Settings
from bot.store.sqlite import Store

log = logging.getLogger(__name__)

# Loaded in this order by setup_hook; explicit so a stray file is never loaded by accident.
EXTENSIONS: tuple[str, ...] = (
    "bot.commands.briefs",
    "bot.commands.admin",
)
# Loaded only when the bot has a store.
DIGEST_EXTENSION = "bot.commands.digest"
REVIEW_EXTENSION = "bot.commands.brief"
# How often drafts past their expiry are deleted (a press on one refuses it at any time).
EXPIRY_SWEEP_SECONDS = 3600.0

# What the bot needs in a channel: see it, post, and post embeds (for digests).
PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
SCOPES = ("bot", "applications.commands")


class BriefTree(app_commands.CommandTree["BriefBot"]):
    """One error handler for every command: log it, tell the user privately, never go silent."""

    async def on_error(
        self, interaction: discord.Interaction[BriefBot], error: app_commands.AppCommandError
    ) -> None:
        """Answer ephemerally whether or not the interaction was already answered."""
        command = interaction.command.qualified_name if interaction.command else "?"
        if isinstance(error, app_commands.MissingPermissions):
            perms = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
            message = f"You need the {perms} permission to use /{command}."
        elif isinstance(error, app_commands.NoPrivateMessage):
            message = f"/{command} works only in a server channel."
        elif isinstance(error, app_commands.CheckFailure):
            message = f"You cannot use /{command} here."
        elif isinstance(error, app_commands.TransformerError):
            message = f"That value is not valid for /{command}: {error.value!r}."
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
        self.review: ReviewService | None = None
        self._extensions = tuple(extensions)
        self._background: list[asyncio.Task[None]] = []

    async def setup_hook(self) -> None:
        """Load extensions, sync the dev guild, start watching briefs and the digest scheduler."""
        extensions = self._extensions
        if self.store is not None:
            live = self.library
            self.scheduler = DigestScheduler(
                self.store,
                self.clock,
                lambda: live.current().briefs,
                DiscordPoster(self),
                self.settings.digest_grace,
                topic_labels=lambda: live.current().topic_names,
            )
            self.review = review_service(self.settings, self.store, live)
            extensions = (*extensions, DIGEST_EXTENSION, REVIEW_EXTENSION)
            # Review controls are persistent: a preview drawn before a restart still works.
            self.add_dynamic_items(*REVIEW_ITEMS)
            self.start_background(self._sweep_drafts())
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


async def _start(settings: Settings) -> None:
    assert settings.token is not None
    library = load_briefs(settings)
    # What startup built lives as long as the bot: keep the collector from walking it again
    # and again (a full collection over 10k briefs stalls the event loop for a second).
    gc.freeze()
    async with await Store.open(settings.database) as store:
        log.info("subscriptions database: %s", settings.database)
        async with BriefBot(settings=settings, library=library, store=store) as bot:
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
    except discord.LoginFailure:
        print("briefbot: Discord rejected the token. Check DISCORD_TOKEN (see README).")
        return 1
    except discord.PrivilegedIntentsRequired:  # pragma: no cover - we ask for none
        print("briefbot: Discord refused the intents requested.")
        return 1
    return 0


async def _sync(settings: Settings, guild_id: int | None) -> int:
    assert settings.token is not None
    library = load_briefs(settings)
    async with (
        await Store.open(settings.database) as store,
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
    except discord.LoginFailure:
        print("briefbot: Discord rejected the token. Check DISCORD_TOKEN (see README).")
        return 1
