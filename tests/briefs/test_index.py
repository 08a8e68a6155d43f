"""The on-disk brief index: incremental, files win, and a damaged or busy index never crashes."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bot.briefs import index as index_module
from bot.briefs.index import BriefIndex, IndexBusy
from bot.briefs.library import Library, load_library, open_library
from bot.briefs.reloader import LiveLibrary
from tests.conftest import BRIEF, write_briefs

OTHER = BRIEF.replace("id: council-budget", "id: other-story").replace(
    "title: Council approves budget", "title: Harbour ferry restarts"
)


def remove(path: Path) -> None:
    """Delete an index file and its write-ahead log, as a user cleaning up might."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def touch_later(path: Path, text: str) -> None:
    """Write and move the mtime forward, as an editor saving a second later would."""
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def everywhere(library: Library, brief_id: str) -> list[str]:
    """Where a brief still shows: get, the list, search, a speaker's quotes, a topic."""
    places = []
    if library.get(brief_id) is not None:
        places.append("get")
    if brief_id in [b.id for b in library.briefs]:
        places.append("briefs")
    if any(head.id == brief_id for head, _ in library.search("budget")):
        places.append("search")
    if any(ref.brief.id == brief_id for ref in library.quotes_by("Jane Doe")):
        places.append("quotes")
    if any(head.id == brief_id for head, _ in library.on_topic("budget").points):
        places.append("topic")
    if library.brief_index.get(brief_id):
        places.append("labels")
    return places


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_briefs(tmp_path / "briefs")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "briefs.index.sqlite3"


def test_a_current_index_parses_nothing_and_an_edit_parses_one_file(root: Path, path: Path) -> None:
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    index = BriefIndex(root, path)
    assert index.sync().parsed == 2
    assert BriefIndex(root, path).sync().parsed == 0  # a restart with nothing changed
    touch_later(root / "other.yaml", OTHER.replace("Harbour ferry", "Harbour tram"))
    report = index.sync()
    assert (report.parsed, report.updated, report.added) == (1, ("other-story",), ())
    library = open_library(index)
    assert library.get("other-story").title == "Harbour tram restarts"  # type: ignore[union-attr]
    assert [head.title for head, _ in library.search("tram")] == ["Harbour tram restarts"]
    assert library.search("ferry") == []


def test_touched_but_unchanged_file_is_not_parsed(root: Path, path: Path) -> None:
    index = BriefIndex(root, path)
    index.sync()
    touch_later(root / "council.yaml", BRIEF)
    assert index.sync().parsed == 0


def test_rename_is_found_by_hash_and_not_parsed(root: Path, path: Path) -> None:
    index = BriefIndex(root, path)
    index.sync()
    (root / "council.yaml").rename(root / "renamed.yaml")
    report = index.sync()
    assert (report.parsed, report.added, report.removed) == (0, (), ())
    library = open_library(index)
    assert everywhere(library, "council-budget") == [
        "get", "briefs", "search", "quotes", "topic", "labels",
    ]  # fmt: skip
    # The renamed file is the brief's file now: deleting it removes the brief.
    (root / "renamed.yaml").unlink()
    assert index.sync().removed == ("council-budget",)


async def test_deleted_brief_disappears_from_every_answer_at_the_next_reload(
    root: Path, path: Path
) -> None:
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    live = LiveLibrary(root, path)
    assert everywhere(live.current(), "other-story") == [
        "get", "briefs", "search", "quotes", "topic", "labels",
    ]  # fmt: skip
    (root / "other.yaml").unlink()
    report = await live.reload()
    assert report.removed == ("other-story",) and report.total == 1
    assert everywhere(live.current(), "other-story") == []
    assert live.current().speakers["Jane Doe"].quote_count == 1
    assert everywhere(live.current(), "council-budget") != []


def test_added_brief_is_served_and_an_invalid_one_never_is(root: Path, path: Path) -> None:
    index = BriefIndex(root, path)
    index.sync()
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    # Validates as YAML but its quote is not in the source: refused, never indexed.
    ungrounded = BRIEF.replace("id: council-budget", "id: ungrounded").replace(
        "a missed chance", "a missed opportunity"
    )
    (root / "ungrounded.yaml").write_text(ungrounded, encoding="utf-8")
    report = index.sync()
    assert report.added == ("other-story",)
    library = open_library(index)
    assert library.get("ungrounded") is None
    assert not any(head.id == "ungrounded" for head, _ in library.search("opportunity"))
    assert [e.path.name for e in library.errors] == ["ungrounded.yaml"]


def test_broken_edit_keeps_the_last_good_version_even_after_a_restart(
    root: Path, path: Path
) -> None:
    BriefIndex(root, path).sync()
    touch_later(root / "council.yaml", BRIEF.replace("title: Council", "title: [Council"))
    for _ in range(2):  # the edit, then a restart that finds the index current
        library = load_library(root, path)
        assert library.get("council-budget").title == "Council approves budget"  # type: ignore[union-attr]
        assert "council.yaml:3" in str(library.errors[0])
    # Fixing the file serves the fix and clears the error.
    touch_later(root / "council.yaml", BRIEF.replace("title: Council", "title: Town council"))
    library = load_library(root, path)
    assert library.get("council-budget").title == "Town council approves budget"  # type: ignore[union-attr]
    assert library.errors == ()


def test_an_edited_source_is_grounded_again(root: Path, path: Path) -> None:
    BriefIndex(root, path).sync()
    source = root / "sources" / "council.txt"
    touch_later(source, source.read_text("utf-8").replace("a missed chance", "a lost chance"))
    library = load_library(root, path)
    assert "does not appear verbatim" in str(library.errors[0])
    assert library.get("council-budget") is not None  # the last good version stays


def test_an_edited_vocabulary_revalidates_every_brief(root: Path, path: Path) -> None:
    BriefIndex(root, path).sync()
    vocabulary = (root / "topics.yaml").read_text("utf-8")
    touch_later(root / "topics.yaml", vocabulary.replace("aliases: [buses, trains]", "aliases: []"))
    library = load_library(root, path)
    assert "unknown topic 'buses'" in str(library.errors[0])


def test_first_seen_is_kept_across_edits(root: Path, path: Path) -> None:
    library = load_library(root, path)
    first = library.first_seen("council-budget")
    assert first is not None and first.tzinfo is not None
    touch_later(root / "council.yaml", BRIEF.replace("title: Council", "title: Town council"))
    assert load_library(root, path).first_seen("council-budget") == first


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(os.urandom(64 * 1024)), id="random bytes"),
        pytest.param(
            lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), id="truncated"
        ),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:100]), id="header only"),
        pytest.param(lambda p: p.write_text("not a database"), id="text"),
        pytest.param(lambda p: p.write_bytes(b""), id="empty"),
    ],
)
def test_a_damaged_index_is_rebuilt_with_one_log_line(
    root: Path, path: Path, damage: object, caplog: pytest.LogCaptureFixture
) -> None:
    BriefIndex(root, path).sync()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    damage(path)  # type: ignore[operator]
    with caplog.at_level(logging.WARNING, logger="bot.briefs.index"):
        library = load_library(root, path)
    assert library.get("council-budget") is not None and library.errors == ()
    assert [h.id for h, _ in library.search("libraries")] == ["council-budget"]
    if path.stat().st_size and damage is not None:
        rebuilt = [r for r in caplog.records if "rebuilding" in r.getMessage()]
        assert len(rebuilt) <= 1


def test_a_newer_schema_is_rebuilt_and_said_so(
    root: Path, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    BriefIndex(root, path).sync()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    with caplog.at_level(logging.WARNING, logger="bot.briefs.index"):
        library = load_library(root, path)
    assert library.get("council-budget") is not None
    (line,) = [r.getMessage() for r in caplog.records if "rebuilding" in r.getMessage()]
    assert "newer briefbot (schema 99)" in line


def test_an_index_for_another_folder_is_rebuilt(tmp_path: Path, root: Path, path: Path) -> None:
    other = write_briefs(tmp_path / "other")
    (other / "council.yaml").write_text(OTHER, encoding="utf-8")
    BriefIndex(other, path).sync()
    library = load_library(root, path)
    assert [b.id for b in library.briefs] == ["council-budget"]


async def test_index_deleted_while_running_is_rebuilt_at_the_next_reload(
    root: Path, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    live = LiveLibrary(root, path)
    remove(path)
    # Still served from the open view meanwhile.
    assert live.current().get("council-budget") is not None
    assert await live.changed()
    with caplog.at_level(logging.WARNING, logger="bot.briefs.index"):
        report = await live.reload()
    assert report.total == 1 and live.index.path.stat().st_size > 0
    assert live.current().get("council-budget") is not None
    assert any("removed while running" in r.getMessage() for r in caplog.records)


def test_a_locked_index_is_waited_on(root: Path, path: Path) -> None:
    index = BriefIndex(root, path)
    index.sync()
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process writing
    release = threading.Timer(0.3, lambda: holder.execute("ROLLBACK"))
    release.start()
    started = time.monotonic()
    try:
        report = index.sync()
    finally:
        release.join()
        holder.close()
    assert time.monotonic() - started >= 0.25
    assert report.added == ("other-story",)


async def test_a_index_locked_too_long_keeps_the_current_library(
    root: Path, path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    live = LiveLibrary(root, path)
    monkeypatch.setattr(index_module, "BUSY_TIMEOUT_S", 0.1)
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(IndexBusy):
            live.index.sync()
        with caplog.at_level(logging.WARNING, logger="bot.briefs.reloader"):
            report = await live.reload()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert report.total == 1 and live.current().get("council-budget") is not None
    assert any("busy" in r.getMessage() for r in caplog.records)
    assert (await live.reload()).added == ("other-story",)


def test_two_processes_share_one_index(root: Path, path: Path) -> None:
    bot = BriefIndex(root, path)
    bot.sync()
    view = open_library(bot)
    # `briefbot ask` opens the same file while the bot holds a view of it.
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    asked = load_library(root, path)
    assert len(asked.briefs) == 2
    assert len(view.briefs) == 1  # the bot's view is consistent until it reloads
    assert bot.sync().parsed == 0  # the other process already did the work
    assert len(open_library(bot).briefs) == 2


def test_a_bulk_build_indexes_full_text_like_a_row_by_row_one(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    row_by_row = load_library(root, tmp_path / "a.sqlite3")
    monkeypatch.setattr(index_module, "BULK_FILES", 1)
    bulk_path = tmp_path / "b.sqlite3"
    bulk = load_library(root, bulk_path)
    for query in ("budget", "harbour", "librar*", '"missed chance"'):
        assert [(h.id, x.marked) for h, x in bulk.search(query)] == [
            (h.id, x.marked) for h, x in row_by_row.search(query)
        ]
    assert list(bulk.brief_index.containing("ferry")) == ["harbour ferry restarts"]
    # Row-by-row upkeep works after a bulk build (the triggers are back).
    touch_later(root / "other.yaml", OTHER.replace("Harbour ferry", "Harbour tram"))
    again = load_library(root, bulk_path)
    assert [h.title for h, _ in again.search("tram")] == ["Harbour tram restarts"]
    assert again.search("ferry") == []


async def test_the_bot_serves_a_finished_index_at_once_then_catches_up(
    root: Path, path: Path
) -> None:
    LiveLibrary(root, path)  # an earlier run
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")  # added while the bot was down
    live = LiveLibrary(root, path, serve_first=True)
    assert live.behind and len(live.current().briefs) == 1
    await live.catch_up()
    assert not live.behind and live.current().get("other-story") is not None
    # With no finished index there is nothing to serve yet: the files are read first.
    fresh = LiveLibrary(root, path.with_name("new.sqlite3"), serve_first=True)
    assert not fresh.behind and len(fresh.current().briefs) == 2


async def test_a_reload_after_a_watched_edit_looks_only_at_that_file(
    root: Path, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    live = LiveLibrary(root, path)
    looked: list[str] = []
    stat = BriefIndex._stat

    def spy(self: BriefIndex, name: str) -> tuple[int, int] | None:
        looked.append(name)
        return stat(self, name)

    monkeypatch.setattr(BriefIndex, "_stat", spy)
    monkeypatch.setattr(BriefIndex, "_scan", lambda self: pytest.fail("scanned every file"))
    touch_later(root / "other.yaml", OTHER.replace("Harbour ferry", "Harbour tram"))
    report = await live.reload()
    assert looked == ["other.yaml"] and report.updated == ("other-story",)
    (root / "other.yaml").rename(root / "moved.yaml")
    assert (await live.reload()).updated == ()
    assert sorted(looked[1:]) == ["moved.yaml", "other.yaml"]
    assert live.current().get("other-story") is not None
