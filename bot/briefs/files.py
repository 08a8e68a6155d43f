"""One safe way to read a file from the briefs folder: regular files only, bounded, contained.

Whoever can drop a file in the briefs folder must not be able to hang, exhaust or read past the
bot. So every read here:

- looks at the path's type before opening it (`lstat`, then `stat` of a symlink's target):
  only regular files are opened; a FIFO, device, socket or directory is refused unopened;
- follows a symlink only when its target resolves inside the briefs folder (anything else is
  refused without reading the target);
- opens without following a final symlink and without blocking, then checks with `fstat` that
  the opened file is the one that was checked (a swap in between is refused);
- reads at most `limit + 1` bytes whatever `stat` said (a file that grows, or lies).

Publishing writes by the same rules (`BriefsFolder.writable`): a target inside the folder,
reached through no link out of it, and never anything but a regular file replaced.

A refusal is a `FileRefused` naming the path; its message never quotes the file's content.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

BRIEF_SUFFIXES = frozenset({".yaml", ".yml"})
VOCABULARY_NAME = "topics.yaml"
_CHUNK = 1 << 16
_PROC_FD = Path("/proc/self/fd")
_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileRefused(Exception):
    """A path that cannot be read safely; `reason` says why and never quotes the content.

    `outside` is set when the path leads out of the briefs folder, `too_large` when the file
    is over the limit: callers word those two in their own terms.
    """

    def __init__(
        self, path: Path | str, reason: str, *, outside: bool = False, too_large: bool = False
    ) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason
        self.outside = outside
        self.too_large = too_large


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a special file"


def _reason(exc: OSError | ValueError) -> str:
    """An OS error in words, without the path (the caller names it)."""
    if isinstance(exc, ValueError):  # a NUL in the name
        return "the path contains a null byte"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "does not exist"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENAMETOOLONG:
        return "the path is too long"
    return (exc.strerror or type(exc).__name__).lower()


class BriefsFolder:
    """The briefs folder: lists, resolves and reads the files inside it, refusing unsafe ones."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._top = os.fspath(root)
        self._real_root: str | None = None
        # Each directory's real path, resolved once per folder object.
        self._real_dirs: dict[str, str] = {}

    @property
    def real_root(self) -> str:
        """The folder's real path (resolved once)."""
        if self._real_root is None:
            self._real_root = os.path.realpath(self._top)
        return self._real_root

    def inside(self, real: str) -> bool:
        """Whether a resolved path lies in the resolved folder."""
        top = os.path.normcase(self.real_root)
        real = os.path.normcase(real)
        return real == top or real.startswith(os.path.join(top, ""))

    def brief_paths(self) -> list[Path]:
        """Every brief file name directly in the folder (`*.yaml`, `*.yml`), in a stable order.

        Names only: a listed path may still be refused when read (a directory named `x.yaml`
        is one located error, not a crash). Raises FileRefused when the folder cannot be listed.
        """
        try:
            with os.scandir(self._top) as entries:
                names = [
                    entry.name
                    for entry in entries
                    if os.path.splitext(entry.name)[1] in BRIEF_SUFFIXES
                    and entry.name != VOCABULARY_NAME
                    and not entry.name.startswith(".")
                ]
        except (OSError, ValueError) as exc:
            raise FileRefused(self.root, f"cannot list the briefs folder: {_reason(exc)}") from exc
        # All in one directory: ordering by name is ordering by path.
        names.sort(key=os.path.normcase)
        return [self.root / name for name in names]

    def resolve(self, relative: str) -> str:
        """The real path of `relative` (a path inside the folder); FileRefused when outside."""
        joined = os.path.join(self._top, relative)
        try:
            real = self._real_path(joined, os.lstat(joined))
        except FileNotFoundError:
            # Not there: still say whether the name would lie inside (a missing file is told
            # apart from a path outside the folder).
            real = os.path.realpath(joined)
        except (OSError, ValueError) as exc:
            raise FileRefused(relative, _reason(exc)) from exc
        if not self.inside(real):
            raise FileRefused(relative, "must lie inside the briefs directory", outside=True)
        return real

    def writable(self, relative: str) -> Path:
        """Where a file may be written as `relative`: inside the folder, through no link out of
        it, and not over anything but a regular file (a link, FIFO or directory stays as it is).

        Raises FileRefused (with `outside` set for a path leading out of the folder).
        """
        self.resolve(relative)
        joined = os.path.join(self._top, relative)
        try:
            mode = os.lstat(joined).st_mode
        except FileNotFoundError:
            return Path(joined)
        except (OSError, ValueError) as exc:
            raise FileRefused(relative, _reason(exc)) from exc
        if not stat.S_ISREG(mode):
            raise FileRefused(relative, f"{kind_of(mode)}, not a regular file; not overwritten")
        return Path(joined)

    def _real_path(self, path: str, st: os.stat_result) -> str:
        """The real path of `path`, whose lstat is `st`: the parent directory resolved once."""
        parent, name = os.path.split(path)
        if stat.S_ISLNK(st.st_mode) or name in ("", ".", ".."):
            return os.path.realpath(path, strict=True)
        real = self._real_dirs.get(parent)
        if real is None:
            real = self._real_dirs[parent] = os.path.realpath(parent, strict=True)
        return os.path.join(real, name)

    def read(self, path: Path | str, limit: int) -> bytes:
        """At most `limit` bytes of a regular file inside the folder; raises FileRefused."""
        shown = name = os.fspath(path)  # a Path is built only for an error
        try:
            st = os.lstat(name)
            direct = not stat.S_ISLNK(st.st_mode) and os.path.dirname(name) == self._top
            if direct:
                target = name  # listed directly in the folder, not a link: inside by construction
            else:
                target = self._real_path(name, st)
                if not self.inside(target):
                    what = "a symbolic link to" if stat.S_ISLNK(st.st_mode) else "in"
                    raise FileRefused(
                        shown,
                        f"{what} a path outside the briefs directory; refused without reading it",
                        outside=True,
                    )
                if stat.S_ISLNK(st.st_mode):
                    st = os.stat(target)
        except (OSError, ValueError) as exc:
            raise FileRefused(shown, _reason(exc)) from exc
        if not stat.S_ISREG(st.st_mode):
            what = kind_of(st.st_mode)
            raise FileRefused(shown, f"{what}, not a regular file; refused without opening it")
        if st.st_size > limit:
            raise FileRefused(
                shown, f"file is {st.st_size:,} bytes; the limit is {limit:,}", too_large=True
            )
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY
        try:
            fd = os.open(target, flags)
        except (OSError, ValueError) as exc:
            if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
                # O_NOFOLLOW met a symlink that was not there when the path was checked.
                raise FileRefused(shown, "changed while being opened; refused") from exc
            raise FileRefused(shown, _reason(exc)) from exc
        try:
            return self._read_open(fd, shown, st, limit, checked=direct)
        finally:
            os.close(fd)

    def _read_open(
        self, fd: int, shown: Path | str, st: os.stat_result, limit: int, *, checked: bool
    ) -> bytes:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (
            st.st_dev,
            st.st_ino,
        ):
            raise FileRefused(shown, "changed while being opened; refused")
        if not checked and not self._opened_inside(fd):
            raise FileRefused(shown, "a path outside the briefs directory; refused", outside=True)
        chunks: list[bytes] = []
        total = 0
        # First ask for one byte more than stat said (a file as stated is read in one call),
        # then in chunks: never more than limit + 1 bytes in all, whatever the file does.
        want = st.st_size + 1
        try:
            while total <= limit:
                chunk = os.read(fd, min(limit + 1 - total, want))
                want = _CHUNK
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        except OSError as exc:
            raise FileRefused(shown, _reason(exc)) from exc
        if total > limit:
            raise FileRefused(
                shown,
                f"file is larger than the limit of {limit:,} bytes (it grew while read)",
                too_large=True,
            )
        return b"".join(chunks)

    def _opened_inside(self, fd: int) -> bool:
        """Whether the opened file lies in the folder, as the kernel names it (Linux).

        The path was checked before opening; this closes the window in which a directory on it
        could be swapped for a link to elsewhere. Where /proc is missing, the earlier check
        stands.
        """
        try:
            real = os.readlink(_PROC_FD / str(fd))
        except OSError:
            return True
        return self.inside(real)


def read_brief_file(root: Path, path: Path | str, limit: int) -> bytes:
    """At most `limit` bytes of a regular file inside `root`; raises FileRefused."""
    return BriefsFolder(root).read(path, limit)


def iter_brief_paths(root: Path) -> list[Path]:
    """The brief files directly in `root`, in a stable order; raises FileRefused."""
    return BriefsFolder(root).brief_paths()
