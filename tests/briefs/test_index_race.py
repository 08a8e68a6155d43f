"""Two processes opening one index while one of them commits its first build: the other must
not take the build for a damaged index and delete it (a bot then served an empty library and
skipped every digest as "nothing new")."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bot.briefs.index as index_module
from bot.briefs.index import INDEX_FILE, BriefIndex
from bot.briefs.library import open_library
from tests.conftest import write_briefs


class _MetaReadHook:
    """A connection that runs `then` once, right after its first read of the index's meta."""

    def __init__(self, conn: sqlite3.Connection, then: Callable[[], object]) -> None:
        self._conn = conn
        self._then: Callable[[], object] | None = then

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        cursor = self._conn.execute(sql, *args)
        if self._then is not None and sql.startswith("SELECT key, value FROM meta"):
            then, self._then = self._then, None
            then()
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_a_build_committed_while_another_process_checks_the_index_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    root = write_briefs(tmp_path / "briefs")
    path = tmp_path / "data" / INDEX_FILE
    builder = BriefIndex(root, path)  # the first bot: creates the index, then builds it
    checker = BriefIndex(root, path)  # the second bot, starting meanwhile
    assert not builder.ready()  # created, nothing built yet
    connect = index_module._connect
    built: list[object] = []

    def hooked(where: str) -> Any:
        # The worst moment: the builder commits between the checker's reads (the builder's
        # own connections are plain ones).
        monkeypatch.setattr(index_module, "_connect", connect)
        return _MetaReadHook(connect(where), lambda: built.append(builder.sync()))

    monkeypatch.setattr(index_module, "_connect", hooked)
    with caplog.at_level(logging.WARNING, logger="bot.briefs.index"):
        ready = checker.ready()

    assert built, "the build did not run during the check"
    # The check saw a consistent index, and the build is still there for both to serve.
    assert not [r.getMessage() for r in caplog.records if "rebuilding" in r.getMessage()]
    assert ready
    for index in (builder, checker):
        library = open_library(index)
        try:
            assert [b.id for b in library.briefs] == ["council-budget"]
        finally:
            library.close()


def test_a_view_of_an_index_not_built_yet_says_so(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "briefs")
    index = BriefIndex(root, tmp_path / "data" / INDEX_FILE)
    # Created, not built: what a process sees that opens its view just after another one
    # deleted the index and created it anew (the inode number may even be the old one's).
    assert not index.ready()
    early = open_library(index)
    try:
        assert (early.built, len(early.briefs)) == (False, 0)
    finally:
        early.close()  # a new index is not in WAL mode yet: a reader holds off the build
    index.sync()
    later = open_library(index)
    try:
        assert (later.built, len(later.briefs)) == (True, 1)
    finally:
        later.close()


def test_a_view_of_an_unbuilt_index_does_not_hold_off_its_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Held off, the build would wait the whole busy timeout and give up ("index busy").
    monkeypatch.setattr(index_module, "BUSY_TIMEOUT_S", 1.0)
    root = write_briefs(tmp_path / "briefs")
    path = tmp_path / "data" / INDEX_FILE
    vocabulary = (root / "topics.yaml").read_text(encoding="utf-8")
    (root / "topics.yaml").write_text("topics: [oops\n", encoding="utf-8")
    first = BriefIndex(root, path)
    first.sync()  # nothing built: the vocabulary is broken
    # A new file stays in rollback-journal mode until a check switches it to WAL; there a
    # reader's lock keeps any writer from committing.
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    view = open_library(first)  # this bot serves what there is meanwhile: nothing
    assert not view.built and not view.briefs
    (root / "topics.yaml").write_text(vocabulary, encoding="utf-8")
    try:
        BriefIndex(root, path).sync()  # another process (or this one's reload) builds it
        built = open_library(BriefIndex(root, path))
        assert built.built and [b.id for b in built.briefs] == ["council-budget"]
        built.close()
    finally:
        view.close()
