"""Digests read from the on-disk brief index: the same digests as from a list, decoding only
the briefs they show, and first-seen bookkeeping from the index's ids (issue 13)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from bot.briefs.library import Library, load_library
from bot.briefs.models import OrderKey, order_key
from bot.briefs.reloader import LiveLibrary
from bot.clock import Zone
from bot.digest.content import build_digest, digest_of
from bot.digest.scheduler import DigestScheduler
from bot.digest.seen import IndexSeen
from bot.store.records import ArchiveCutoff
from bot.store.sqlite import Store
from tests.conftest import VOCABULARY
from tests.digest.clock import FakeClock
from tests.digest.helpers import FakePoster, SimulatedCrash

UTC = dt.UTC
START = dt.datetime(2026, 3, 5, 0, 0, tzinfo=UTC)


def brief_yaml(
    brief_id: str, day: dt.date | None, topics: Sequence[str] = ("budget",), url: str = ""
) -> str:
    """A minimal valid brief file."""
    date = f"{{value: {day.isoformat()}, status: stated}}" if day else "{status: unknown}"
    source = f"{{url: {url}}}" if url else "{}"
    return (
        f"id: {brief_id}\n"
        f"title: Title of {brief_id}\n"
        f"date: {date}\n"
        f"source: {source}\n"
        f"summary: Summary of {brief_id}. It has a second sentence.\n"
        "key_points:\n  - text: A point.\n"
        f"topics: [{', '.join(topics)}]\n"
    )


def write(
    root: Path, brief_id: str, day: dt.date | None, topics: Sequence[str] = ("budget",)
) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{brief_id}.yaml").write_text(brief_yaml(brief_id, day, topics), encoding="utf-8")


def folder(root: Path) -> Path:
    """Thirty briefs: dated ties (the id decides), undated ones, and mixed topics."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "topics.yaml").write_text(VOCABULARY, encoding="utf-8")
    topic_sets = [("budget",), ("transport",), ("budget", "housing"), ("housing",)]
    for n in range(30):
        day = None if n % 9 == 0 else dt.date(2026, 1, 1) + dt.timedelta(days=n // 2)
        write(root, f"b{n:02d}", day, topic_sets[n % 4])
    return root


@pytest.fixture
def library(tmp_path: Path) -> AsyncIterator[Library]:
    lib = load_library(folder(tmp_path / "briefs"))
    yield lib
    lib.close()
    lib.index.close()


def test_the_index_chooses_the_same_digests_as_the_list_rules(library: Library) -> None:
    briefs = list(library.briefs)
    ids = [b.id for b in briefs]
    assert len(ids) == 30
    undated = next(b for b in briefs if b.date.value is None)
    cutoffs: list[OrderKey | None] = [None, order_key(briefs[8]), order_key(undated)]
    sents: list[frozenset[str]] = [frozenset(), frozenset(ids[:3] + ids[20:22])]
    topic_sets: list[tuple[str, ...]] = [(), ("budget",), ("housing", "transport")]
    fresh_sets = [frozenset(), frozenset({ids[12], ids[25], ids[1], "gone-brief"})]
    pins: list[tuple[str, ...] | None] = [None, (ids[5], ids[7], ids[2])]
    compared = 0
    for cutoff, sent, topics, fresh, pinned, cap in itertools.product(
        cutoffs, sents, topic_sets, fresh_sets, pins, (1, 3, 10)
    ):
        expected = build_digest(
            briefs,
            sent,
            topics,
            cap,
            cutoff=cutoff,
            pinned=pinned,
            fresh=[b for b in briefs if b.id in fresh],
        )
        late = fresh if cutoff is not None else frozenset()
        got = digest_of(
            library.eligible(topics, cutoff, sent, late),
            topics,
            cap,
            first=cutoff is None and not sent,
            pinned=pinned,
        )
        assert got == expected, (cutoff, sent, topics, fresh, pinned, cap)
        compared += expected is not None
    assert compared > 150  # most of the 216 combinations do have a digest to compare


def test_a_first_digest_decodes_only_the_briefs_it_shows(library: Library) -> None:
    library._decoded.clear()
    digest = digest_of(library.eligible((), None), (), 3, first=True)
    assert digest is not None and digest.older == 27
    assert set(library._decoded) == set(digest.shown_ids)


# ---------------------------------------------------------------------------- the scheduler


class Bot:
    """A scheduler reading a live index library, as the bot runs it."""

    def __init__(self, root: Path, store: Store, clock: FakeClock) -> None:
        self.root = root
        self.live = LiveLibrary(root, root.parent / "index.sqlite3")
        self.poster = FakePoster(clock)
        self.store = store
        self.scheduler = DigestScheduler(store, clock, self.live.current, self.poster)

    def shown(self, channel: int) -> list[list[str]]:
        return [
            [str(item.label) for item in reply.sections[0].items]
            for reply, _, _ in self.poster.posted_to(channel)
        ]


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    clock = FakeClock(START)
    root = tmp_path / "briefs"
    root.mkdir()
    (root / "topics.yaml").write_text(VOCABULARY, encoding="utf-8")
    for n in range(25):  # b00 (2026-01-01) … b24 (2026-01-25)
        write(root, f"b{n:02d}", dt.date(2026, 1, 1) + dt.timedelta(days=n))
    async with await Store.open(tmp_path / "db.sqlite3", clock=clock) as store:
        made = Bot(root, store, clock)
        yield made
        made.live.current().close()
        made.live.index.close()


async def subscribe(store: Store, channel: int, topics: tuple[str, ...] = ()) -> None:
    await store.upsert_subscription(
        guild_id=10,
        channel_id=channel,
        local_time=dt.time(8, 30),
        timezone=Zone.named("UTC"),
        topics=topics,
        created_by=42,
    )


def at(day: int, hour: int = 8, minute: int = 30) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


async def test_first_digest_then_only_what_is_new_from_the_index(bot: Bot) -> None:
    await subscribe(bot.store, 1)
    await subscribe(bot.store, 2, ("transport",))
    await bot.scheduler.run_due(at(5))
    assert bot.shown(1) == [[f"Title of b{n:02d}" for n in range(24, 14, -1)]]
    assert bot.poster.posted_to(2) == []  # no brief on transport: nothing to post
    history = await bot.store.history(1)
    assert history.cutoff == ArchiveCutoff(dt.date(2026, 1, 16), "b15")

    # A new brief, one dated after the cutoff but before the newest shown, and one dated
    # before it; one on transport (on the same date as "fresh": the greater id first).
    write(bot.root, "fresh", dt.date(2026, 3, 5))
    write(bot.root, "late-after", dt.date(2026, 1, 20))
    write(bot.root, "late-before", dt.date(2026, 1, 10))
    write(bot.root, "trains", dt.date(2026, 3, 5), ("transport",))
    await bot.live.reload()
    await bot.scheduler.run_due(at(6))
    # As from a list (tests/digest/test_scheduler.py): the frozen clock leaves nothing
    # "first seen after the previous digest", so the brief before the cutoff is archive.
    assert bot.shown(1)[1:] == [["Title of trains", "Title of fresh", "Title of late-after"]]
    assert bot.shown(2) == [["Title of trains"]]
    await bot.scheduler.run_due(at(7))
    assert len(bot.poster.posted_to(1)) == 2


async def test_a_brief_first_seen_after_the_last_digest_comes_whatever_its_date(
    bot: Bot, tmp_path: Path
) -> None:
    clock = bot.scheduler._clock
    assert isinstance(clock, FakeClock)
    await subscribe(bot.store, 1)
    await clock.set(at(5))
    await bot.scheduler.run_due(at(5))
    await clock.set(at(5, 12))
    write(bot.root, "old-story", dt.date(2025, 6, 1))  # long before the cutoff
    await bot.live.reload()
    await clock.set(at(6))
    await bot.scheduler.run_due(at(6))
    assert bot.shown(1)[1:] == [["Title of old-story"]]


async def test_a_crashed_first_digest_is_resent_with_the_same_briefs_from_the_index(
    bot: Bot,
) -> None:
    await subscribe(bot.store, 1)
    bot.poster.fail_after[1] = [SimulatedCrash()]
    with pytest.raises(SimulatedCrash):
        await bot.scheduler.run_due(at(5))
    [(first, _, _)] = bot.poster.posted_to(1)
    write(bot.root, "breaking", dt.date(2026, 3, 5))
    await bot.live.reload()
    # A restart: a new scheduler on the same store and index.
    scheduler = DigestScheduler(bot.store, bot.scheduler._clock, bot.live.current, bot.poster)
    await scheduler.run_due(at(5, 8, 33))
    resent = bot.poster.attempts[-1].reply
    assert [i.label for i in resent.sections[0].items] == [i.label for i in first.sections[0].items]
    more = "".join(s.body or "" for s in resent.sections if s.heading == "More")
    # "breaking" arrived meanwhile: it waits for the next digest; the 15 older are archive.
    assert "1 more: they come in the next digest" in more
    assert "15 older briefs" in more
    await scheduler.run_due(at(6))
    assert bot.shown(1)[-1] == ["Title of breaking"]


# ---------------------------------------------------------------------------- first seen


class Recorder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.fail = False

    async def __call__(self, ids: list[str]) -> None:
        if self.fail:
            raise OSError("database is locked")
        self.calls.append(list(ids))

    def ids(self) -> list[str]:
        return [i for call in self.calls for i in call]


async def test_first_seen_records_each_live_brief_once_and_then_only_new_ones(
    tmp_path: Path,
) -> None:
    root = folder(tmp_path / "briefs")
    live = LiveLibrary(root, tmp_path / "index.sqlite3")
    seen, record = IndexSeen(), Recorder()
    await seen.record(live.current, record)
    assert sorted(record.ids()) == sorted(b.id for b in live.current().briefs)
    record.calls.clear()
    await seen.record(live.current, record)
    assert record.calls == []  # nothing new: not a single id read again

    write(root, "new-one", dt.date(2026, 2, 1))
    write(root, "short-lived", dt.date(2026, 2, 2))
    await live.reload()
    (root / "short-lived.yaml").unlink()
    await live.reload()
    record.fail = True  # the store is down: nothing is lost, the next pass records it
    with pytest.raises(OSError):
        await seen.record(live.current, record)
    record.fail = False
    await seen.record(live.current, record)
    assert record.ids() == ["new-one"]  # the brief gone before anyone saw it is not recorded

    write(root, "short-lived", dt.date(2026, 2, 2))  # back again: now it is seen
    await live.reload()
    await seen.record(live.current, record)
    assert record.ids() == ["new-one", "short-lived"]
    live.current().close()
    live.index.close()


def remove_index(path: Path) -> None:
    """Delete an index file and its write-ahead log, as a user cleaning up might."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def test_a_rebuilt_index_is_checked_again_from_its_first_brief(tmp_path: Path) -> None:
    root = folder(tmp_path / "briefs")
    path = tmp_path / "index.sqlite3"
    live = LiveLibrary(root, path)
    seen, record = IndexSeen(), Recorder()
    await seen.record(live.current, record)
    # The index file is deleted while the bot runs and rebuilt in another order (one brief
    # added first, so every brief's mark moves).
    remove_index(path)
    write(root, "a-new-first", dt.date(2026, 2, 1))
    await live.reload()
    record.calls.clear()
    await seen.record(live.current, record)
    assert "a-new-first" in record.ids()
    assert len(record.ids()) == 31  # every live brief again; the store keeps the first times
    live.current().close()
    live.index.close()
