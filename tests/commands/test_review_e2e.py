"""/brief and the review controls through unmodified discord.py, the fake Discord and its CDN."""

from __future__ import annotations

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
from tests.review.helpers import ARTICLE, BRIEF_ID

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
    assert [o["label"] for o in select["options"]] == ["Jane Doe", "Sam Roe"]
    # Fix the speaker: the preview is redrawn with it and without the uncertainty.
    await h.fake.click(message_id, h.control(message_id, "select"), values=["0"], member=olaf)
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
