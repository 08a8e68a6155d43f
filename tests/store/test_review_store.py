"""The store's review tables on a real file: settings, drafts, the publish claim, the audit."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.store import open_store
from bot.store.records import (
    AuditAction,
    DraftOrigin,
    DraftState,
    GuildSettings,
    NewDraft,
    Uncertain,
)
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION
from bot.store.sqlite import Store, source_sha256
from tests.digest.clock import FakeClock

START = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)
WEEK = dt.timedelta(days=7)
STALE = dt.timedelta(minutes=2)
GUILD, ALICE, BOB = 111, 7, 8


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "briefbot.sqlite3"


def new_draft(requester: int = ALICE, brief_id: str = "council-budget") -> NewDraft:
    return NewDraft(
        guild_id=GUILD,
        requester_id=requester,
        brief_id=brief_id,
        brief_yaml=f"id: {brief_id}\n",
        source_text="Council approves budget\nThe mayor said “yes”.\n",
        origin=DraftOrigin.UPLOAD,
        origin_name="council.txt",
        notes=(Uncertain(0, "'he' has two candidates: A, B"),),
    )


def make_database(path: Path, version: int) -> None:
    """A database as an older briefbot left it, with a subscription in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        for number, statements in MIGRATIONS[:version]:
            for statement in statements:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        if version >= 1:
            db.execute(
                "INSERT INTO subscriptions (channel_id, guild_id, local_time, timezone, topics, "
                "created_by, updated_by, created_at, updated_at) VALUES "
                "(1, 111, '08:30', 'UTC', '[]', 7, 7, '2026-03-04T09:00:00+00:00', "
                "'2026-03-04T09:00:00+00:00')"
            )


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
async def test_every_earlier_version_migrates_to_the_review_tables(
    db_path: Path, clock: FakeClock, version: int
) -> None:
    make_database(db_path, version)
    async with await Store.open(db_path, clock=clock) as store:
        assert await store.schema_version() == SCHEMA_VERSION
        if version >= 1:
            assert await store.get(1) is not None  # earlier data kept
        draft = await store.create_draft(new_draft(), WEEK)
        assert (await store.get_draft(draft.id)) == draft
        await store.save_guild_settings(GuildSettings(GUILD, editor_role_id=5))
        assert (await store.guild_settings(GUILD)).editor_role_id == 5


async def test_settings_made_by_team_digests_survive_the_review_migration(
    db_path: Path, clock: FakeClock
) -> None:
    # Team digests (migration 3) made guild_settings; review's migration keeps what it holds.
    make_database(db_path, 4)
    with sqlite3.connect(db_path) as db:
        db.execute("INSERT INTO guild_settings (guild_id, notices_channel_id) VALUES (111, 9)")
    async with await Store.open(db_path, clock=clock) as store:
        assert (await store.guild_settings(GUILD)).notices_channel_id == 9


async def test_guild_settings_default_to_nothing_and_round_trip(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
        assert await store.guild_settings(GUILD) == GuildSettings(GUILD)
        saved = await store.save_guild_settings(GuildSettings(GUILD, 5, 6, 7))
        assert await store.guild_settings(GUILD) == saved
        assert saved.updated_at == START
        await store.save_guild_settings(GuildSettings(GUILD, None, 6, 7))
        assert (await store.guild_settings(GUILD)).editor_role_id is None
        assert await store.guild_settings(222) == GuildSettings(222)


async def test_a_draft_round_trips_with_its_source_hash_and_previews(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
        draft = await store.create_draft(new_draft(), WEEK)
        assert draft.state is DraftState.DRAFT
        assert draft.expires_at == START + WEEK
        assert draft.source_sha256 == source_sha256(draft.source_text)
        assert draft.notes == (Uncertain(0, "'he' has two candidates: A, B"),)
        await store.add_preview(draft.id, 10, 20)
        await store.add_preview(draft.id, 10, 20)
        await store.add_preview(draft.id, 11, 21)
        edited = await store.update_draft(draft.id, "id: edited\n", ())
        assert edited is not None and edited.brief_yaml == "id: edited\n" and edited.notes == ()
        assert edited.previews == ((10, 20), (11, 21))
    async with await open_store(database, clock=clock) as store:  # survives a restart
        again = await store.get_draft(draft.id)
        assert again is not None and again.brief_yaml == "id: edited\n"


async def test_drafts_of_lists_only_the_requesters_open_drafts(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
        first = await store.create_draft(new_draft(ALICE, "a"), WEEK)
        await clock.advance(dt.timedelta(minutes=1))
        second = await store.create_draft(new_draft(ALICE, "b"), WEEK)
        await store.create_draft(new_draft(BOB, "c"), WEEK)
        assert [d.id for d in await store.drafts_of(GUILD, ALICE)] == [second.id, first.id]
        await store.discard_draft(first.id, ALICE)
        assert [d.id for d in await store.drafts_of(GUILD, ALICE)] == [second.id]
        assert await store.drafts_of(999, ALICE) == []


async def test_two_editors_claiming_at_once_get_exactly_one_publish(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
        draft = await store.create_draft(new_draft(), WEEK)
        claims = await asyncio.gather(*(store.claim_publish(draft.id, u, STALE) for u in (1, 2)))
        winners = [c for c in claims if c is not None]
        assert len(winners) == 1
        winner = winners[0].state_by
        assert winner is not None
        loser = 2 if winner == 1 else 1
        assert await store.finish_publish(draft.id, loser) is None  # the loser cannot finish
        entry = await store.finish_publish(draft.id, winner)
        assert entry is not None and entry.action is AuditAction.PUBLISHED
        assert (entry.user_id, entry.brief_id, entry.draft_id) == (winner, "council-budget", 1)
        assert entry.source_sha256 == draft.source_sha256
        assert await store.claim_publish(draft.id, loser, STALE) is None  # already published
        stored = await store.get_draft(draft.id)
        assert stored is not None and stored.state is DraftState.PUBLISHED
        assert await store.last_publication("council-budget") == entry
        assert await store.update_draft(draft.id, "x", ()) is None  # no edits after publishing


async def test_a_released_claim_reopens_the_draft_and_a_stale_one_is_taken_over(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
        draft = await store.create_draft(new_draft(), WEEK)
        assert await store.claim_publish(draft.id, ALICE, STALE) is not None
        await store.release_publish(draft.id, ALICE)
        assert await store.claim_publish(draft.id, BOB, STALE) is not None
        assert await store.claim_publish(draft.id, ALICE, STALE) is None  # Bob's is live
        await clock.advance(STALE + dt.timedelta(seconds=1))  # Bob's process died mid-publish
        assert await store.claim_publish(draft.id, ALICE, STALE) is not None
        assert await store.finish_publish(draft.id, BOB) is None


async def test_discard_deletes_the_draft_and_the_audit_says_who(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
        draft = await store.create_draft(new_draft(), WEEK)
        entry = await store.discard_draft(draft.id, BOB)
        assert entry is not None and (entry.action, entry.user_id) == (AuditAction.DISCARDED, BOB)
        assert await store.get_draft(draft.id) is None
        assert await store.discard_draft(draft.id, BOB) is None
        assert await store.claim_publish(draft.id, BOB, STALE) is None
        assert [e.action for e in await store.audit_of_draft(draft.id)] == [AuditAction.DISCARDED]


async def test_expiry_deletes_old_drafts_and_blocks_publishing_them(
    database: str, clock: FakeClock
) -> None:
    async with await open_store(database, clock=clock) as store:
        old = await store.create_draft(new_draft(brief_id="old"), WEEK)
        await clock.advance(dt.timedelta(days=3))
        young = await store.create_draft(new_draft(brief_id="young"), WEEK)
        await clock.advance(dt.timedelta(days=4))  # `old` is exactly 7 days old
        assert await store.claim_publish(old.id, ALICE, STALE) is None
        assert await store.update_draft(old.id, "x", ()) is None
        assert await store.expire_drafts() == 1
        assert await store.get_draft(old.id) is None
        assert await store.get_draft(young.id) is not None
        [entry] = await store.audit_of_draft(old.id)
        assert (entry.action, entry.user_id) == (AuditAction.EXPIRED, ALICE)


async def test_audit_history_is_newest_first_per_brief(database: str, clock: FakeClock) -> None:
    async with await open_store(database, clock=clock) as store:
        for user in (ALICE, BOB):
            draft = await store.create_draft(new_draft(user), WEEK)
            assert await store.claim_publish(draft.id, user, STALE) is not None
            action = AuditAction.PUBLISHED if user == ALICE else AuditAction.REPLACED
            await store.finish_publish(draft.id, user, action)
            await clock.advance(dt.timedelta(hours=1))
        other = await store.create_draft(new_draft(brief_id="other"), WEEK)
        await store.discard_draft(other.id, ALICE)
        history = await store.audit_history("council-budget")
        assert [(e.user_id, e.action) for e in history] == [
            (BOB, AuditAction.REPLACED),
            (ALICE, AuditAction.PUBLISHED),
        ]
        assert len(await store.audit_history()) == 3
        last = await store.last_publication("council-budget")
        assert last is not None and last.user_id == BOB
        assert await store.last_publication("other") is None
