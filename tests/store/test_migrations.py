"""Every earlier schema version, with data in it, migrates to the current one and keeps it all:
subscriptions (paused ones too), sent history, archive cutoffs, open claims and the log."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.store.records import (
    ArchiveCutoff,
    ChannelKind,
    History,
    PauseKind,
    SlotState,
    Weekdays,
)
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock

GUILD = 111
NOW = "2026-03-04T09:00:00.000000+00:00"
START = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)
MAR4, MAR5, MAR6 = dt.date(2026, 3, 4), dt.date(2026, 3, 5), dt.date(2026, 3, 6)
CUTOFF = ArchiveCutoff(dt.date(2026, 2, 27), "b-oldest-shown")


def make_database(path: Path, version: int) -> None:
    """A database as briefbot left it at schema `version`, with the data that version kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        for _, statements in MIGRATIONS[:version]:
            for statement in statements:
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {version}")
        subscriptions = [
            # channel, time, zone, topics, enabled, reason
            (1, "08:30", "Europe/London", '["budget"]', 1, None),
            (2, "17:45", "Asia/Karachi", "[]", 0, "no permission: Missing Access (403)"),
        ]
        for channel, at, zone, topics, enabled, reason in subscriptions:
            db.execute(
                "INSERT INTO subscriptions (channel_id, guild_id, local_time, timezone, topics, "
                "created_by, updated_by, created_at, updated_at, enabled, disabled_reason, "
                "disabled_at) VALUES (?, ?, ?, ?, ?, 7, 8, ?, ?, ?, ?, ?)",
                (
                    channel,
                    GUILD,
                    at,
                    zone,
                    topics,
                    NOW,
                    NOW,
                    enabled,
                    reason,
                    NOW if reason else None,
                ),
            )
        slots: list[tuple[object, ...]] = [
            # channel, local date, state, nonce, briefs, message, reason, attempts, claimed, done
            (1, "2026-03-04", "sent", "d1-2603040830", '["b2"]', 500, None, 1, NOW, NOW),
            (1, "2026-03-05", "claimed", "d1-2603050830", '["b3"]', None, None, 1, NOW, None),
            (2, "2026-03-03", "skipped", None, "[]", None, "nothing new", 0, NOW, NOW),
        ]
        columns = (
            "channel_id, local_date, state, nonce, brief_ids, message_id, reason, attempts, "
            "claimed_at, finished_at"
        )
        if version >= 3:  # from version 3 a slot is (channel, local date, slot time)
            times = {1: "08:30", 2: "17:45"}
            slots = [(*row, times[int(str(row[0]))]) for row in slots]
            columns += ", slot_time"
        marks = ", ".join("?" * len(slots[0]))
        db.executemany(f"INSERT INTO digest_slots ({columns}) VALUES ({marks})", slots)
        db.executemany(
            "INSERT INTO sent_briefs (channel_id, brief_id, sent_at) VALUES (?, ?, ?)",
            [(1, "b2", NOW), (2, "b1", NOW), (2, "b2", NOW)],
        )
        if version >= 3:  # who paused it came with version 3: the bot, here
            db.execute("UPDATE subscriptions SET pause_kind = 'bot' WHERE enabled = 0")
        if version >= 2:  # the archive cutoff came with version 2
            db.execute(
                "UPDATE subscriptions SET archive_date = ?, archive_id = ? WHERE channel_id = 1",
                (CUTOFF.date.isoformat(), CUTOFF.brief_id),
            )


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
async def test_an_earlier_database_migrates_with_everything_kept(
    tmp_path: Path, version: int
) -> None:
    db_path = tmp_path / "data" / "briefbot.sqlite3"
    make_database(db_path, version)
    async with await Store.open(db_path, clock=FakeClock(START)) as store:
        assert await store.schema_version() == SCHEMA_VERSION

        # Subscriptions: every setting as it was; new settings at their defaults.
        active, paused = await store.list_all()
        assert (active.channel_id, active.guild_id, active.timezone.key) == (
            1,
            GUILD,
            "Europe/London",
        )
        assert active.slot_times == (dt.time(8, 30),) and active.topics == ("budget",)
        assert active.days == Weekdays.EVERY_DAY and active.enabled and active.quiet
        assert (active.kind, active.mention_role_id, active.publish) == (
            ChannelKind.TEXT,
            None,
            False,
        )
        assert active.updated_by == 8 and active.notice_dm  # who is told if it pauses
        # A channel the bot had disabled is one the bot paused: /digest resume resumes it.
        assert not paused.enabled and paused.pause_kind is PauseKind.BOT
        assert paused.disabled_reason == "no permission: Missing Access (403)"
        assert paused.slot_times == (dt.time(17, 45),)

        # Sent history and the archive cutoff (none before version 2: its rows do that job).
        cutoff = CUTOFF if version >= 2 else None
        assert await store.history(1) == History(cutoff, frozenset({"b2"}))
        assert await store.history(2) == History(None, frozenset({"b1", "b2"}))

        # The log: each old slot keyed by its channel's time, state and reason kept.
        last = await store.last_sent(1)
        assert last is not None
        assert (last.local_date, last.slot_time, last.message_id, last.brief_ids) == (
            MAR4,
            dt.time(8, 30),
            500,
            ("b2",),
        )
        (skipped,) = await store.slot_log(2)
        assert (skipped.state, skipped.reason, skipped.slot_time) == (
            SlotState.SKIPPED,
            "nothing new",
            dt.time(17, 45),
        )

        # The interrupted claim is resumed with its nonce and briefs, then completed.
        (claim,) = await store.open_claims()
        assert (claim.channel_id, claim.local_date, claim.slot_time) == (1, MAR5, dt.time(8, 30))
        resumed = await store.claim_slot(1, MAR5, "other-nonce", slot_time=dt.time(8, 30))
        assert resumed is not None and resumed.resumed
        assert (resumed.nonce, resumed.brief_ids) == ("d1-2603050830", ("b3",))
        assert await store.complete_slot(1, MAR5, 501, ("b3",), slot_time=dt.time(8, 30))
        assert await store.history(1) == History(cutoff, frozenset({"b2", "b3"}))

        # And it keeps working with the new features: a second time a day, a new slot.
        await store.upsert_subscription(
            guild_id=GUILD,
            channel_id=1,
            times=(dt.time(8, 30), dt.time(17, 0)),
            timezone=active.timezone,
            topics=active.topics,
            created_by=9,
        )
        claim2 = await store.claim_slot(1, MAR6, "n6", ("b4",), slot_time=dt.time(17, 0))
        assert claim2 is not None and not claim2.resumed
        assert await store.complete_slot(1, MAR6, 502, ("b4",), slot_time=dt.time(17, 0))
        log = await store.slot_log(1)
        assert [(s.local_date, s.slot_time) for s in log][:1] == [(MAR6, dt.time(17, 0))]
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
