"""/brief and the review controls through unmodified discord.py, the fake Discord and its CDN."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.ingest.fetch import Fetcher
from bot.settings import Settings
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord, run_client
from tests.fakediscord.base import InteractionRecord
from tests.fakediscord.payloads import MANAGE_CHANNELS, MEMBER_PERMISSIONS
from tests.review.helpers import ARTICLE, BRIEF_ID, JANE

EPHEMERAL = 1 << 6
START = dt.datetime(2026, 3, 5, 7, 0, tzinfo=dt.UTC)


class Harness:
    """A running bot, its fake Discord, editors and a non-editor."""

    def __init__(self, bot: BriefBot, fake: FakeDiscord, root: Path, clock: FakeClock) -> None:
        self.bot, self.fake, self.root, self.clock = bot, fake, root, clock

    def last(self) -> InteractionRecord:
        return self.fake.interactions()[-1]

    async def answered(self, record: InteractionRecord, method: str = "PATCH") -> dict[str, Any]:
        """The body of the bot's edit (PATCH) or follow-up (POST) on this interaction."""
        request = await self.fake.wait_for_request(
            lambda r: (
                record.token in r.path and r.method == method and r.path.startswith("/webhooks")
            ),
            10,
        )
        return dict(request.json or {})

    async def draft(
        self, member: Any, data: bytes | str = ARTICLE, name: str = "harbour.txt", **kw: Any
    ) -> dict[str, Any]:
        """/brief draft file:… and the preview (or refusal) it produced."""
        attachment = self.fake.add_attachment(name, data, **kw)
        await self.fake.invoke("brief draft", {"file": attachment}, member=member)
        return await self.answered(self.last())

    async def press(
        self, message_id: int, custom_id: str, member: Any, values: list[str] | None = None
    ) -> dict[str, Any]:
        """Press a control; the private follow-up it got."""
        await self.fake.click(message_id, custom_id, values=values, member=member)
        return await self.answered(self.last(), "POST")

    def preview_id(self) -> int:
        """The id of the latest preview message (the draft's original response)."""
        for record in reversed(self.fake.interactions()):
            if record.original and record.original.get("components"):
                return int(record.original["id"])
        raise AssertionError("no preview was drawn")

    def control(self, message_id: int, label: str) -> str:
        """The custom id of the control labelled `label` (or the first select) on a message."""
        message = self.fake.message(message_id)
        assert message is not None
        for row in message.get("components") or []:
            for component in row["components"]:
                if label in (component.get("label"), "select") and (
                    label != "select" or component["type"] == 3
                ):
                    return str(component["custom_id"])
        raise AssertionError(f"no {label!r} control on message {message_id}")

    def briefs_files(self) -> set[str]:
        return {str(p.relative_to(self.root)) for p in self.root.rglob("*")}


def settings_for(root: Path, fake: FakeDiscord, db: Path, role: int) -> Settings:
    return Settings(
        briefs_dir=root,
        dev_guild_id=fake.guild_id,
        reload_seconds=0,
        database=db,
        editor_role_id=role,
        fetch_private_hosts=("127.0.0.1",),
    )


@contextlib.asynccontextmanager
async def running(
    root: Path, fake: FakeDiscord, db: Path, role: int, clock: FakeClock
) -> AsyncIterator[Harness]:
    async with await Store.open(db, clock=clock) as store:
        bot = BriefBot(
            settings=settings_for(root, fake, db, role),
            library=LiveLibrary(root),
            store=store,
            clock=clock,
        )
        async with run_client(bot, fake):
            assert bot.review is not None
            # Short timeouts so a stalled download fails fast.
            bot.review.fetcher = lambda: Fetcher(
                private_hosts=["127.0.0.1"], total_timeout=1.0, host_interval=0
            )
            yield Harness(bot, fake, root, clock)


@pytest.fixture
def editors(fake_discord: FakeDiscord) -> Any:
    return fake_discord.add_role("Editors", discord.Permissions(send_messages=True))


@pytest.fixture
async def h(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path, editors: Any
) -> AsyncIterator[Harness]:
    clock = FakeClock(START)
    async with running(briefs_dir, fake_discord, tmp_path / "db.sqlite3", editors.id, clock) as h:
        yield h


def text_of(body: dict[str, Any]) -> str:
    return str(body.get("embeds") or "") + str(body.get("content") or "")


async def test_draft_fix_publish_then_quotes_and_the_next_digest(h: Harness, editors: Any) -> None:
    erin = h.fake.add_member("erin", roles=[editors])
    olaf = h.fake.add_member("olaf", roles=[editors])
    preview = await h.draft(erin)
    assert "Draft: Harbour budget approved" in text_of(preview)
    assert "(uncertain: no speaker cue" in text_of(preview)
    message_id = h.preview_id()
    message = h.fake.message(message_id)
    assert message is not None and message["flags"] & EPHEMERAL  # private to the requester
    selects = [c for row in message["components"] for c in row["components"] if c["type"] == 3]
    [select] = selects
    labels = [o["label"] for o in select["options"]]
    assert labels == ["Jane Doe", "Sam Roe", "Unnamed: describe the speaker…"]
    # Fix the speaker: the preview is redrawn with it and without the uncertainty.
    await h.fake.click(message_id, h.control(message_id, "select"), values=[JANE], member=olaf)
    redrawn = await h.answered(h.last())
    assert "2. Jane Doe" in text_of(redrawn) and "(uncertain:" not in text_of(redrawn)
    # Subscribe a channel, then publish.
    await h.fake.invoke(
        "digest subscribe",
        {"time": "08:30", "timezone": "UTC"},
        permissions=MEMBER_PERMISSIONS | MANAGE_CHANNELS,
    )
    published = await h.press(message_id, h.control(message_id, "Publish"), olaf)
    assert f"Published {BRIEF_ID}" in text_of(published)
    assert published["flags"] & EPHEMERAL
    assert (h.root / f"{BRIEF_ID}.yaml").is_file()
    quotes = await h.fake.invoke("quotes", {"speaker": "Doe", "brief": BRIEF_ID})
    shown = str(quotes["data"]["embeds"])
    assert "It is a missed chance for housing" in shown and "Jane Doe" in shown
    summary = await h.fake.invoke("summary", {"brief": BRIEF_ID})
    assert f"Published by user {olaf.id} on 2026-03-05" in str(summary["data"]["embeds"])
    await h.clock.set(dt.datetime(2026, 3, 5, 8, 30, tzinfo=dt.UTC))
    digest = await h.fake.wait_for_request(
        lambda r: r.method == "POST" and r.path.endswith(f"/channels/{h.fake.channel_id}/messages"),
        10,
    )
    assert "Harbour budget approved" in str(digest.json)


def no_temp_files(h: Harness) -> bool:
    return not [p for p in h.briefs_files() if Path(p).name.startswith(".")]


def refusal(body: dict[str, Any]) -> str:
    assert body.get("flags", 0) & EPHEMERAL or "embeds" in body
    return text_of(body)


@pytest.mark.parametrize(
    ("name", "data", "options", "message", "downloaded"),
    [
        ("big.txt", b"x", {"size": 2 * 1024 * 1024}, "articles may be at most 1 MiB", False),
        ("story.pdf", b"%PDF-1.4", {}, "is not a .txt or .html file", False),
        ("bin.txt", b"Head\n\x00\x01\x02\x03", {}, "is a binary file", True),
        ("latin.txt", "Héadline\nCafé story".encode("latin-1"), {}, "is not UTF-8 text", True),
        ("page.html", b"<html><body><nav>Home</nav></body></html>", {}, "no article text", True),
        ("gone.txt", b"Head\nbody", {"status": 500}, "Could not download", True),
        ("slow.txt", b"Head\nbody", {"delay": 3.0}, "Could not download", True),
    ],
)
async def test_bad_uploads_get_a_clear_private_refusal(
    h: Harness,
    editors: Any,
    name: str,
    data: bytes,
    options: dict[str, Any],
    message: str,
    downloaded: bool,
) -> None:
    erin = h.fake.add_member("erin", roles=[editors])
    attachment = h.fake.add_attachment(name, data, **options)
    callback = await h.fake.invoke("brief draft", {"file": attachment}, member=erin)
    assert callback["type"] == 5 and callback["data"]["flags"] & EPHEMERAL  # deferred privately
    body = await h.answered(h.last())
    assert message in text_of(body)
    assert bool(h.fake.downloads_of(attachment)) is downloaded  # too big/wrong type: not fetched
    assert await h.bot.review.store.drafts_of(h.fake.guild_id, erin.id) == []  # type: ignore[union-attr]
    assert no_temp_files(h)


async def test_paste_modal_says_its_limit_and_drafts(h: Harness, editors: Any) -> None:
    erin = h.fake.add_member("erin", roles=[editors])
    opened = await h.fake.invoke("brief draft", member=erin)
    assert opened["type"] == 9
    inputs = str(opened["data"]["components"])
    assert "4,000 characters" in inputs and "/brief draft file:" in inputs
    headline, _, body = ARTICLE.partition("\n")
    await h.fake.submit_modal(
        {"Headline": headline, "Article text (at most 4,000 characters)": body}
    )
    preview = await h.answered(h.last())
    assert "Draft: Harbour budget approved" in text_of(preview)


async def test_two_editors_pressing_publish_at_once_make_one_brief(
    h: Harness, editors: Any
) -> None:
    erin = h.fake.add_member("erin", roles=[editors])
    olaf = h.fake.add_member("olaf", roles=[editors])
    await h.draft(erin)
    message_id = h.preview_id()
    publish = h.control(message_id, "Publish")
    await asyncio.gather(
        h.fake.click(message_id, publish, member=erin),
        h.fake.click(message_id, publish, member=olaf),
    )
    records = h.fake.interactions()[-2:]
    answers = sorted([text_of(await h.answered(r, "POST")) for r in records])
    assert sum(f"Published {BRIEF_ID}" in a for a in answers) == 1
    assert sum("already published" in a or "being published" in a for a in answers) == 1
    assert len(await h.bot.review.store.audit_history(BRIEF_ID)) == 1  # type: ignore[union-attr]
    assert no_temp_files(h)


async def test_publish_after_discard_and_after_expiry(h: Harness, editors: Any) -> None:
    erin = h.fake.add_member("erin", roles=[editors])
    await h.draft(erin)
    first = h.preview_id()
    publish = h.control(first, "Publish")
    discarded = await h.press(first, h.control(first, "Discard"), erin)
    assert "Draft discarded" in text_of(discarded)
    assert h.fake.message(first)["components"] == []  # type: ignore[index]
    # The old preview (e.g. reopened elsewhere) still carries the button: refused, with why.
    stale = dict(h.fake.message(first) or {})
    stale["components"] = [
        {
            "type": 1,
            "components": [{"type": 2, "style": 3, "label": "Publish", "custom_id": publish}],
        }
    ]
    await h.fake.click(stale, publish, member=erin)
    assert "was discarded by user" in text_of(await h.answered(h.last(), "POST"))
    await h.draft(erin)
    second = h.preview_id()
    await h.clock.set(START + dt.timedelta(days=7, minutes=1))
    expired = await h.press(second, h.control(second, "Publish"), erin)
    assert "expired" in text_of(expired)
    assert not (h.root / f"{BRIEF_ID}.yaml").exists() and no_temp_files(h)


async def test_non_editors_are_refused_on_every_control(h: Harness, editors: Any) -> None:
    erin = h.fake.add_member("erin", roles=[editors])
    mallory = h.fake.add_member("mallory")
    await h.draft(erin)
    message_id = h.preview_id()
    for label in ("Publish", "Discard"):
        answer = await h.press(message_id, h.control(message_id, label), mallory)
        # The refusal names the role that would allow it, shown as a role, pinging nobody.
        assert f"Manage Server permission or the editor role <@&{editors.id}>" in text_of(answer)
        assert answer["allowed_mentions"] == {"parse": []}
        assert answer["flags"] & EPHEMERAL
    answer = await h.press(message_id, h.control(message_id, "select"), mallory, [JANE])
    assert "or the editor role <@&" in text_of(answer)
    refused = await h.draft(mallory)
    assert "or the editor role <@&" in text_of(refused)
    assert not (h.root / f"{BRIEF_ID}.yaml").exists()
    assert h.fake.message(message_id)["components"]  # type: ignore[index]  # still open


async def test_fix_speaker_to_an_unnamed_speaker_through_the_form(h: Harness, editors: Any) -> None:
    erin = h.fake.add_member("erin", roles=[editors])
    mallory = h.fake.add_member("mallory")
    await h.draft(erin)
    message_id = h.preview_id()
    select = h.control(message_id, "select")
    # A non-editor gets no form, only a private refusal.
    refused = await h.fake.click(message_id, select, values=["describe"], member=mallory)
    assert refused["type"] == 4 and refused["data"]["flags"] & EPHEMERAL
    assert "or the editor role <@&" in text_of(refused["data"])
    opened = await h.fake.click(message_id, select, values=["describe"], member=erin)
    assert opened["type"] == 9 and "How the source describes" in str(opened["data"])
    await h.fake.submit_modal({"How the source describes the speaker": "a  harbour pilot"})
    redrawn = await h.answered(h.last())
    assert "2. a harbour pilot (not named in the source)" in text_of(redrawn)
    assert "(uncertain:" not in text_of(redrawn)
    message = h.fake.message(message_id)
    assert message is not None and "a harbour pilot (not named" in str(message["embeds"])
    options = [c for row in message["components"] for c in row["components"] if c["type"] == 3]
    assert options == []  # no uncertain quote left: no select
    published = await h.press(message_id, h.control(message_id, "Publish"), erin)
    assert f"Published {BRIEF_ID}" in text_of(published)
    brief = h.bot.library.current().get(BRIEF_ID)
    assert brief is not None and brief.quotes[1].said_by == "a harbour pilot"
    assert brief.quotes[1].speaker_name is None


async def test_controls_work_after_a_restart(
    briefs_dir: Path, fake_discord: FakeDiscord, tmp_path: Path, editors: Any
) -> None:
    db = tmp_path / "db.sqlite3"
    clock = FakeClock(START)
    erin = fake_discord.add_member("erin", roles=[editors])
    async with running(briefs_dir, fake_discord, db, editors.id, clock) as h:
        await h.draft(erin)
        message_id = h.preview_id()
        publish = h.control(message_id, "Publish")
    async with running(briefs_dir, fake_discord, db, editors.id, clock) as h:
        answer = await h.press(message_id, publish, erin)
        assert f"Published {BRIEF_ID}" in text_of(answer)
        assert h.bot.library.current().get(BRIEF_ID) is not None


async def test_an_existing_id_asks_for_replace_confirmation(h: Harness, editors: Any) -> None:
    erin = h.fake.add_member("erin", roles=[editors])
    await h.draft(erin)
    first = h.preview_id()
    await h.press(first, h.control(first, "Publish"), erin)
    original = (h.root / f"{BRIEF_ID}.yaml").read_bytes()
    await h.draft(erin)
    second = h.preview_id()
    await h.fake.click(second, h.control(second, "select"), values=[JANE], member=erin)
    await h.answered(h.last())
    ask = await h.press(second, h.control(second, "Publish"), erin)
    assert "Replace the published brief?" in text_of(ask)
    assert (h.root / f"{BRIEF_ID}.yaml").read_bytes() == original  # untouched until confirmed
    followup = next(m for m in reversed(h.fake.interactions()[-1].followups) if m.get("components"))
    replaced = await h.press(
        int(followup["id"]), h.control(int(followup["id"]), "Replace the published brief"), erin
    )
    assert f"Replaced {BRIEF_ID}" in text_of(replaced)
    brief = h.bot.library.current().get(BRIEF_ID)
    assert brief is not None and brief.quotes[1].speaker == "Jane Doe"
    history = await h.fake.invoke("brief history", {"brief": BRIEF_ID}, member=erin)
    shown = str(history["data"]["embeds"])
    assert "replaced by user" in shown and "published by user" in shown


async def test_review_channel_posts_previews_for_editors(h: Harness, editors: Any) -> None:
    review = h.fake.add_channel("review")
    await h.fake.sync_channel(review)
    admin = h.fake.add_member("admin")
    body = await h.fake.invoke(
        "brief settings",
        {"review_channel": review.id},
        permissions=MEMBER_PERMISSIONS | (1 << 5),
        member=admin,
    )
    assert f"<#{review.id}>" in text_of(body["data"])
    erin = h.fake.add_member("erin", roles=[editors])
    told = await h.draft(erin)
    assert f"is in <#{review.id}>" in text_of(told)
    [posted] = h.fake.messages(review.id)
    assert posted["components"] and "Draft: Harbour" in str(posted["embeds"])
    assert h.fake.allowed_mentions(int(posted["id"])) == {"parse": []}


def long_article(quotes: int = 30) -> str:
    """An article whose preview needs more than one embed page."""
    lines = [HEADLINE_LONG, "The harbour board met on Tuesday to debate the budget."]
    for i in range(quotes):
        lines.append(
            f"“Point {i + 1}: the ferries, the piers and the housing along the water all need "
            f"money this year, and the board has to say how much of it goes where,” said Jane Doe."
        )
    return "\n".join(lines) + "\n"


HEADLINE_LONG = "Harbour board hears thirty points on the budget"


async def followup_with_controls(record: InteractionRecord) -> dict[str, Any]:
    """The first follow-up of an interaction that carries controls (a reopened preview)."""
    for _ in range(200):
        found = [m for m in record.followups if m.get("components")]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError("no preview was reopened")


def footer_of(message: dict[str, Any] | None) -> str:
    assert message is not None
    return str(message["embeds"][0].get("footer", {}).get("text", ""))


async def test_a_long_preview_pages_and_every_page_keeps_the_controls(
    h: Harness, editors: Any
) -> None:
    erin = h.fake.add_member("erin", roles=[editors])
    mallory = h.fake.add_member("mallory")
    await h.draft(erin, long_article(), "long.txt")
    message_id = h.preview_id()
    first = footer_of(h.fake.message(message_id))
    assert "Page 1/" in first
    pages = int(first.rsplit("/", 1)[1])
    assert pages >= 2
    # A non-editor cannot page through a draft either.
    refused = await h.press(message_id, h.control(message_id, "Next"), mallory)
    assert "or the editor role <@&" in text_of(refused)
    await h.fake.click(message_id, h.control(message_id, "Next"), member=erin)
    await h.answered(h.last())
    message = h.fake.message(message_id)
    assert f"Page 2/{pages}" in footer_of(message)
    assert "Point 1:" not in str(message["embeds"])  # type: ignore[index]
    assert h.control(message_id, "Publish")  # still there on page 2
    await h.fake.click(message_id, h.control(message_id, "Previous"), member=erin)
    await h.answered(h.last())
    assert "Page 1/" in footer_of(h.fake.message(message_id))
    published = await h.press(message_id, h.control(message_id, "Publish"), erin)
    assert "Published harbour-board-hears-thirty-points-on-the-budget" in text_of(published)


async def test_publishing_retires_the_drafts_other_previews(h: Harness, editors: Any) -> None:
    review = h.fake.add_channel("review")
    await h.fake.sync_channel(review)
    admin = h.fake.add_member("admin")
    await h.fake.invoke(
        "brief settings",
        {"review_channel": review.id},
        permissions=MEMBER_PERMISSIONS | (1 << 5),
        member=admin,
    )
    erin = h.fake.add_member("erin", roles=[editors])
    await h.draft(erin)
    [posted] = h.fake.messages(review.id)
    in_channel = int(posted["id"])
    # /brief drafts reopens the preview privately: a second preview of the same draft.
    await h.fake.invoke("brief drafts", member=erin)
    reopened = await followup_with_controls(h.last())
    reopened_id = int(reopened["id"])
    assert "Draft: Harbour" in str(reopened["embeds"])
    published = await h.press(reopened_id, h.control(reopened_id, "Publish"), erin)
    assert f"Published {BRIEF_ID}" in text_of(published)
    retired = h.fake.message(in_channel)
    assert retired is not None and retired["components"] == []
    assert f"Published {BRIEF_ID}: this preview is closed." in retired["content"]
    assert h.fake.allowed_mentions(in_channel) == {"parse": []}


async def test_staff_are_told_in_the_notices_channel_without_a_ping(
    h: Harness, editors: Any
) -> None:
    notices = h.fake.add_channel("notices")
    await h.fake.sync_channel(notices)
    admin = h.fake.add_member("admin")
    await h.fake.invoke(
        "brief settings",
        {"notices_channel": notices.id},
        permissions=MEMBER_PERMISSIONS | (1 << 5),
        member=admin,
    )
    erin = h.fake.add_member("erin", roles=[editors])
    await h.draft(erin)
    first = h.preview_id()
    await h.press(first, h.control(first, "Publish"), erin)
    [told] = h.fake.messages(notices.id)
    assert f"Brief published: {BRIEF_ID}" in str(told["embeds"])
    assert f"User {erin.id} published draft #" in str(told["embeds"])
    assert h.fake.allowed_mentions(int(told["id"])) == {"parse": []}
    pings = h.fake.pings(int(told["id"]))
    assert not pings.everyone and not pings.users and not pings.roles
    # A replace is told too; a draft only discarded is not news for staff.
    await h.draft(erin)
    second = h.preview_id()
    await h.press(second, h.control(second, "Publish"), erin)
    followup = next(m for m in reversed(h.fake.interactions()[-1].followups) if m.get("components"))
    await h.press(
        int(followup["id"]), h.control(int(followup["id"]), "Replace the published brief"), erin
    )
    await h.draft(erin)
    third = h.preview_id()
    await h.press(third, h.control(third, "Discard"), erin)
    titles = [str(m["embeds"][0]["title"]) for m in h.fake.messages(notices.id)]
    assert titles == [f"Brief published: {BRIEF_ID}", f"Brief replaced: {BRIEF_ID}"]
    assert all(
        h.fake.allowed_mentions(int(m["id"])) == {"parse": []} for m in h.fake.messages(notices.id)
    )


async def test_brief_drafts_lists_mine_and_reopens_working_previews(
    h: Harness, editors: Any
) -> None:
    erin = h.fake.add_member("erin", roles=[editors])
    olaf = h.fake.add_member("olaf", roles=[editors])
    await h.draft(erin)
    await h.draft(olaf)
    await h.draft(erin, long_article(3), "other.txt")
    body = await h.fake.invoke("brief drafts", member=erin)
    record = h.last()
    listed = await h.answered(record)
    shown = text_of(listed)
    assert "Your drafts (2)" in shown and "#1 " in shown and "#3 " in shown and "#2 " not in shown
    assert body["data"]["flags"] & EPHEMERAL
    first = await followup_with_controls(record)
    for _ in range(200):  # both previews arrive
        if len([m for m in record.followups if m.get("components")]) == 2:
            break
        await asyncio.sleep(0.05)
    reopened = [m for m in record.followups if m.get("components")]
    assert len(reopened) == 2 and all(m["flags"] & EPHEMERAL for m in reopened)
    assert first in reopened
    harbour = next(m for m in reopened if "Harbour budget approved" in str(m["embeds"]))
    harbour_id = int(harbour["id"])
    await h.fake.click(harbour_id, h.control(harbour_id, "select"), values=[JANE], member=erin)
    redrawn = await h.answered(h.last())
    assert "2. Jane Doe" in text_of(redrawn)
    empty = await h.fake.invoke("brief drafts", member=h.fake.add_member("zed", roles=[editors]))
    assert empty["data"]["flags"] & EPHEMERAL
    assert "You have no open drafts here" in text_of(await h.answered(h.last()))


async def test_history_of_an_unknown_brief_names_it_and_suggests_close_ones(
    h: Harness, editors: Any
) -> None:
    erin = h.fake.add_member("erin", roles=[editors])
    body = await h.fake.invoke("brief history", {"brief": "council-budgt"}, member=erin)
    assert body["data"]["flags"] & EPHEMERAL
    [embed] = body["data"]["embeds"]
    assert embed["title"] == "Brief not found"
    assert "No brief is called 'council-budgt'" in embed["description"]
    assert embed["fields"][0]["name"] == "Did you mean"
    assert "council" in embed["fields"][0]["value"]
    nope = await h.fake.invoke("brief history", {"brief": "nope"}, member=erin)
    [embed] = nope["data"]["embeds"]
    assert "No brief is called 'nope'" in embed["description"]
    assert embed["fields"][0]["name"] == "Latest briefs"
    # The option autocompletes brief ids as /summary does.
    choices = await h.fake.autocomplete("brief history", {"brief": "coun"}, member=erin)
    assert [c["value"] for c in choices["data"]["choices"]] == ["council-budget"]


async def test_a_review_channel_the_bot_cannot_post_in_still_shows_the_draft_privately(
    h: Harness, editors: Any
) -> None:
    # A common setup slip: the review channel denies the bot Send Messages. The draft is kept
    # and shown to the editor privately, with the reason, not "something went wrong".
    review = h.fake.add_channel("review", bot_denied=discord.Permissions(send_messages=True))
    await h.fake.sync_channel(review)
    admin = h.fake.add_member("admin")
    await h.fake.invoke(
        "brief settings",
        {"review_channel": review.id},
        permissions=MEMBER_PERMISSIONS | (1 << 5),
        member=admin,
    )
    erin = h.fake.add_member("erin", roles=[editors])
    shown = await h.draft(erin)
    assert h.fake.messages(review.id) == []
    assert shown.get("components"), "the private preview carries its controls"
    assert "Draft: Harbour" in text_of(shown)
    note = await h.answered(h.last(), "POST")
    assert f"<#{review.id}>" in text_of(note) and "Send Messages" in text_of(note)
    # The private preview works: Publish from it.
    done = await h.press(h.preview_id(), h.control(h.preview_id(), "Publish"), erin)
    assert f"Published {BRIEF_ID}" in text_of(done)
