"""The review service: one method per thing an editor does to a draft.

Every method takes the acting member and checks, each time, that they may do it: a button
pressed days after the preview was drawn is judged by who presses it now. Drafts live in the
store, so every control works after a restart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.briefs.fuzzy import Fuzzy
from bot.briefs.library import Library
from bot.briefs.models import ID_PATTERN
from bot.ingest.fetch import Fetcher
from bot.reply import Item, Reply, Section, Status
from bot.review import article as articles
from bot.review import publish as files
from bot.review.drafting import Drafter, dump, ingest_drafter
from bot.review.preview import Preview, build, speakers_of
from bot.store.records import (
    AuditAction,
    AuditEntry,
    Draft,
    DraftOrigin,
    DraftState,
    GuildSettings,
    NewDraft,
)
from bot.store.sqlite import Store
from bot.text import clip, fold

log = logging.getLogger(__name__)

# An unnamed speaker's description: the brief format's short text.
DESCRIPTION_LIMIT = 300

# A publish that has not finished after this long was interrupted (the process died).
STALE_PUBLISH = dt.timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Member:
    """Who is acting, as Discord describes them at the moment they act."""

    user_id: int
    guild_id: int | None
    role_ids: frozenset[int] = frozenset()
    manage_guild: bool = False


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    """The review settings from the environment (a guild's own settings override the first two)."""

    briefs_dir: Path
    editor_role_id: int | None = None
    review_channel_id: int | None = None
    # Guilds whose editors may publish (the library is shared by all); None: see `may_publish`.
    editor_guild_ids: frozenset[int] | None = None
    dev_guild_id: int | None = None
    draft_lifetime: dt.timedelta = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to tell the member, and what became of the preview."""

    reply: Reply
    preview: Preview | None = None  # redraw the preview with this
    closed: bool = False  # the draft is published or gone: retire the preview's controls
    confirm_replace: int | None = None  # offer a Replace button for this draft
    # (channel id, message id) of the draft's previews, to retire when it is closed.
    retire: tuple[tuple[int, int], ...] = ()
    # Tell staff: (channel id, message), posted with no mentions.
    notice: tuple[int, Reply] | None = None


class LibraryHandle:
    """What the service needs of the live library: the current snapshot and a reload now."""

    def __init__(self, current: Callable[[], Library], reload: Callable[[], Any]) -> None:
        self.current = current
        self.reload = reload


def _refusal(text: str, title: str = "Not allowed", roles: tuple[int, ...] = ()) -> Reply:
    return Reply(title, Status.INVALID, description=text, private=True, roles=roles)


def who_may_edit(role_id: int | None, action: str) -> str:
    """The refusal for a non-editor: the editor role that would allow `action`, or how an
    admin names one."""
    if role_id is not None:
        # A role mention shows the role's name to whoever reads it; allowed_mentions pings nobody.
        return (
            f"You need the Manage Server permission or the editor role <@&{role_id}> to {action}."
        )
    return (
        f"You need the Manage Server permission to {action}: this server has no editor role "
        "yet. Someone with Manage Server can name one with /brief settings editor_role:@Role."
    )


def _when(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class ReviewService:
    """Draft, fix, publish and discard briefs; every rule of who may do what lives here."""

    store: Store
    library: LibraryHandle
    config: ReviewConfig
    fetcher: Callable[[], AbstractAsyncContextManager[Fetcher]]
    drafter: Drafter = ingest_drafter
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)

    # ------------------------------------------------------------------ who may do what

    async def settings_for(self, guild_id: int) -> GuildSettings:
        """The guild's settings with the environment's defaults filled in."""
        own = await self.store.guild_settings(guild_id)
        return replace(
            own,
            editor_role_id=own.editor_role_id or self.config.editor_role_id,
            review_channel_id=own.review_channel_id or self.config.review_channel_id,
        )

    def may_publish_from(self, guild_id: int) -> bool:
        """Whether this guild's editors publish to the shared library."""
        allowed = self.config.editor_guild_ids
        if allowed is None and self.config.dev_guild_id is not None:
            allowed = frozenset({self.config.dev_guild_id})
        return allowed is None or guild_id in allowed

    async def refuse(self, member: Member) -> Reply | None:
        """Why this member may not edit briefs here, or None when they may."""
        if member.guild_id is None:
            return _refusal("Drafting and publishing briefs works only in a server.")
        if not self.may_publish_from(member.guild_id):
            return _refusal(
                "Briefs are published from the editors' server only; this server is not "
                "in BRIEFBOT_EDITOR_GUILD_IDS."
            )
        if member.manage_guild:
            return None
        role = (await self.settings_for(member.guild_id)).editor_role_id
        if role is not None and role in member.role_ids:
            return None
        return _refusal(
            who_may_edit(role, "draft, review or publish briefs"),
            roles=(role,) if role is not None else (),
        )

    async def review_channel(self, guild_id: int) -> int | None:
        """Where previews are posted for every editor to see (None: privately to the requester)."""
        return (await self.settings_for(guild_id)).review_channel_id

    # ------------------------------------------------------------------ drafting

    async def draft_upload(self, member: Member, url: str, filename: str, size: int) -> Outcome:
        """Download an attached article and draft a brief from it."""
        refused = await self.refuse(member)
        if refused is not None:
            return Outcome(refused)
        try:
            articles.kind_of(filename)
            articles.check_size(filename, size)  # before a byte is downloaded
            async with self.fetcher() as fetcher:
                article = await articles.download(fetcher, url, filename, size)
        except articles.ArticleError as exc:
            return Outcome(_refusal(str(exc), "Cannot draft from that file"))
        return await self._draft(member, article, DraftOrigin.UPLOAD)

    async def draft_paste(self, member: Member, headline: str, text: str) -> Outcome:
        """Draft a brief from a pasted headline and text."""
        refused = await self.refuse(member)
        if refused is not None:
            return Outcome(refused)
        try:
            article = articles.from_paste(headline, text)
        except articles.ArticleError as exc:
            return Outcome(_refusal(str(exc), "Cannot draft from that text"))
        return await self._draft(member, article, DraftOrigin.PASTE)

    async def _draft(
        self, member: Member, article: articles.Article, origin: DraftOrigin
    ) -> Outcome:
        assert member.guild_id is not None
        library = self.library.current()
        drafted = await asyncio.to_thread(self.drafter, article, library.vocabulary, None)
        draft = await self.store.create_draft(
            NewDraft(
                guild_id=member.guild_id,
                requester_id=member.user_id,
                brief_id=drafted.brief_id,
                brief_yaml=drafted.yaml,
                source_text=article.text,
                origin=origin,
                origin_name=article.name if origin is DraftOrigin.UPLOAD else None,
                notes=drafted.notes,
            ),
            self.config.draft_lifetime,
        )
        log.info("draft %d (%s) made by %d", draft.id, draft.brief_id, member.user_id)
        preview = await self._preview(draft)
        return Outcome(preview.reply, preview)

    async def queue_draft(self, new: NewDraft) -> Preview:
        """Store a draft made without a member at hand (a feed's story) and draw its preview."""
        draft = await self.store.create_draft(new, self.config.draft_lifetime)
        log.info("draft %d (%s) queued from %s", draft.id, draft.brief_id, new.origin.value)
        return await self._preview(draft)

    async def notices_channel(self, guild_id: int) -> int | None:
        """Where staff are told things: the notices channel, else the review channel."""
        settings = await self.settings_for(guild_id)
        return settings.notices_channel_id or settings.review_channel_id

    async def _preview(self, draft: Draft) -> Preview:
        library = self.library.current()
        checked = await asyncio.to_thread(
            files.check, self.config.briefs_dir, draft.brief_id, draft.brief_yaml, draft.source_text
        )
        return build(draft, _data(draft), checked, dict(library.topic_names))

    # ------------------------------------------------------------------ controls

    async def _open(self, member: Member, draft_id: int) -> Draft | Outcome:
        """The draft under review, or the outcome that says why it is not (and who did what)."""
        refused = await self.refuse(member)
        if refused is not None:
            return Outcome(refused)
        await self.store.expire_drafts()
        draft = await self.store.get_draft(draft_id)
        if draft is not None and draft.guild_id != member.guild_id:
            draft = None
        if draft is not None and draft.state is DraftState.DRAFT:
            return draft
        return Outcome(await self._gone(draft_id, draft), closed=True)

    async def _gone(self, draft_id: int, draft: Draft | None) -> Reply:
        """Why a draft can no longer be changed."""
        if draft is not None and draft.state is DraftState.PUBLISHING:
            return _refusal(
                f"Draft #{draft_id} is being published by user {draft.state_by} right now.",
                "Already being published",
            )
        if draft is not None and draft.state is DraftState.PUBLISHED:
            when = f" on {_when(draft.state_at)}" if draft.state_at else ""
            return _refusal(
                f"Draft #{draft_id} was already published as {draft.brief_id} by "
                f"user {draft.state_by}{when}.",
                "Already published",
            )
        history = await self.store.audit_of_draft(draft_id)
        last = history[-1] if history else None
        if last is not None and last.action is AuditAction.DISCARDED:
            text = f"Draft #{draft_id} was discarded by user {last.user_id} on {_when(last.at)}."
        elif last is not None and last.action is AuditAction.EXPIRED:
            text = (
                f"Draft #{draft_id} expired on {_when(last.at)} and was deleted. "
                "Draft the article again with /brief draft."
            )
        else:
            text = f"There is no draft #{draft_id} in this server."
        return _refusal(text, "Draft no longer open")

    async def show(self, member: Member, draft_id: int) -> Outcome:
        """Draw a draft's preview again."""
        found = await self._open(member, draft_id)
        if isinstance(found, Outcome):
            return found
        preview = await self._preview(found)
        return Outcome(preview.reply, preview)

    async def fix_speaker(self, member: Member, draft_id: int, quote: int, key: str) -> Outcome:
        """Give a quote a speaker the select offered; check it again and redraw the preview."""
        return await self._set_speaker(member, draft_id, quote, key, None)

    async def fix_unnamed(
        self, member: Member, draft_id: int, quote: int, description: str
    ) -> Outcome:
        """Make a quote's speaker unnamed, as the source describes them; check and redraw."""
        return await self._set_speaker(member, draft_id, quote, None, description)

    async def _set_speaker(
        self, member: Member, draft_id: int, quote: int, key: str | None, description: str | None
    ) -> Outcome:
        async with self._lock(draft_id):
            found = await self._open(member, draft_id)
            if isinstance(found, Outcome):
                return found
            data = _data(found)
            quotes = data.get("quotes") or []
            ref: str | dict[str, str] | None = None
            if description is not None:
                problem = _bad_description(description)
                if problem is not None:
                    return Outcome(
                        _refusal(problem, "Not a speaker description"), await self._preview(found)
                    )
                ref = {"unnamed": " ".join(description.split())}
            else:
                chosen = [c for c in speakers_of(data) if c.key == key and c.ref is not None]
                ref = chosen[0].ref if chosen else None
            if not 0 <= quote < len(quotes) or not isinstance(quotes[quote], dict) or ref is None:
                return Outcome(
                    _refusal("That choice no longer matches the draft; here it is as it is now."),
                    await self._preview(found),
                )
            quotes[quote]["speaker"] = ref
            notes = tuple(n for n in found.notes if n.quote != quote)
            updated = await self.store.update_draft(found.id, dump(data), notes)
            if updated is None:
                return Outcome(await self._gone(draft_id, await self.store.get_draft(draft_id)))
            log.info("draft %d: quote %d → %s by %d", draft_id, quote, ref, member.user_id)
            preview = await self._preview(updated)
            return Outcome(preview.reply, preview)

    async def publish(self, member: Member, draft_id: int, *, replace: bool = False) -> Outcome:
        """Validate, claim, write and reload: exactly one publish of a draft, ever."""
        found = await self._open(member, draft_id)
        if isinstance(found, Outcome):
            return found
        root = self.config.briefs_dir
        checked = await asyncio.to_thread(
            files.check, root, found.brief_id, found.brief_yaml, found.source_text
        )
        if not checked.ok:
            preview = build(found, _data(found), checked, dict(self.library.current().topic_names))
            return Outcome(
                _refusal(
                    "This draft fails `briefbot check` and was not published:\n"
                    + "\n".join(f"• {clip(e, 300)}" for e in checked.errors[:10]),
                    "Not published",
                ),
                preview,
            )
        # Whether the id is taken is asked after the claim (in `write`): a loser of a race
        # then hears that the draft is published, not that a brief would be replaced.
        return await self._write(member, found, replace=replace)

    async def _write(self, member: Member, found: Draft, *, replace: bool) -> Outcome:
        """Claim the draft, write its files, record and reload; or say why not."""
        draft_id, root = found.id, self.config.briefs_dir
        claimed = await self.store.claim_publish(found.id, member.user_id, STALE_PUBLISH)
        if claimed is None:
            return Outcome(
                await self._gone(draft_id, await self.store.get_draft(draft_id)), closed=True
            )
        try:
            await asyncio.to_thread(
                files.write,
                root,
                claimed.brief_id,
                claimed.brief_yaml,
                claimed.source_text,
                replace=replace,
            )
        except files.PublishError as exc:
            await self.store.release_publish(found.id, member.user_id)
            if isinstance(exc, files.AlreadyExists):
                return Outcome(
                    _refusal(
                        f"A brief with id {found.brief_id} is already published. Publishing this "
                        "draft would replace it (its file and source text). Press Replace to "
                        "do so.",
                        "Replace the published brief?",
                    ),
                    confirm_replace=found.id,
                )
            return Outcome(
                _refusal(f"Not published: {exc}. The draft is unchanged.", "Not published")
            )
        action = AuditAction.REPLACED if replace else AuditAction.PUBLISHED
        entry = await self.store.finish_publish(found.id, member.user_id, action)
        # Now, not after the watch interval: /briefs, /quotes and the next digest see it at once.
        await self.library.reload()
        log.info("draft %d published as %s by %d", found.id, claimed.brief_id, member.user_id)
        verb = "Replaced" if replace else "Published"
        return Outcome(
            Reply(
                f"{verb} {claimed.brief_id}",
                description=(
                    f"{verb} by user {member.user_id}"
                    + (f" on {_when(entry.at)}" if entry else "")
                    + f". It is live: /summary brief:{claimed.brief_id}"
                ),
            ),
            closed=True,
            retire=claimed.previews,
            notice=await self._notice(claimed, member, action, entry),
        )

    async def _notice(
        self, draft: Draft, member: Member, action: AuditAction, entry: AuditEntry | None
    ) -> tuple[int, Reply] | None:
        """What staff are told of a publish, and where: the notices (else review) channel."""
        settings = await self.settings_for(draft.guild_id)
        channel = settings.notices_channel_id or settings.review_channel_id
        if channel is None:
            return None
        title = _data(draft).get("title") or draft.brief_id
        replaced = action is AuditAction.REPLACED
        what = "replaced the published brief with" if replaced else "published"
        when = f" on {_when(entry.at)}" if entry else ""
        reply = Reply(
            f"Brief {'replaced' if replaced else 'published'}: {draft.brief_id}",
            description=(
                f"User {member.user_id} {what} draft #{draft.id} ({clip(str(title), 200)}){when}. "
                f"See it with /summary brief:{draft.brief_id}"
            ),
        )
        return channel, reply

    async def discard(self, member: Member, draft_id: int) -> Outcome:
        """Delete a draft under review."""
        found = await self._open(member, draft_id)
        if isinstance(found, Outcome):
            return found
        entry = await self.store.discard_draft(found.id, member.user_id)
        if entry is None:
            return Outcome(
                await self._gone(draft_id, await self.store.get_draft(draft_id)), closed=True
            )
        return Outcome(
            Reply(
                "Draft discarded", description=f"Draft #{draft_id} ({found.brief_id}) was deleted."
            ),
            closed=True,
            retire=found.previews,
        )

    async def my_drafts(self, member: Member) -> tuple[Reply, list[Preview]]:
        """The member's open drafts: a list, and each one's preview to reopen."""
        refused = await self.refuse(member)
        if refused is not None:
            return refused, []
        assert member.guild_id is not None
        await self.store.expire_drafts()
        drafts = await self.store.drafts_of(member.guild_id, member.user_id)
        if not drafts:
            return Reply(
                "Your drafts",
                Status.NOT_FOUND,
                description="You have no open drafts here. Start one with /brief draft.",
                private=True,
            ), []
        items = tuple(
            Item(f"expires {_when(d.expires_at)}", f"#{d.id} {d.brief_id}", d.origin.value)
            for d in drafts
        )
        previews = [await self._preview(d) for d in drafts[:5]]
        reply = Reply(
            f"Your drafts ({len(drafts)})",
            sections=(Section("Open drafts, newest first", items),),
            footer="Their previews follow" + (" (the 5 newest)" if len(drafts) > 5 else ""),
            private=True,
        )
        return reply, previews

    async def update_settings(
        self,
        member: Member,
        *,
        editor_role_id: int | None = None,
        review_channel_id: int | None = None,
        notices_channel_id: int | None = None,
    ) -> Reply:
        """Set a guild's editor role, review and notices channels (Manage Server only)."""
        if member.guild_id is None or not member.manage_guild:
            return _refusal("Only members with the Manage Server permission can change settings.")
        own = await self.store.guild_settings(member.guild_id)
        saved = await self.store.save_guild_settings(
            replace(
                own,
                editor_role_id=editor_role_id or own.editor_role_id,
                review_channel_id=review_channel_id or own.review_channel_id,
                notices_channel_id=notices_channel_id or own.notices_channel_id,
            )
        )
        return settings_reply(saved, self.config)

    async def show_settings(self, member: Member) -> Reply:
        """The guild's review settings."""
        if member.guild_id is None:
            return _refusal("Settings belong to a server.")
        return settings_reply(await self.store.guild_settings(member.guild_id), self.config)

    def lock_for(self, draft_id: int) -> asyncio.Lock:
        """One edit of a draft at a time in this process (the store settles races between them)."""
        return self._lock(draft_id)

    def _lock(self, draft_id: int) -> asyncio.Lock:
        return self._locks.setdefault(draft_id, asyncio.Lock())


def _bad_description(text: str) -> str | None:
    """Why a typed description cannot be an unnamed speaker, or None when it can."""
    words = " ".join(text.split())
    if not words:
        return "Describe the speaker as the source does, e.g. “a spokesman for the ministry”."
    if len(words) > DESCRIPTION_LIMIT:
        return f"A description holds at most {DESCRIPTION_LIMIT} characters."
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in words):
        return "A description is plain text: no control characters."
    return None


def _data(draft: Draft) -> dict[str, Any]:
    data = yaml.safe_load(draft.brief_yaml)
    return data if isinstance(data, dict) else {}


def settings_reply(saved: GuildSettings, config: ReviewConfig) -> Reply:
    """The settings as a reply, saying where a default applies."""

    def show(value: int | None, default: int | None, kind: str) -> str:
        if value is not None:
            return f"role {value}" if kind == "role" else f"<#{value}>"
        if default is not None:
            return f"default from the environment ({default})"
        return "not set"

    lines = [
        f"Editor role: {show(saved.editor_role_id, config.editor_role_id, 'role')}",
        f"Review channel: {show(saved.review_channel_id, config.review_channel_id, 'channel')}",
        f"Notices channel: {show(saved.notices_channel_id, None, 'channel')}",
    ]
    return Reply("Review settings", description="\n".join(lines), private=True)


async def history(
    store: Store, brief: str | None = None, limit: int = 25, library: Library | None = None
) -> Reply:
    """The audit trail (of one brief, or all): who published, replaced or discarded what, when.

    With the library, a brief is also found by its title, and one that neither the library
    nor the trail knows gets did-you-mean suggestions from both."""
    typed = " ".join(brief.split()) if brief else ""
    found = library.find_brief(typed) if library is not None and typed else None
    brief_id = found.id if found is not None else typed or None
    if brief_id is not None and not re.fullmatch(ID_PATTERN, brief_id):
        return await _no_such_brief(store, typed, library)
    entries = await store.audit_history(brief_id, limit)
    scope = f" of {brief_id}" if brief_id else ""
    if not entries and brief_id is not None and found is None:
        return await _no_such_brief(store, typed, library)
    if not entries:
        return Reply(
            f"Brief history{scope}",
            Status.NOT_FOUND,
            description="Nothing has been published or discarded from Discord"
            + (" for this brief." if brief_id else " yet."),
        )
    return Reply(
        f"Brief history{scope}", sections=(Section("Newest first", tuple(map(_entry, entries))),)
    )


# How many audit entries the did-you-mean of /brief history looks through (newest first).
_AUDITED_SCAN = 1000
_SUGGESTIONS = 5


async def _no_such_brief(store: Store, typed: str, library: Library | None) -> Reply:
    """No brief by that name: say so, with the closest ids in the library and the trail."""
    key = fold(typed)[:100]
    trail = await store.audit_history(None, _AUDITED_SCAN)
    audited = list(dict.fromkeys(e.brief_id for e in trail))
    guesses: list[str] = []
    if library is not None and key:
        labels = library.brief_index.like(key, _SUGGESTIONS)
        guesses += [library.brief_id_for_label(label) for label in labels]
    guesses += Fuzzy(audited).close(key, _SUGGESTIONS) if key else []
    guesses = list(dict.fromkeys(guesses))[:_SUGGESTIONS]
    if guesses:
        heading, names = "Did you mean", guesses
    elif audited:
        heading, names = "Recently published or discarded", audited[:_SUGGESTIONS]
    else:
        heading = "Latest briefs"
        names = [h.id for h, _, _ in library.heads(0, _SUGGESTIONS)] if library else []
    return Reply(
        "Brief not found",
        Status.NOT_FOUND,
        description=f"No brief is called {clip(typed, 80)!r}, and nothing by that id has been "
        "published, replaced or discarded from Discord.",
        sections=(Section(heading, tuple(Item(n) for n in names)),) if names else (),
        suggestions=tuple(names),
        private=True,
    )


def _entry(entry: AuditEntry) -> Item:
    sha = f" · source sha256 {entry.source_sha256[:12]}…" if entry.source_sha256 else ""
    draft = f" · draft #{entry.draft_id}" if entry.draft_id is not None else ""
    return Item(
        f"{entry.action.value} by user {entry.user_id} on {_when(entry.at)}",
        entry.brief_id,
        f"{draft.removeprefix(' · ')}{sha}".strip(" ·") or None,
    )
