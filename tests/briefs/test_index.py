"""The on-disk brief index: incremental, files win, and a damaged or busy index never crashes."""

from __future__ import annotations

import asyncio
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
    root: Path,
    path: Path,
    damage: object,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    BriefIndex(root, path).sync()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    damage(path)  # type: ignore[operator]
    with caplog.at_level(logging.WARNING, logger="bot.briefs.index"):
        library = load_library(root, path)
    assert library.get("council-budget") is not None and library.errors == ()
    assert [h.id for h, _ in library.search("libraries")] == ["council-budget"]
    rebuilt = [r.getMessage() for r in caplog.records if "rebuilding" in r.getMessage()]
    if request.node.callspec.id == "empty":
        assert rebuilt == []  # nothing to lose: built as a new index
    else:
        (line,) = rebuilt  # one clear line, naming the file
        assert str(path) in line


def pages(path: Path) -> int:
    return path.stat().st_size // 4096


def damage_page(path: Path, page: int, good: bytes) -> None:
    """The index as it was, but for one page of random bytes (a torn write, a bad sector)."""
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(good[: page * 4096] + os.urandom(4096) + good[(page + 1) * 4096 :])


def test_a_damaged_page_anywhere_is_rebuilt_when_read_and_every_answer_stays_right(
    root: Path, path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import ask

    index = BriefIndex(root, path)
    index.sync()
    index.sync()  # the full check's fingerprint written: a later sync reads few pages
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    good = path.read_bytes()
    asked = {
        "/summary": "Council approves budget",
        "/quotes speaker:jane": "Quotes by Jane Doe",
        "/topic name:budget": "Topic: Budget",
        "/search query:libraries": "**libraries**",
        "/search query:librar* speaker:jane": "**libraries**",
    }
    found = 0
    for page in range(1, pages(path)):  # page 0 is the header: test_a_damaged_index_…
        damage_page(path, page, good)
        caplog.clear()
        for line, expected in asked.items():
            with caplog.at_level(logging.WARNING, logger="bot.briefs.index"):
                assert ask(line, root, path) == 0, (page, line)
            assert expected in capsys.readouterr().out, (page, line)
        rebuilt = [r.getMessage() for r in caplog.records if "rebuilding" in r.getMessage()]
        assert len(rebuilt) <= 1, (page, rebuilt)  # found once, then rebuilt
        found += len(rebuilt)
    assert found >= pages(path) // 4  # most pages are read by one of these questions


def live_with_damage_only_a_search_reads(root: Path, path: Path) -> LiveLibrary:
    """The bot started on an index with a damaged page that its start does not read, but a
    search does (found by trying each page)."""
    from bot.briefs.index import IndexDamaged

    index = BriefIndex(root, path)
    index.sync()
    index.sync()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    good = path.read_bytes()
    for page in range(1, pages(path)):
        damage_page(path, page, good)
        live = LiveLibrary(root, path)  # a page its start reads: found and rebuilt there
        try:
            live.current().search("libraries")
        except IndexDamaged:
            return live
        live.current().close()
    pytest.fail("no page is read only by a search")


async def test_the_bot_rebuilds_an_index_a_command_found_damaged(
    root: Path, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    live = live_with_damage_only_a_search_reads(root, path)
    assert live.current().damage is not None
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.briefs.index"):
        live.current()  # the next reader starts the rebuild
        assert live._recovering is not None
        await live._recovering
    assert [h.id for h, _ in live.current().search("libraries")] == ["council-budget"]
    assert live.current().damage is None
    (line,) = [r.getMessage() for r in caplog.records]
    assert "is corrupt (database disk image is malformed): rebuilding it" in line


async def test_the_watcher_rebuilds_an_index_a_digest_found_damaged(root: Path, path: Path) -> None:
    live = live_with_damage_only_a_search_reads(root, path)
    # Found by a reader that does not come back through current() (a digest holds its view).
    assert live._library.damage is not None and live._recovering is None
    watcher = asyncio.create_task(live.watch(0.01))
    try:
        for _ in range(500):
            if live._library.damage is None:
                break
            await asyncio.sleep(0.01)
        assert [h.id for h, _ in live.current().search("libraries")] == ["council-budget"]
        assert live.current().damage is None
    finally:
        watcher.cancel()


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


def in_place(path: Path, old: str, new: str) -> None:
    """Edit a file in place to the same size, its mtime a second on (the folder's unchanged)."""
    text = path.read_text("utf-8")
    assert len(old) == len(new) and old in text
    touch_later(path, text.replace(old, new))


def test_an_unchanged_folder_is_checked_without_reading_every_row(
    root: Path, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    BriefIndex(root, path).sync()
    BriefIndex(root, path).sync()  # the first full check after the build records the files
    monkeypatch.setattr(BriefIndex, "_look", lambda *_: pytest.fail("compared row by row"))
    assert BriefIndex(root, path).sync() == index_module.SyncReport()


@pytest.mark.parametrize("restart", [False, True])
def test_an_in_place_edit_of_the_same_size_is_found_by_a_full_check(
    root: Path, path: Path, restart: bool
) -> None:
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    index = BriefIndex(root, path)
    index.sync()
    assert index.sync().parsed == 0
    in_place(root / "other.yaml", "Harbour ferry", "Harbour trams")
    if restart:
        index = BriefIndex(root, path)
    assert index.sync().updated == ("other-story",)
    assert open_library(index).get("other-story").title == "Harbour trams restarts"  # type: ignore[union-attr]
    # And an in-place edit of a source text: its brief is grounded again.
    in_place(root / "sources" / "council.txt", "a missed chance", "a kissed chance")
    library = load_library(root, path)
    assert "does not appear verbatim" in str(library.errors[0])


def test_a_source_outside_the_sources_folder_is_still_checked(root: Path, path: Path) -> None:
    (root / "texts").mkdir()
    (root / "sources" / "council.txt").rename(root / "texts" / "council.txt")
    brief = (root / "council.yaml").read_text("utf-8")
    (root / "council.yaml").write_text(brief.replace("sources/council", "texts/council"), "utf-8")
    index = BriefIndex(root, path)
    index.sync()
    index.sync()
    in_place(root / "texts" / "council.txt", "a missed chance", "a kissed chance")
    library = load_library(root, path)
    assert "does not appear verbatim" in str(library.errors[0])


def test_a_large_index_lists_the_sources_in_a_child_and_still_sees_their_edits(
    root: Path, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = BriefIndex(root, path)
    index.sync()
    index.sync()
    forks: list[int] = []
    fork = os.fork

    def counted() -> int:
        pid = fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(index_module, "FORK_SCAN_MIN", 1)
    monkeypatch.setattr(index_module.threading, "active_count", lambda: 1)
    monkeypatch.setattr(index_module.os, "fork", counted)
    look = BriefIndex._look
    monkeypatch.setattr(BriefIndex, "_look", lambda *_: pytest.fail("compared row by row"))
    assert index.sync() == index_module.SyncReport()
    monkeypatch.setattr(BriefIndex, "_look", look)
    in_place(root / "sources" / "council.txt", "a missed chance", "a kissed chance")
    library = load_library(root, path)
    assert "does not appear verbatim" in str(library.errors[0])
    assert len(forks) == 2


def test_after_a_watched_edit_a_full_check_needs_no_row_by_row_comparison(
    root: Path, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    bot = BriefIndex(root, path)
    bot.sync()
    bot.sync()
    in_place(root / "other.yaml", "Harbour ferry", "Harbour trams")
    assert bot.sync(names=["other.yaml"]).updated == ("other-story",)  # the bot's watcher
    look = BriefIndex._look
    monkeypatch.setattr(BriefIndex, "_look", lambda *_: pytest.fail("compared row by row"))
    assert BriefIndex(root, path).sync() == index_module.SyncReport()  # `briefbot ask`
    monkeypatch.setattr(BriefIndex, "_look", look)
    # Edited again before the watcher looked, or another file edited: both found.
    in_place(root / "other.yaml", "Harbour trams", "Harbour buses")
    assert BriefIndex(root, path).sync().updated == ("other-story",)
    bot.sync(names=["other.yaml"])
    in_place(root / "council.yaml", "Council approves", "Council approved")
    assert BriefIndex(root, path).sync().updated == ("council-budget",)
    assert load_library(root, path).get("other-story").title == "Harbour buses restarts"  # type: ignore[union-attr]


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat every index as large, and this process as single-threaded (as `ask` is)."""
    monkeypatch.setattr(index_module, "FORK_SCAN_MIN", 1)
    monkeypatch.setattr(index_module, "_forking_allowed", lambda: True)


@pytest.mark.usefixtures("large")
def test_a_quick_check_in_children_says_whether_any_file_changed(root: Path, path: Path) -> None:
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    index = BriefIndex(root, path)
    index.sync()
    check = index.quick_check()
    assert check is not None and check()
    edits = [
        (root / "other.yaml", "Harbour ferry", "Harbour trams"),
        (root / "sources" / "council.txt", "a missed chance", "a kissed chance"),
        (root / "topics.yaml", "buses", "bused"),
    ]
    for file, old, new in edits:
        in_place(file, old, new)
        check = index.quick_check()
        assert check is not None and not check(), file
        index.sync()
        check = index.quick_check()
        assert check is not None and check(), file
    # A watcher's edit is noted: still unchanged to the check (and the sync agrees).
    in_place(root / "other.yaml", "Harbour trams", "Harbour buses")
    index.sync(names=["other.yaml"])
    check = index.quick_check()
    assert check is not None and check()
    (root / "new.yaml").write_text(OTHER.replace("other-story", "new-story"), "utf-8")
    check = index.quick_check()
    assert check is not None and not check()


def test_no_quick_check_for_a_small_index(root: Path, path: Path) -> None:
    index = BriefIndex(root, path)
    index.sync()
    assert index.quick_check() is None  # one brief: the sync itself is quick


@pytest.mark.usefixtures("large")
def test_ask_on_a_large_index_never_answers_from_a_stale_one(
    root: Path, path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import ask

    (root / "other.yaml").write_text(OTHER, encoding="utf-8")
    BriefIndex(root, path).sync()
    assert ask("/summary brief:other-story", root, path) == 0
    assert "Harbour ferry restarts" in capsys.readouterr().out
    in_place(root / "other.yaml", "Harbour ferry", "Harbour trams")
    assert ask("/summary brief:other-story", root, path) == 0
    out = capsys.readouterr().out
    assert "Harbour trams restarts" in out and "ferry" not in out


@pytest.mark.usefixtures("large")
def test_after_a_watched_new_file_a_full_check_needs_no_row_by_row_comparison(
    root: Path, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = BriefIndex(root, path)
    bot.sync()
    (root / "other.yaml").write_text(OTHER, encoding="utf-8")  # published while the bot runs
    assert bot.sync(names=["other.yaml"]).added == ("other-story",)
    check = bot.quick_check()
    assert check is not None and check()
    look = BriefIndex._look
    # (This relies on the folder listing its other files in the same order after an addition,
    # as ext4, tmpfs and btrfs do; where not, the rows are compared: slower, never wrong.)
    monkeypatch.setattr(BriefIndex, "_look", lambda *_: pytest.fail("compared row by row"))
    assert BriefIndex(root, path).sync() == index_module.SyncReport()
    monkeypatch.setattr(BriefIndex, "_look", look)
    # The new file edited before the watcher looked: found by both checks.
    in_place(root / "other.yaml", "Harbour ferry", "Harbour trams")
    check = bot.quick_check()
    assert check is not None and not check()
    assert BriefIndex(root, path).sync().updated == ("other-story",)
    # A file deleted while the bot runs: the next full check compares the rows, and finds it.
    bot.sync()
    (root / "other.yaml").unlink()
    bot.sync(names=["other.yaml"])
    assert BriefIndex(root, path).sync() == index_module.SyncReport()
    assert load_library(root, path).get("other-story") is None


def test_the_console_rebuilds_an_index_a_command_found_damaged(root: Path, path: Path) -> None:
    import io

    from bot.adapters.console import Console

    live_with_damage_only_a_search_reads(root, path).current().close()
    out = io.StringIO()
    console = Console(root, stdin=io.StringIO(), stdout=out, index=path)
    assert console.handle("/search query:libraries")
    assert "**libraries**" in out.getvalue()
    assert console.library.damage is None


async def test_a_deleted_briefs_own_speakers_leave_autocomplete_and_did_you_mean(
    tmp_path: Path, path: Path
) -> None:
    from bot.queries import complete, quotes
    from tests.queries.test_speaker_kinds import BRIEF as NIGHT
    from tests.queries.test_speaker_kinds import SOURCE as NIGHT_SOURCE

    root = await asyncio.to_thread(write_briefs, tmp_path / "b", **{"night.yaml": NIGHT})
    await asyncio.to_thread((root / "sources" / "night.txt").write_text, NIGHT_SOURCE, "utf-8")
    live = await asyncio.to_thread(LiveLibrary, root, path)
    offered = [c.value for c in complete.speakers(live.current(), "transp")]
    assert offered == ["Transport Ministry"]
    assert "Transport Ministry" in quotes.quotes(live.current(), "Transport Ministri").suggestions
    await asyncio.to_thread((root / "night.yaml").unlink)
    assert (await live.reload()).removed == ("night-buses",)
    library = live.current()
    assert complete.speakers(library, "transp") == []
    assert [c.value for c in complete.briefs(library, "")] == ["council-budget"]
    assert "Transport Ministry" not in quotes.quotes(library, "Transport Ministri").suggestions
    assert quotes.quotes(library, "Transport Ministry").title == "Speaker not found"
    assert everywhere(library, "night-buses") == []
