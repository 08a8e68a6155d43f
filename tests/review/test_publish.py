"""Writing a brief into the folder: atomic, never half-written, never over an id unasked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.briefs.library import load_library
from bot.review import publish
from tests.conftest import BRIEF, SOURCE

NEW_ID = "council-budget-2"
NEW_BRIEF = BRIEF.replace("id: council-budget", f"id: {NEW_ID}").replace(
    "sources/council.txt", f"sources/{NEW_ID}.txt"
)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_check_uses_the_loader_and_names_the_problem(briefs_dir: Path) -> None:
    assert publish.check(briefs_dir, NEW_ID, NEW_BRIEF, SOURCE).ok
    bad = publish.check(
        briefs_dir, NEW_ID, NEW_BRIEF.replace("a missed chance", "a lost cause"), SOURCE
    )
    assert not bad.ok
    assert any(
        e.startswith(f"{NEW_ID}.yaml:") and "'a lost cause' does not appear verbatim" in e
        for e in bad.errors
    ), bad.errors


def test_write_puts_source_and_brief_in_place(briefs_dir: Path) -> None:
    publish.write(briefs_dir, NEW_ID, NEW_BRIEF, SOURCE, replace=False)
    assert (briefs_dir / f"{NEW_ID}.yaml").read_text(encoding="utf-8") == NEW_BRIEF
    assert (briefs_dir / "sources" / f"{NEW_ID}.txt").read_text(encoding="utf-8") == SOURCE
    library = load_library(briefs_dir)
    assert library.errors == () and library.get(NEW_ID) is not None
    assert not [n for n in snapshot(briefs_dir) if Path(n).name.startswith(".")]


def test_an_existing_id_is_never_overwritten_without_replace(briefs_dir: Path) -> None:
    publish.write(briefs_dir, NEW_ID, NEW_BRIEF, SOURCE, replace=False)
    before = snapshot(briefs_dir)
    with pytest.raises(publish.AlreadyExists):
        publish.write(briefs_dir, NEW_ID, NEW_BRIEF + "# v2\n", SOURCE, replace=False)
    assert snapshot(briefs_dir) == before
    publish.write(briefs_dir, NEW_ID, NEW_BRIEF + "# v2\n", SOURCE, replace=True)
    assert (briefs_dir / f"{NEW_ID}.yaml").read_text(encoding="utf-8").endswith("# v2\n")


@pytest.mark.parametrize("replacing", [False, True])
@pytest.mark.parametrize("failing_call", [1, 2])
def test_a_failure_at_any_rename_leaves_the_folder_as_it_was(
    briefs_dir: Path, monkeypatch: pytest.MonkeyPatch, replacing: bool, failing_call: int
) -> None:
    if replacing:
        publish.write(briefs_dir, NEW_ID, NEW_BRIEF, SOURCE, replace=False)
    before = snapshot(briefs_dir)
    real = Path.replace
    calls = 0

    def flaky(self: Path, target: str | os.PathLike[str]) -> Path:
        nonlocal calls
        calls += 1
        if calls == failing_call:
            raise OSError(28, "No space left on device")
        return real(self, target)

    monkeypatch.setattr(Path, "replace", flaky)
    new_text = SOURCE + "An added line.\n"
    with pytest.raises(publish.PublishError, match="No space left"):
        publish.write(briefs_dir, NEW_ID, NEW_BRIEF + "# v2\n", new_text, replace=replacing)
    assert snapshot(briefs_dir) == before


def test_a_failure_writing_the_temp_file_leaves_nothing(
    briefs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(briefs_dir)

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish.os, "fsync", full)
    with pytest.raises(publish.PublishError):
        publish.write(briefs_dir, NEW_ID, NEW_BRIEF, SOURCE, replace=False)
    assert snapshot(briefs_dir) == before


def test_a_symlinked_target_is_refused(briefs_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret", encoding="utf-8")
    (briefs_dir / "sources" / f"{NEW_ID}.txt").symlink_to(outside)
    with pytest.raises(publish.PublishError, match="must lie inside the briefs directory"):
        publish.write(briefs_dir, NEW_ID, NEW_BRIEF, SOURCE, replace=True)
    assert outside.read_text(encoding="utf-8") == "secret"
    assert not (briefs_dir / f"{NEW_ID}.yaml").exists()


def test_the_safe_readers_path_rules_refuse_every_unsafe_target(
    briefs_dir: Path, tmp_path: Path
) -> None:
    before = snapshot(briefs_dir)
    # A link inside the folder is not replaced either: the link stays, the file it names too.
    inside = briefs_dir / f"{NEW_ID}.yaml"
    inside.symlink_to(briefs_dir / "topics.yaml")
    with pytest.raises(publish.PublishError, match="a symbolic link, not a regular file"):
        publish.write(briefs_dir, NEW_ID, NEW_BRIEF, SOURCE, replace=True)
    inside.unlink()
    # A FIFO is refused unopened (opening it would block), a directory left alone.
    os.mkfifo(inside)
    with pytest.raises(publish.PublishError, match=r"a FIFO \(named pipe\), not a regular file"):
        publish.write(briefs_dir, NEW_ID, NEW_BRIEF, SOURCE, replace=True)
    inside.unlink()
    inside.mkdir()
    with pytest.raises(publish.PublishError, match="a directory, not a regular file"):
        publish.write(briefs_dir, NEW_ID, NEW_BRIEF, SOURCE, replace=True)
    inside.rmdir()
    assert snapshot(briefs_dir) == before


def test_a_sources_folder_linked_out_of_the_briefs_folder_is_refused(
    briefs_dir: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for path in (briefs_dir / "sources").iterdir():
        path.rename(elsewhere / path.name)
    (briefs_dir / "sources").rmdir()
    (briefs_dir / "sources").symlink_to(elsewhere, target_is_directory=True)
    before = sorted(p.name for p in elsewhere.iterdir())
    with pytest.raises(publish.PublishError, match="must lie inside the briefs directory"):
        publish.write(briefs_dir, NEW_ID, NEW_BRIEF, SOURCE, replace=False)
    assert sorted(p.name for p in elsewhere.iterdir()) == before  # not even a temp file
    assert not (briefs_dir / f"{NEW_ID}.yaml").exists()
