"""The validated cache: reused only while files, vocabulary and sources are unchanged."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from bot.briefs import fast, loader
from bot.briefs.library import Library, load_library
from tests.conftest import BRIEF, SOURCE, write_briefs

LATER = BRIEF.replace("id: council-budget", "id: later-budget").replace(
    "{value: 2026-03-05", "{value: 2026-03-09"
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_briefs(tmp_path / "b", **{"later.yaml": LATER})


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to parse a brief file fail the test."""

    def refuse(path: Path, run: object) -> object:
        raise AssertionError(f"{path} was parsed")

    monkeypatch.setattr(loader, "_load_file", refuse)


def dump(library: Library) -> list[dict[str, object]]:
    return [b.model_dump() for b in library.briefs]


def touch(path: Path, text: str) -> None:
    """Rewrite a file, making sure its stamp changes even on coarse clocks."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_warm_load_comes_from_the_cache_and_equals_the_cold_one(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "data" / "cache.jsonl"
    cold = load_library(root, cache=cache)
    assert cache.exists() and cold.errors == ()
    no_parsing(monkeypatch)
    warm = load_library(root, cache=cache)
    assert dump(warm) == dump(cold)
    assert [lb.stamp for lb in warm.files.values()] == [lb.stamp for lb in cold.files.values()]


def test_unchanged_cache_is_not_rewritten(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.jsonl"
    load_library(root, cache=cache)
    os.utime(cache, ns=(1, 1))
    load_library(root, cache=cache)
    assert cache.stat().st_mtime_ns == 1


def test_an_edited_file_is_parsed_again_and_wins(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.jsonl"
    load_library(root, cache=cache)
    touch(root / "later.yaml", LATER.replace("title: Council", "title: Edited"))
    library = load_library(root, cache=cache)
    assert library.get("later-budget").title == "Edited approves budget"  # type: ignore[union-attr]
    # And the cache now holds the edit.
    again = load_library(root, cache=cache)
    assert again.get("later-budget").title == "Edited approves budget"  # type: ignore[union-attr]


def test_a_broken_edit_is_reported_and_never_served_from_the_cache(
    root: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.jsonl"
    load_library(root, cache=cache)
    touch(root / "later.yaml", LATER.replace("title: Council", "title: [Council"))
    library = load_library(root, cache=cache)
    assert [b.id for b in library.briefs] == ["council-budget"]
    assert "later.yaml:3: (file): YAML syntax error" in str(library.errors[0])


def test_an_edited_source_is_grounded_again(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.jsonl"
    load_library(root, cache=cache)
    touch(root / "sources" / "council.txt", SOURCE.replace("a missed chance", "a lost chance"))
    errors = [str(e) for e in load_library(root, cache=cache).errors]
    assert len(errors) == 2 and all("'a missed chance' does not appear" in e for e in errors)


def test_an_edited_vocabulary_invalidates_every_brief(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache.jsonl"
    load_library(root, cache=cache)
    vocabulary = root / "topics.yaml"
    touch(
        vocabulary, vocabulary.read_text().replace("aliases: [buses, trains]", "aliases: [buses]")
    )
    parsed: list[str] = []
    original = loader._load_file

    def spy(path: Path, run: loader._Run) -> fast.FileOutcome:
        parsed.append(path.name)
        return original(path, run)

    monkeypatch.setattr(loader, "_load_file", spy)
    assert load_library(root, cache=cache).errors == ()
    assert sorted(parsed) == ["council.yaml", "later.yaml"]


def test_a_removed_file_leaves_the_library(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.jsonl"
    load_library(root, cache=cache)
    (root / "later.yaml").unlink()
    assert [b.id for b in load_library(root, cache=cache).briefs] == ["council-budget"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: "",
        lambda text: "not json at all\n" + text,
        lambda text: text[: len(text) // 2],  # truncated mid-line
        lambda text: text.replace('"stamp": [[', '"stamp": [["x", '),
        lambda text: text.replace('"name": "later.yaml"', '"name": 5'),
        lambda text: text.replace('"code": "', '"code": "other'),
        lambda text: text.replace('"root": "', '"root": "/elsewhere'),
        lambda text: text.replace("\t", " "),
        lambda text: "\x00\xff" * 100,
    ],
)
def test_a_damaged_or_foreign_cache_is_ignored(
    root: Path, tmp_path: Path, damage: object, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache.jsonl"
    good = load_library(root, cache=cache)
    cache.write_text(damage(cache.read_text()), encoding="utf-8")  # type: ignore[operator]
    with caplog.at_level(logging.INFO, logger="bot.briefs.loader"):
        library = load_library(root, cache=cache)
    assert dump(library) == dump(good) and library.errors == ()
    # The cache is written afresh, and serves the next start.
    assert dump(load_library(root, cache=cache)) == dump(good)


def test_a_cached_brief_that_no_longer_validates_is_loaded_from_its_file(
    root: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.jsonl"
    good = load_library(root, cache=cache)
    cache.write_text(cache.read_text().replace('"id":"later-budget"', '"id":"Not An Id"'))
    assert dump(load_library(root, cache=cache)) == dump(good)


def test_an_unwritable_cache_only_logs(
    root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    library = load_library(root, cache=blocker / "cache.jsonl")
    assert library.errors == () and len(library.briefs) == 2
    assert "could not write brief cache" in caplog.text


def test_cache_lines_name_their_file_source_and_stamp(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.jsonl"
    load_library(root, cache=cache)
    header, *lines = cache.read_bytes().splitlines()
    assert json.loads(header)["format"] == fast.CACHE_FORMAT
    metas = [json.loads(line.split(b"\t", 1)[0]) for line in lines]
    assert sorted(m["name"] for m in metas) == ["council.yaml", "later.yaml"]
    assert all(m["source"] == "sources/council.txt" and len(m["stamp"]) == 3 for m in metas)
