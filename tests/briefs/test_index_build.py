"""The index's build paths write the same rows: one process or workers, row by row or in bulk."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest

from bot.briefs import fast
from bot.briefs import index as index_module
from bot.briefs.index import BriefIndex
from bot.briefs.library import open_library
from tests.briefs.test_index import OTHER
from tests.conftest import BRIEF, write_briefs

# Every table, as rows that do not depend on brief numbers or entry rowids.
_DUMP = {
    "files": "SELECT * FROM files ORDER BY path",
    "briefs": "SELECT id, path, title, sort_date, date, summary, quote_count, json FROM briefs "
    "ORDER BY id",
    "people": "SELECT b.id, p.name, p.aliases, p.role, p.kind FROM people p "
    "JOIN briefs b ON b.num = p.num ORDER BY 1, 2",
    "speakers": "SELECT * FROM speakers ORDER BY name",
    "entries": "SELECT b.id, e.kind, e.ord, e.body, e.speaker, e.context, e.extra, e.topics, "
    "e.unnamed, e.sort_date, e.tags FROM entries e JOIN briefs b ON b.num = e.num "
    "ORDER BY 1, 2, 3",
    "topic_entries": "SELECT t.topic, t.kind, t.sort_date, t.brief_id, e.kind, e.ord, b.id "
    "FROM topic_entries t LEFT JOIN entries e ON e.rowid = t.entry "
    "JOIN briefs b ON b.num = t.num ORDER BY 1, 2, 4, 5, 6",
    "mentions": "SELECT m.name, m.sort_date, m.brief_id, e.kind, e.ord, b.id FROM mentions m "
    "JOIN entries e ON e.rowid = m.entry JOIN briefs b ON b.num = m.num ORDER BY 1, 3, 5",
    "topic_usage": "SELECT * FROM topic_usage ORDER BY topic",
    "brief_labels": "SELECT l.label, l.brief_id, b.id FROM brief_labels l "
    "JOIN briefs b ON b.num = l.num ORDER BY 1, 2",
    "search": "SELECT b.id, e.kind, e.ord FROM search JOIN entries e ON e.rowid = search.rowid "
    "JOIN briefs b ON b.num = e.num WHERE search MATCH 'budget OR harbour OR librar*' "
    "ORDER BY 1, 2, 3",
    "label_grams": "SELECT label FROM label_grams WHERE label_grams MATCH 'rry' ORDER BY 1",
}


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, and the full-text tables checked whole."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("INSERT INTO search(search) VALUES ('integrity-check')")
        conn.execute("INSERT INTO label_grams(label_grams) VALUES ('integrity-check')")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {table: conn.execute(sql).fetchall() for table, sql in _DUMP.items()}
    finally:
        conn.close()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    files = {
        f"b{i:02}.yaml": BRIEF.replace("id: council-budget", f"id: brief-{i}") for i in range(12)
    }
    files["broken.yaml"] = "id: x\ntitle: [unclosed\n"
    files["dup.yaml"] = BRIEF  # the id council.yaml has: an error, never served
    files["ungrounded.yaml"] = BRIEF.replace("id: council-budget", "id: u").replace(
        "a missed chance", "a missed opportunity"
    )
    files["other.yaml"] = OTHER
    root = write_briefs(tmp_path / "briefs", **files)
    mtime = 1_700_000_000_000_000_000
    for path in sorted(root.glob("*.yaml")):
        mtime += 1_000_000_000
        os.utime(path, ns=(mtime, mtime))  # first seen: the files' times, as an archive's
    return root


def workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse in forked workers even for a handful of files (and with test threads about)."""
    monkeypatch.setattr(fast, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(fast, "_cores", lambda: 2)
    monkeypatch.setattr(fast, "_fork_context", lambda: multiprocessing.get_context("fork"))


def test_workers_and_bulk_build_write_what_one_process_writes_row_by_row(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain.sqlite3"
    assert BriefIndex(root, plain).sync(parallel=False).parsed == 17
    workers(monkeypatch)
    monkeypatch.setattr(index_module, "BULK_FILES", 1)
    monkeypatch.setattr(index_module._Writer, "BATCH", 3)  # several batches
    bulk = tmp_path / "bulk.sqlite3"
    assert BriefIndex(root, bulk).sync().parsed == 17
    expected = dump(plain)
    assert dump(bulk) == expected
    assert len(expected["briefs"]) == 14  # 12 copies, the council brief and the ferry
    errors = {path: error for path, *_, error in expected["files"] if error is not None}
    assert sorted(errors) == ["broken.yaml", "dup.yaml", "ungrounded.yaml"]
    assert "duplicate id 'council-budget'" in errors["dup.yaml"]
    # Both serve the same answers (the indexes a first build makes at the end are there).
    for path in (plain, bulk):
        library = open_library(BriefIndex(root, path))
        assert library.get("u") is None and library.get("brief-3") is not None
        assert len(library.quotes_by("Jane Doe")) == 14


def test_a_bulk_sync_into_a_built_index_writes_what_a_first_build_writes(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = tmp_path / "whole.sqlite3"
    BriefIndex(root, whole).sync(parallel=False)
    later = {path: path.read_bytes() for path in sorted(root.glob("b[0-9]*.yaml"))[4:]}
    for path in later:
        path.unlink()
    growing = tmp_path / "growing.sqlite3"
    index = BriefIndex(root, growing)
    index.sync(parallel=False)
    for path, content in later.items():
        path.write_bytes(content)
        os.utime(path, ns=(1_700_000_000_000_000_000,) * 2)
    workers(monkeypatch)
    monkeypatch.setattr(index_module, "BULK_FILES", 1)
    monkeypatch.setattr(index_module._Writer, "BATCH", 3)
    # An edit of a file indexed before, in the same bulk sync: its old rows go.
    (root / "other.yaml").write_text(OTHER.replace("Harbour ferry", "Harbour tram"), "utf-8")
    (root / "b00.yaml").unlink()
    report = index.sync()
    assert (report.parsed, report.updated, report.removed) == (9, ("other-story",), ("brief-0",))
    (root / "other.yaml").write_text(OTHER, "utf-8")
    index.sync()
    (root / "b00.yaml").write_bytes(BRIEF.replace("id: council-budget", "id: brief-0").encode())
    index.sync()
    expected, got = dump(whole), dump(growing)
    for table in _DUMP:
        if table != "files":  # stamps differ: the files were written again
            assert got[table] == expected[table], table


def test_a_first_build_leaves_an_index_readers_share_with_a_writer(
    root: Path, tmp_path: Path
) -> None:
    path = tmp_path / "index.sqlite3"
    BriefIndex(root, path).sync(parallel=False)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_an_interrupted_first_build_is_built_again_from_the_files(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "index.sqlite3"
    monkeypatch.setattr(index_module._Writer, "BATCH", 3)
    flush = index_module._Writer.flush
    calls: list[int] = []

    def crash(self: index_module._Writer) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # stopped half way through
        flush(self)

    monkeypatch.setattr(index_module._Writer, "flush", crash)
    with pytest.raises(KeyboardInterrupt):
        BriefIndex(root, path).sync(parallel=False)
    monkeypatch.setattr(index_module._Writer, "flush", flush)
    report = BriefIndex(root, path).sync(parallel=False)
    assert report.parsed == 17
    library = open_library(BriefIndex(root, path))
    assert len(library.briefs) == 14 and len(library.errors) == 3
