"""Validate a draft with the brief loader, and write it into the briefs folder atomically.

Source text first, then the brief; each written to a dot-file beside its target (the loader and
the watcher skip dot-files), fsynced, then renamed over it, and the folder fsynced. A failure at
any step removes what this publish wrote, and puts back a source text it had replaced: nothing
half-written is ever left in the folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.briefs.files import BriefsFolder, FileRefused
from bot.briefs.loader import SOURCES_DIR, VOCABULARY_FILE, load_directory
from bot.briefs.models import Brief

log = logging.getLogger(__name__)


class PublishError(Exception):
    """The brief could not be written; nothing was changed. `str()` says why."""


class AlreadyExists(PublishError):
    """A brief with this id is already in the folder; publishing needs a replace confirmation."""


@dataclass(frozen=True, slots=True)
class Checked:
    """What the loader says of a draft: the brief, or the errors as `briefbot check` prints them."""

    brief: Brief | None
    errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether the draft loads cleanly."""
        return self.brief is not None and not self.errors


def brief_path(root: Path, brief_id: str) -> Path:
    """Where a published brief lives."""
    return root / f"{brief_id}.yaml"


def source_path(root: Path, brief_id: str) -> Path:
    """Where a published brief's source text lives."""
    return root / SOURCES_DIR / f"{brief_id}.txt"


def check(root: Path, brief_id: str, brief_yaml: str, source_text: str) -> Checked:
    """Load the draft exactly as the live library would, beside the live topic vocabulary."""
    with tempfile.TemporaryDirectory(prefix="briefbot-check-") as tmp:
        scratch = Path(tmp)
        try:
            shutil.copyfile(root / VOCABULARY_FILE, scratch / VOCABULARY_FILE)
        except OSError as exc:
            return Checked(None, (f"{VOCABULARY_FILE}: cannot read the topic vocabulary: {exc}",))
        (scratch / SOURCES_DIR).mkdir()
        (scratch / SOURCES_DIR / f"{brief_id}.txt").write_text(source_text, encoding="utf-8")
        name = f"{brief_id}.yaml"
        (scratch / name).write_text(brief_yaml, encoding="utf-8")
        report = load_directory(scratch)
    prefix = f"{scratch}{os.sep}"
    errors = tuple(str(e).replace(prefix, "") for e in report.errors)
    briefs = [lb.brief for lb in report.briefs]
    if not briefs:
        return Checked(None, errors or (f"{name}: the draft did not load",))
    return Checked(briefs[0], errors)


def exists(root: Path, brief_id: str) -> bool:
    """Whether publishing `brief_id` would overwrite a brief or a source text."""
    return any(
        os.path.lexists(p)
        for p in (brief_path(root, brief_id), root / f"{brief_id}.yml", source_path(root, brief_id))
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _temp_beside(target: Path, data: bytes) -> Iterator[Path]:
    """A fsynced dot-file beside `target` holding `data`; removed on exit if still there."""
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        yield temp
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def write(root: Path, brief_id: str, brief_yaml: str, source_text: str, *, replace: bool) -> None:
    """Put the source text, then the brief, into the folder; PublishError leaves it unchanged."""
    brief_file, source_file = brief_path(root, brief_id), source_path(root, brief_id)
    if not replace and exists(root, brief_id):
        raise AlreadyExists(f"a brief with id {brief_id!r} is already published")
    if os.path.lexists(root / f"{brief_id}.yml"):
        raise PublishError(f"{brief_id}.yml holds this id; edit or remove that file instead")
    try:
        source_file.parent.mkdir(exist_ok=True)
        # The safe reader's path rules: inside the folder, no link out, only regular files.
        folder = BriefsFolder(root)
        folder.writable(os.fspath(source_file.relative_to(root)))
        folder.writable(brief_file.name)
    except FileRefused as exc:
        raise PublishError(f"{exc.path}: {exc.reason}") from exc
    except OSError as exc:
        raise PublishError(f"cannot prepare {SOURCES_DIR}/ in the briefs folder: {exc}") from exc
    try:
        backup = source_file.with_name(f".{source_file.name}.{secrets.token_hex(4)}.old")
        with (
            _temp_beside(source_file, source_text.encode("utf-8")) as source_temp,
            _temp_beside(brief_file, brief_yaml.encode("utf-8")) as brief_temp,
        ):
            had_source = os.path.lexists(source_file)
            if had_source:
                os.link(source_file, backup)  # the old text, until the brief is in place
            try:
                source_temp.replace(source_file)
                try:
                    brief_temp.replace(brief_file)
                except OSError:
                    # Put the folder back as it was: the old source, or none.
                    if had_source:
                        backup.replace(source_file)
                    else:
                        source_file.unlink()
                    raise
            finally:
                with contextlib.suppress(FileNotFoundError):
                    backup.unlink()
            _fsync_dir(source_file.parent)
            _fsync_dir(root)
    except OSError as exc:
        log.exception("publishing %s failed", brief_id)
        raise PublishError(f"writing {brief_id} into the briefs folder failed: {exc}") from exc
