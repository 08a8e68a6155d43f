"""The one safe reader of the briefs folder: regular files only, contained, bounded."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from bot.briefs.files import BriefsFolder, FileRefused, iter_brief_paths, read_brief_file


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "briefs"
    (root / "sources").mkdir(parents=True)
    (root / "a.yaml").write_bytes(b"id: a\n")
    return root


def refusal(root: Path, path: Path | str, limit: int = 1000) -> str:
    with pytest.raises(FileRefused) as caught:
        read_brief_file(root, path, limit)
    assert caught.value.path == Path(path)
    return caught.value.reason


def test_a_regular_file_is_read_whole(folder: Path) -> None:
    assert read_brief_file(folder, folder / "a.yaml", 1000) == b"id: a\n"
    assert read_brief_file(folder, folder / "a.yaml", 6) == b"id: a\n"  # exactly the limit


def test_a_file_over_the_limit_is_refused_by_its_size(folder: Path) -> None:
    (folder / "big.yaml").write_bytes(b"x" * 1001)
    assert refusal(folder, folder / "big.yaml") == "file is 1,001 bytes; the limit is 1,000"


def test_a_file_bigger_than_its_stat_said_is_cut_at_the_limit(folder: Path) -> None:
    # The size checked before opening said small; the file read is not (it grew, or lies, as a
    # /proc file or a device would): at most limit + 1 bytes are read, then it is refused.
    small, big = folder / "small.yaml", folder / "big.yaml"
    small.write_bytes(b"x")
    big.write_bytes(b"y" * 5000)
    reader = BriefsFolder(folder)
    fd = os.open(big, os.O_RDONLY)
    try:
        with pytest.raises(FileRefused, match="larger than the limit of 1,000 bytes"):
            reader._read_open(fd, big, big.stat(), 1000, checked=True)
        assert os.lseek(fd, 0, os.SEEK_CUR) == 1001  # read no further than limit + 1
        # And a file swapped for another after it was checked is refused, unread.
        with pytest.raises(FileRefused, match="changed while being opened"):
            reader._read_open(fd, big, small.stat(), 1000, checked=True)
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (os.mkfifo, "a FIFO (named pipe)"),
        (lambda p: p.mkdir(), "a directory"),
        (lambda p: socket.socket(socket.AF_UNIX).bind(str(p)), "a socket"),
    ],
)
def test_special_files_are_refused_unopened(folder: Path, make: object, kind: str) -> None:
    path = folder / "odd.yaml"
    make(path)  # type: ignore[operator]
    assert refusal(folder, path) == f"{kind}, not a regular file; refused without opening it"
    # The same through a symlink inside the folder.
    (folder / "link.yaml").symlink_to("odd.yaml")
    assert refusal(folder, folder / "link.yaml").startswith(f"{kind}, not a regular file")


def test_symlinks_inside_the_folder_are_followed(folder: Path) -> None:
    (folder / "sub").mkdir()
    (folder / "sub" / "real.yaml").write_bytes(b"inside")
    (folder / "hop.yaml").symlink_to("sub/real.yaml")
    (folder / "twice.yaml").symlink_to("hop.yaml")
    assert read_brief_file(folder, folder / "twice.yaml", 100) == b"inside"


def test_symlinks_leaving_the_folder_are_refused_without_reading(
    folder: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_bytes(b"password: hunter2\n")
    (folder / "out.yaml").symlink_to(secret)
    (folder / "in-then-out.yaml").symlink_to("out.yaml")
    (folder / "up.yaml").symlink_to("../secret.yaml")
    (folder / "dev.yaml").symlink_to("/dev/zero")
    for name in ("out.yaml", "in-then-out.yaml", "up.yaml", "dev.yaml"):
        reason = refusal(folder, folder / name)
        assert "outside the briefs directory; refused without reading it" in reason
        assert "hunter2" not in reason and str(secret) not in reason


def test_a_folder_reached_through_a_symlink_is_itself_the_boundary(tmp_path: Path) -> None:
    real = tmp_path / "real-briefs"
    real.mkdir()
    (real / "a.yaml").write_bytes(b"ok")
    (tmp_path / "briefs").symlink_to(real)
    assert read_brief_file(tmp_path / "briefs", tmp_path / "briefs" / "a.yaml", 10) == b"ok"


def test_loops_missing_files_and_nul_bytes_are_refusals(folder: Path) -> None:
    (folder / "loop.yaml").symlink_to("loop.yaml")
    assert refusal(folder, folder / "loop.yaml") == "symbolic link loop"
    assert refusal(folder, folder / "missing.yaml") == "does not exist"
    (folder / "dangling.yaml").symlink_to("nowhere.yaml")
    assert refusal(folder, folder / "dangling.yaml") == "does not exist"
    assert refusal(folder, str(folder / "a\0.yaml")) == "the path contains a null byte"


def test_source_paths_resolve_only_inside_the_folder(folder: Path, tmp_path: Path) -> None:
    (folder / "sources" / "s.txt").write_bytes(b"text")
    reader = BriefsFolder(folder)
    assert reader.read(reader.resolve("sources/s.txt"), 100) == b"text"
    assert reader.read(reader.resolve("sources/../sources/s.txt"), 100) == b"text"
    (tmp_path / "outside.txt").write_bytes(b"secret")
    (folder / "sources" / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    for relative in ("../outside.txt", "/etc/passwd", "sources/elsewhere/outside.txt"):
        with pytest.raises(FileRefused, match="must lie inside the briefs directory"):
            reader.resolve(relative)


def test_listing_names_briefs_only_in_a_stable_order(folder: Path) -> None:
    for name in ("b.yml", "B2.yaml", "topics.yaml", ".hidden.yaml", "notes.txt", "dir.yaml"):
        path = folder / name
        path.mkdir() if name == "dir.yaml" else path.write_bytes(b"")
    # A directory named like a brief is listed: reading it is its one located error.
    assert [p.name for p in iter_brief_paths(folder)] == ["B2.yaml", "a.yaml", "b.yml", "dir.yaml"]


def test_a_folder_that_cannot_be_listed_is_one_refusal(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_bytes(b"")
    with pytest.raises(FileRefused) as caught:
        iter_brief_paths(not_a_folder)
    assert caught.value.path == not_a_folder
    assert caught.value.reason == "cannot list the briefs folder: not a directory"
