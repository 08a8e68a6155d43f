"""Briefs edited on disk go live without a restart; a broken edit keeps the last good version."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.briefs.reloader import LiveLibrary, filesystem_of
from tests.conftest import BRIEF, write_briefs


def touch_later(path: Path, text: str) -> None:
    """Write and move the mtime forward, as an editor saving a second later would."""
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


async def test_reload_reports_added_updated_removed(briefs_dir: Path) -> None:
    live = LiveLibrary(briefs_dir)
    touch_later(briefs_dir / "council.yaml", BRIEF.replace("title: Council", "title: City council"))
    (briefs_dir / "other.yaml").write_text(BRIEF.replace("id: council-budget", "id: other"))
    report = await live.reload()
    assert (report.added, report.updated, report.removed) == (("other",), ("council-budget",), ())
    assert live.current().get("council-budget").title == "City council approves budget"  # type: ignore[union-attr]
    (briefs_dir / "other.yaml").unlink()
    report = await live.reload()
    assert report.removed == ("other",)


async def test_broken_edit_keeps_last_good_and_reports(briefs_dir: Path) -> None:
    live = LiveLibrary(briefs_dir)
    touch_later(briefs_dir / "council.yaml", BRIEF.replace("summary:", "summary: [broken"))
    report = await live.reload()
    assert report.total == 1
    assert live.current().get("council-budget") is not None
    assert "council.yaml" in str(report.errors[0])


async def test_watch_picks_up_edits(briefs_dir: Path) -> None:
    live = LiveLibrary(briefs_dir)
    task = asyncio.create_task(live.watch(0.01))
    try:
        touch_later(briefs_dir / "council.yaml", BRIEF.replace("title: Council", "title: New"))
        for _ in range(500):
            brief = live.current().get("council-budget")
            if brief is not None and brief.title == "New approves budget":
                break
            await asyncio.sleep(0.01)
        assert live.current().get("council-budget").title == "New approves budget"  # type: ignore[union-attr]
    finally:
        task.cancel()


async def test_broken_vocabulary_keeps_serving(briefs_dir: Path) -> None:
    live = LiveLibrary(briefs_dir)
    touch_later(briefs_dir / "topics.yaml", "topics: [oops\n")
    report = await live.reload()
    assert report.total == 1 and "topics.yaml" in str(report.errors[0])


async def test_index_is_kept_current_and_files_win_over_it(
    briefs_dir: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "data" / "briefs.index.sqlite3"
    live = LiveLibrary(briefs_dir, cache)
    assert cache.is_file()
    touch_later(briefs_dir / "council.yaml", BRIEF.replace("title: Council", "title: City council"))
    await live.reload()
    # A restart reads the cache, and sees the edit the reload made, not the first version.
    restarted = LiveLibrary(briefs_dir, cache)
    assert restarted.current().get("council-budget").title == "City council approves budget"  # type: ignore[union-attr]
    # An edit made while the bot was down wins over the cached copy.
    touch_later(briefs_dir / "council.yaml", BRIEF.replace("title: Council", "title: Town council"))
    again = LiveLibrary(briefs_dir, cache)
    assert again.current().get("council-budget").title == "Town council approves budget"  # type: ignore[union-attr]


class CountingLibrary(LiveLibrary):
    """Counts directory scans (each one stats every file: ~0.1 s at 100,000 briefs)."""

    scans = 0

    def _scan(self, before=None):  # type: ignore[no-untyped-def]
        self.scans += 1
        return super()._scan(before)


async def test_the_watcher_reloads_from_the_scan_that_saw_the_change(briefs_dir: Path) -> None:
    live = CountingLibrary(briefs_dir)
    touch_later(briefs_dir / "council.yaml", BRIEF.replace("title: Council", "title: New"))
    scans = live.scans
    scanned = await live._poll()
    assert scanned is not None
    report = await live.reload(scanned)
    assert live.scans == scans + 1  # the poll's scan only
    assert report.updated == ("council-budget",)
    assert await live._poll() is None


async def test_a_scan_made_before_another_reload_is_not_trusted(briefs_dir: Path) -> None:
    live = CountingLibrary(briefs_dir)
    touch_later(briefs_dir / "council.yaml", BRIEF.replace("title: Council", "title: New"))
    stale = await live._poll()
    assert stale is not None
    await live.reload()  # someone else (catch-up, /reload) got there first
    (briefs_dir / "other.yaml").write_text(BRIEF.replace("id: council-budget", "id: other"))
    report = await live.reload(stale)
    # The stale pair would have said "council.yaml changed" and missed other.yaml.
    assert report.added == ("other",)
    assert live.current().get("other") is not None


async def _until(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Wait for `check` to hold (polling every 10 ms); whether it did in time."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def _title(live: LiveLibrary) -> str | None:
    brief = live.current().get("council-budget")
    return brief.title if brief is not None else None


async def test_file_events_serve_an_edit_without_scanning_the_folder(briefs_dir: Path) -> None:
    live = CountingLibrary(briefs_dir)
    start = live.scans
    task = asyncio.create_task(live.watch(3600))  # a scan interval that never comes
    try:
        # Once the events are on, the watcher scans once (what changed before they were on).
        assert await _until(lambda: live.scans == start + 1)
        touch_later(briefs_dir / "council.yaml", BRIEF.replace("title: Council", "title: New"))
        assert await _until(lambda: _title(live) == "New approves budget")
        (briefs_dir / "other.yaml").write_text(BRIEF.replace("id: council-budget", "id: other"))
        assert await _until(lambda: live.current().get("other") is not None)
        (briefs_dir / "other.yaml").unlink()
        assert await _until(lambda: live.current().get("other") is None)
        assert live.scans == start + 1  # each change came from an event, not a scan
    finally:
        task.cancel()


async def test_file_events_see_a_broken_vocabulary(briefs_dir: Path) -> None:
    live = LiveLibrary(briefs_dir)
    task = asyncio.create_task(live.watch(3600))
    try:
        await asyncio.sleep(0.7)  # the events are on
        touch_later(briefs_dir / "topics.yaml", "topics: [oops\n")
        assert await _until(lambda: any("topics.yaml" in str(e) for e in live.current().errors))
        assert _title(live) == "Council approves budget"  # the last good library stays
    finally:
        task.cancel()


async def test_without_file_events_the_watcher_scans(
    briefs_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class NoEvents(LiveLibrary):
        def _events(self):  # type: ignore[no-untyped-def]
            raise OSError("inotify watch limit reached")  # what a full inotify table gives

    live = NoEvents(briefs_dir)
    with caplog.at_level(logging.WARNING, logger="bot.briefs.reloader"):
        task = asyncio.create_task(live.watch(0.01))
        try:
            touch_later(briefs_dir / "council.yaml", BRIEF.replace("title: Council", "title: New"))
            assert await _until(lambda: _title(live) == "New approves budget")
        finally:
            task.cancel()
    assert any(
        "no file events" in r.getMessage() and "inotify watch limit reached" in r.getMessage()
        for r in caplog.records
    )


async def test_a_cancelled_watcher_stops_promptly(briefs_dir: Path) -> None:
    live = LiveLibrary(briefs_dir)
    task = asyncio.create_task(live.watch(3600))
    await asyncio.sleep(0.7)
    task.cancel()
    # A graceful stop waits for it: the event thread looks up every half second.
    done, _ = await asyncio.wait({task}, timeout=2)
    assert task in done and task.cancelled()


MOUNTINFO = r"""22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 259:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
90 27 0:55 / /srv/desk rw,relatime shared:40 - nfs4 files:/export/desk rw,vers=4.2
91 90 0:56 / /srv/desk/local\040copy rw,relatime - ext4 /dev/vdb1 rw
92 27 0:57 / /mnt/host rw,relatime - fuse.sshfs host:/home rw
"""


def test_the_filesystem_of_a_folder_is_its_longest_mount_point() -> None:
    assert filesystem_of("/srv/desk/briefs", MOUNTINFO) == "nfs4"
    assert filesystem_of("/srv/desk", MOUNTINFO) == "nfs4"
    assert filesystem_of("/srv/desk/local copy/briefs", MOUNTINFO) == "ext4"
    assert filesystem_of("/srv/desktop/briefs", MOUNTINFO) == "ext4"  # a prefix is not a mount
    assert filesystem_of("/mnt/host/briefs", MOUNTINFO) == "fuse.sshfs"
    assert filesystem_of("/home/briefs", "") is None


async def test_on_a_network_share_the_watcher_scans(
    briefs_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class OnShare(CountingLibrary):
        def file_events(self) -> tuple[bool, str]:
            return False, "it is on nfs4: edits made on another machine send no file events"

    live = OnShare(briefs_dir)
    start = live.scans
    with caplog.at_level(logging.INFO, logger="bot.briefs.reloader"):
        task = asyncio.create_task(live.watch(0.01))
        try:
            touch_later(briefs_dir / "council.yaml", BRIEF.replace("title: Council", "title: New"))
            assert await _until(lambda: _title(live) == "New approves budget")
        finally:
            task.cancel()
    assert live.scans > start
    (line,) = [r.getMessage() for r in caplog.records if "watching" in r.getMessage()]
    assert "scanning it every 0.01 s (it is on nfs4" in line
    assert not any(r.levelno >= logging.WARNING for r in caplog.records)  # expected, not wrong


def test_a_local_folder_has_file_events(briefs_dir: Path) -> None:
    events, why = LiveLibrary(briefs_dir).file_events()
    assert events, why


async def test_file_events_see_an_edit_to_what_a_linked_brief_points_at(
    briefs_dir: Path,
) -> None:
    (briefs_dir / "archive").mkdir()
    target = briefs_dir / "archive" / "other.yaml"
    target.write_text(BRIEF.replace("id: council-budget", "id: other"), encoding="utf-8")
    (briefs_dir / "other.yaml").symlink_to(Path("archive") / "other.yaml")
    live = CountingLibrary(briefs_dir)
    assert live.current().get("other") is not None
    start = live.scans
    task = asyncio.create_task(live.watch(3600))
    try:
        assert await _until(lambda: live.scans == start + 1)  # the events are on
        # The event names archive/other.yaml, not the link the brief is served from.
        touch_later(
            target,
            BRIEF.replace("id: council-budget", "id: other").replace(
                "title: Council", "title: Linked"
            ),
        )
        assert await _until(
            lambda: getattr(live.current().get("other"), "title", None) == "Linked approves budget"
        )
        assert live.scans == start + 1
    finally:
        task.cancel()


async def test_a_briefs_path_switched_to_another_folder_is_watched_there(tmp_path: Path) -> None:
    first = write_briefs(tmp_path / "release-1")
    second = write_briefs(tmp_path / "release-2")
    touch_later(second / "council.yaml", BRIEF.replace("title: Council", "title: Released"))
    current = tmp_path / "briefs"
    current.symlink_to(first)
    live = LiveLibrary(current)
    task = asyncio.create_task(live.watch(3600))
    try:
        await asyncio.sleep(0.7)  # the events are on, in release-1
        # A deploy swaps the link: the events still come from release-1.
        swap = tmp_path / "briefs.new"
        swap.symlink_to(second)
        swap.replace(current)
        assert await _until(lambda: _title(live) == "Released approves budget")
        touch_later(second / "council.yaml", BRIEF.replace("title: Council", "title: Again"))
        assert await _until(lambda: _title(live) == "Again approves budget")
    finally:
        task.cancel()
