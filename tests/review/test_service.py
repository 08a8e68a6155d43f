"""The review service on a real store and briefs folder: draft, fix, publish, discard, expire."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from bot.briefs.reloader import LiveLibrary
from bot.reply import Status
from bot.review.drafting import dump
from bot.review.preview import SpeakerChoice
from bot.review.service import Member, ReviewService, history
from bot.store.records import DraftState
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.review.helpers import (
    ALICE,
    ARTICLE_BODY,
    BOB,
    BRIEF_ID,
    GUILD,
    HEADLINE,
    JANE,
    MALLORY,
    SAM,
    service,
)

START = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "db.sqlite3", clock=clock) as opened:
        yield opened


@pytest.fixture
def live(briefs_dir: Path) -> LiveLibrary:
    return LiveLibrary(briefs_dir)


@pytest.fixture
def review(store: Store, live: LiveLibrary, briefs_dir: Path) -> ReviewService:
    return service(store, live, briefs_dir)


def folder(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


async def draft(review: ReviewService, member: Member = ALICE) -> int:
    outcome = await review.draft_paste(member, HEADLINE, ARTICLE_BODY)
    assert outcome.preview is not None, outcome.reply
    return outcome.preview.draft.id


async def test_a_pasted_article_becomes_a_stored_draft_with_an_honest_preview(
    review: ReviewService, store: Store
) -> None:
    outcome = await review.draft_paste(ALICE, HEADLINE, ARTICLE_BODY)
    preview = outcome.preview
    assert preview is not None and preview.publishable
    text = str(preview.reply)
    assert "This budget keeps the ferries running" in text and "Jane Doe" in text
    # The second quote names nobody beside it: shown as uncertain, with why.
    assert "2. Sam Roe (uncertain: no speaker cue" in text
    assert [i for i, _ in preview.uncertain] == [1]
    assert [c.label for c in preview.speakers] == [
        "Jane Doe",
        "Sam Roe",
        "Unnamed: describe the speaker…",
    ]
    assert "unknown (the source does not state it" in text
    assert "Passes `briefbot check`" in text
    stored = await store.get_draft(preview.draft.id)
    assert (
        stored is not None and stored.brief_id == BRIEF_ID and stored.requester_id == ALICE.user_id
    )


async def test_fix_speaker_changes_the_quote_and_clears_its_uncertainty(
    review: ReviewService,
) -> None:
    draft_id = await draft(review)
    outcome = await review.fix_speaker(BOB, draft_id, 1, JANE)  # quote 2 → Jane Doe
    assert outcome.preview is not None
    assert outcome.preview.uncertain == ()
    assert "2. Jane Doe" in str(outcome.preview.reply) and "uncertain" not in str(
        outcome.preview.reply.sections[1]
    )
    stale = await review.fix_speaker(BOB, draft_id, 1, "p:0123456789abcdef")  # no such choice
    assert stale.reply.status.value == "invalid" and stale.preview is not None


async def test_fix_speaker_offers_organisations_and_unnamed_speakers(
    review: ReviewService, store: Store, live: LiveLibrary
) -> None:
    draft_id = await draft(review)
    stored = await store.get_draft(draft_id)
    assert stored is not None
    data = yaml.safe_load(stored.brief_yaml)
    data["organisations"] = [{"name": "Harbour Board", "role": "the port authority"}]
    await store.update_draft(draft_id, dump(data), stored.notes)
    shown = await review.show(ALICE, draft_id)
    assert shown.preview is not None
    assert [(c.label, c.kind) for c in shown.preview.speakers] == [
        ("Jane Doe", "person"),
        ("Sam Roe", "person"),
        ("Harbour Board", "organisation"),
        ("Unnamed: describe the speaker…", "describe"),
    ]
    board = SpeakerChoice("Harbour Board", "organisation", "Harbour Board").key
    fixed = await review.fix_speaker(ALICE, draft_id, 1, board)
    assert fixed.preview is not None and fixed.preview.publishable
    assert "2. Harbour Board" in str(fixed.preview.reply)
    # Unnamed: the typed description, tidied; shown as such, and offered for other quotes.
    unnamed = await review.fix_unnamed(ALICE, draft_id, 1, "  a board   member\n")
    assert unnamed.preview is not None and unnamed.preview.publishable, unnamed.reply
    assert "2. a board member (not named in the source)" in str(unnamed.preview.reply)
    assert ("a board member", "unnamed") in [(c.label, c.kind) for c in unnamed.preview.speakers]
    for bad, why in (("   ", "Describe the speaker"), ("x" * 301, "at most 300")):
        refused = await review.fix_unnamed(ALICE, draft_id, 0, bad)
        assert why in str(refused.reply.description) and refused.preview is not None
        assert "1. Jane Doe" in str(refused.preview.reply)  # unchanged
    assert "editor role" in str((await review.fix_unnamed(MALLORY, draft_id, 0, "a man")).reply)
    assert (await review.publish(BOB, draft_id)).closed
    brief = live.current().get(BRIEF_ID)
    assert brief is not None
    assert brief.quotes[1].speaker_name is None
    assert brief.quotes[1].said_by == "a board member"


async def test_publish_writes_the_files_reloads_at_once_and_is_audited(
    review: ReviewService, live: LiveLibrary, briefs_dir: Path, store: Store
) -> None:
    draft_id = await draft(review)
    await review.fix_speaker(ALICE, draft_id, 1, JANE)
    outcome = await review.publish(BOB, draft_id)
    assert outcome.closed and outcome.reply.title == f"Published {BRIEF_ID}"
    assert (briefs_dir / f"{BRIEF_ID}.yaml").is_file()
    assert (
        (briefs_dir / "sources" / f"{BRIEF_ID}.txt")
        .read_text(encoding="utf-8")
        .startswith(HEADLINE)
    )
    brief = live.current().get(BRIEF_ID)  # live without waiting for the watcher
    assert brief is not None
    assert [(q.speaker, q.text) for q in brief.quotes][1] == (
        "Jane Doe",
        "It is a missed chance for housing",
    )
    [entry] = await store.audit_history(BRIEF_ID)
    assert entry.user_id == BOB.user_id and entry.action.value == "published"
    assert "published by user 8" in str(await history(store, BRIEF_ID))
    again = await review.publish(ALICE, draft_id)
    assert again.reply.title == "Already published" and "user 8" in str(again.reply.description)


async def test_two_editors_pressing_publish_at_once_make_exactly_one_brief(
    review: ReviewService, store: Store, briefs_dir: Path
) -> None:
    draft_id = await draft(review)
    results = await asyncio.gather(review.publish(ALICE, draft_id), review.publish(BOB, draft_id))
    titles = sorted(r.reply.title for r in results)
    assert titles[1] == f"Published {BRIEF_ID}"
    assert titles[0] in ("Already published", "Already being published")
    assert len(await store.audit_history(BRIEF_ID)) == 1
    assert not [p for p in folder(briefs_dir) if p.startswith(".") or "/." in p]


async def test_publish_after_discard_or_expiry_is_refused_with_why(
    review: ReviewService, clock: FakeClock, briefs_dir: Path
) -> None:
    before = folder(briefs_dir)
    discarded = await draft(review)
    assert (await review.discard(BOB, discarded)).reply.title == "Draft discarded"
    outcome = await review.publish(ALICE, discarded)
    assert outcome.closed and "discarded by user 8" in str(outcome.reply.description)
    expiring = await draft(review)
    await clock.advance(dt.timedelta(days=7))
    outcome = await review.publish(ALICE, expiring)
    assert "expired" in str(outcome.reply.description)
    assert (await review.fix_speaker(ALICE, expiring, 1, JANE)).closed
    assert folder(briefs_dir) == before


async def test_non_editors_are_refused_on_every_action(
    review: ReviewService, briefs_dir: Path
) -> None:
    draft_id = await draft(review)
    for outcome in (
        await review.draft_paste(MALLORY, HEADLINE, ARTICLE_BODY),
        await review.publish(MALLORY, draft_id),
        await review.discard(MALLORY, draft_id),
        await review.fix_speaker(MALLORY, draft_id, 1, SAM),
        await review.show(MALLORY, draft_id),
    ):
        # Names the role that would allow it (shown as the role; pinging nobody).
        role = review.config.editor_role_id
        assert outcome.reply.private and outcome.reply.roles == (role,)
        assert f"Manage Server permission or the editor role <@&{role}>" in str(
            outcome.reply.description
        )
    assert not (briefs_dir / f"{BRIEF_ID}.yaml").exists()
    assert (await review.show(ALICE, draft_id)).preview is not None  # still there


async def test_a_guilds_own_editor_role_replaces_the_default(review: ReviewService) -> None:
    carol = Member(10, GUILD, frozenset({555}))
    assert await review.refuse(carol) is not None
    await review.update_settings(BOB, editor_role_id=555)
    assert await review.refuse(carol) is None
    assert await review.refuse(ALICE) is not None  # the default no longer applies here
    refused = await review.update_settings(ALICE, review_channel_id=5)
    assert "Manage Server" in str(refused.description)


async def test_publishing_only_from_the_editor_guilds(
    store: Store, live: LiveLibrary, briefs_dir: Path
) -> None:
    review = service(store, live, briefs_dir, dev_guild_id=222)
    refused = await review.draft_paste(BOB, HEADLINE, ARTICLE_BODY)
    assert "editors' server" in str(refused.reply.description)
    review = service(store, live, briefs_dir, editor_guild_ids=frozenset({GUILD}), dev_guild_id=2)
    assert (await review.draft_paste(BOB, HEADLINE, ARTICLE_BODY)).preview is not None


async def test_an_existing_id_needs_a_replace_confirmation(
    review: ReviewService, briefs_dir: Path, live: LiveLibrary, store: Store
) -> None:
    first = await draft(review)
    await review.publish(BOB, first)
    second = await draft(review, ALICE)
    await review.fix_speaker(ALICE, second, 1, JANE)  # this time: Jane Doe
    outcome = await review.publish(ALICE, second)
    assert outcome.confirm_replace == second and not outcome.closed
    brief = live.current().get(BRIEF_ID)
    assert brief is not None and brief.quotes[1].speaker == "Sam Roe"  # untouched
    outcome = await review.publish(ALICE, second, replace=True)
    assert outcome.reply.title == f"Replaced {BRIEF_ID}"
    brief = live.current().get(BRIEF_ID)
    assert brief is not None and brief.quotes[1].speaker == "Jane Doe"
    last = await store.last_publication(BRIEF_ID)
    assert last is not None and last.user_id == ALICE.user_id and last.action.value == "replaced"


async def test_a_draft_failing_the_check_is_not_published(
    review: ReviewService, store: Store, briefs_dir: Path
) -> None:
    draft_id = await draft(review)
    stored = await store.get_draft(draft_id)
    assert stored is not None
    await store.update_draft(draft_id, stored.brief_yaml.replace("housing", "housng"), ())
    before = folder(briefs_dir)
    outcome = await review.publish(BOB, draft_id)
    assert outcome.reply.title == "Not published" and "housng" in str(outcome.reply.description)
    assert folder(briefs_dir) == before
    again = await store.get_draft(draft_id)
    assert again is not None and again.state is DraftState.DRAFT


async def test_my_drafts_lists_the_requesters_drafts_with_previews(review: ReviewService) -> None:
    await draft(review, ALICE)
    await draft(review, BOB)
    reply, previews = await review.my_drafts(ALICE)
    assert reply.title == "Your drafts (1)" and len(previews) == 1
    assert previews[0].draft.requester_id == ALICE.user_id


async def test_history_of_an_unknown_brief_says_so_and_suggests_close_ids(
    review: ReviewService, store: Store, live: LiveLibrary
) -> None:
    draft_id = await draft(review)
    await review.publish(BOB, draft_id)
    library = live.current()
    # A typo of a published brief's id: did you mean it (from the library and the trail).
    typo = await history(store, "harbour-budget-aproved-after-long-debate", library=library)
    assert typo.status is Status.NOT_FOUND and typo.private
    assert typo.title == "Brief not found"
    assert "No brief is called 'harbour-budget-aproved-after-long-debate'" in (
        typo.description or ""
    )
    assert typo.sections[0].heading == "Did you mean"
    assert typo.suggestions[0] == BRIEF_ID
    # A brief of the library's (never published from Discord) is found by title too.
    council = await history(store, "Council approves budget", library=library)
    assert council.title == "Brief history of council-budget"
    assert "Nothing has been published or discarded from Discord for this brief" in str(
        council.description
    )
    # Nothing like it anywhere: what was recently published is offered instead.
    nope = await history(store, "nope", library=library)
    assert nope.title == "Brief not found" and "No brief is called 'nope'" in str(nope.description)
    assert nope.sections[0].heading == "Recently published or discarded"
    assert nope.suggestions == (BRIEF_ID,)
    # Not an id at all (spaces, capitals): the same did-you-mean, not a bare refusal.
    spaced = await history(store, "Harbour budget approved", library=library)
    assert spaced.title == "Brief not found" and BRIEF_ID in spaced.suggestions
    # The trail of the brief itself still answers as before.
    assert "published by user 8" in str(await history(store, BRIEF_ID, library=library))
