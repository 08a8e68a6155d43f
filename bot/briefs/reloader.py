"""Keep the brief library in step with the files on disk, without a restart."""

from __future__ import annotations

import array
import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import watchfiles

from bot.briefs.errors import LoadError
from bot.briefs.index import BriefIndex, IndexBusy, is_brief_name
from bot.briefs.library import Library, open_library
from bot.briefs.loader import SOURCES_DIR, VOCABULARY_FILE

log = logging.getLogger(__name__)

# With file events, a full scan this often still runs: an event the OS dropped (inotify's queue
# overflows past ~16,000 pending events) is caught within five minutes. A scan stats every file
# (~0.7 s at 100,000 briefs), which every `interval` seconds cost ~11 % of a core at that size.
SAFETY_SCAN_SECONDS = 300.0
# How long the event thread waits before it looks up (index moved away? safety scan due?); it
# also bounds how long a cancelled watcher takes to stop.
_EVENT_WAKE_MS = 500


@dataclass(frozen=True, slots=True)
class Signature:
    """A cheap fingerprint of the folder: a sorted hash of each file's name and stat, and the
    names themselves in one string.

    Compact on purpose: at 100,000 briefs (and as many sources) a set of (full path, mtime,
    size, mode) tuples held ~94 MB for the life of the bot; this holds ~4 MB. `changed` names
    the files whose entry the previous signature lacked (edited, added or replaced).
    """

    entries: array.array[int] = field(default_factory=lambda: array.array("q"))
    names: str = ""  # every file's name (sources as "sources/NAME"), NUL-separated
    changed: tuple[str, ...] = ()
    # Brief files that are symbolic links: an edit to what one points at names the target, not
    # the link, so file events re-check these whenever anything changes.
    links: tuple[str, ...] = ()

    def removed_since(self, before: Signature) -> set[str]:
        """The names `before` had that this signature lacks."""
        if not before.names:
            return set()
        return set(before.names.split("\0")) - set(self.names.split("\0"))


def _stat_entries(
    folder: str, prefix: str, keep: Callable[[str], bool]
) -> Iterator[tuple[str, int, bool]]:
    """(name, hash of name and stat, whether it is a symbolic link) of each kept file of a
    folder; raises OSError when the folder cannot be listed."""
    # No Path or stat objects kept: at 200,000 files they cost ~80 MB at the peak of a scan.
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        with os.scandir(fd) as listing:
            for entry in listing:
                name = entry.name
                if not keep(name):
                    continue
                try:
                    st = os.stat(name, dir_fd=fd)
                except OSError:
                    try:
                        # A dangling link or a loop is a file to report: the index syncs it.
                        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    except OSError:
                        continue
                # The mode too: a file made unreadable, or replaced by a FIFO, is a change.
                key = prefix + name
                # is_symlink: from the listing's file type, no system call on Linux.
                yield key, hash((key, st.st_mtime_ns, st.st_size, st.st_mode)), entry.is_symlink()
    finally:
        os.close(fd)


# Filesystems where an inotify watch is accepted but hears nothing done on another machine (the
# server of a network share, the host of a container's or VM's shared folder): scanned instead.
SHARED_FILESYSTEMS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "virtiofs", "fuse", "ceph", "glusterfs",
        "lustre", "afs", "gpfs", "vboxsf", "prl_fs", "vmhgfs", "davfs",
    }
)  # fmt: skip


def filesystem_of(path: str, mountinfo: str) -> str | None:
    """The type of the filesystem an absolute `path` is on, from Linux's /proc/self/mountinfo
    text (the longest mount point that holds it); None when no line does."""
    best, kind = -1, None
    for line in mountinfo.splitlines():
        head, _, tail = line.partition(" - ")
        fields = head.split()
        if len(fields) < 5 or not tail:
            continue
        point = fields[4]
        for escaped, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
            point = point.replace(escaped, char)
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) > best:
            best, kind = len(point), tail.split()[0]
    return kind


def file_events(root: Path) -> tuple[bool, str]:
    """Whether edits to a briefs folder can be heard as file events, and why not."""
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text("utf-8", errors="replace")
    except OSError:  # not Linux: watchfiles uses the OS's own events (FSEvents, …)
        return True, "no mount table: file events assumed"
    kind = filesystem_of(os.path.realpath(root), mountinfo)
    if kind is not None and kind.split(".")[0] in SHARED_FILESYSTEMS:
        return False, f"it is on {kind}: edits made on another machine send no file events"
    return True, f"file events ({kind or 'unknown filesystem'})"


@dataclass(frozen=True, slots=True)
class ReloadReport:
    """What a reload changed, and what is broken."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    updated: tuple[str, ...]
    errors: tuple[LoadError, ...]
    total: int
    seconds: float = 0.0  # how long the reload took


class LiveLibrary:
    """The current library; swapped whole on reload, so readers never see a half-built one.

    The briefs live in the on-disk index (`index`: a path, or None for a private one); a
    reload parses only the files that changed.
    """

    def __init__(self, root: Path, index: Path | None = None, *, serve_first: bool = False) -> None:
        self.root = root
        self.index = BriefIndex(root, index)
        # serve_first (the bot): a finished index is served at once, and `catch_up` then
        # brings it in step with the files in the background; else (and with no index yet)
        # the files are checked before anything is served.
        self.behind = serve_first and self.index.ready()
        self._signature = Signature() if self.behind else self._scan()
        if not self.behind:
            self.index.sync()
        self._library = open_library(self.index)
        self._lock = asyncio.Lock()
        # Told how long each reload took (the ops metrics); None: nobody listens.
        self.on_reload: Callable[[float], None] | None = None
        self._recovering: asyncio.Task[None] | None = None

    def current(self) -> Library:
        """The library as last loaded (a view a read found damaged: being built again)."""
        if self._library.damage is not None:
            self.recover_soon()
        return self._library

    def recover_soon(self) -> None:
        """Once a read found the index damaged: discard it and build it again from the files,
        in the background (once, however many readers found it); the view stays meanwhile."""
        damage = self._library.damage
        if damage is None or (self._recovering is not None and not self._recovering.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop here (a thread, a test): the next reader on one does it
            return
        self._recovering = loop.create_task(self._recover(damage))

    async def _recover(self, damage: str) -> None:
        try:
            async with self._lock:
                await asyncio.to_thread(self.index.discard, damage)
                await asyncio.to_thread(self.index.sync, parallel=False)
                new = await asyncio.to_thread(open_library, self.index)
                old, self._library = self._library, new
                old.close()
        except Exception:  # the damaged view stays; the next read that finds it tries again
            log.exception("rebuilding the damaged brief index failed")

    def _scan(self, before: Signature | None = None) -> Signature:
        """A fingerprint of the directory (names, sizes, mtimes and modes); with `before`,
        it also names the files whose entry changed or is new since that one."""
        known = frozenset(before.entries) if before is not None else frozenset()
        entries = array.array("q")
        names: list[str] = []
        changed: list[str] = []
        links: list[str] = []
        root = str(self.root)
        folders = [
            (root, "", lambda n: is_brief_name(n) or n == VOCABULARY_FILE),
            (os.path.join(root, SOURCES_DIR), f"{SOURCES_DIR}/", lambda _: True),  # noqa: PTH118
        ]
        for folder, prefix, keep in folders:
            try:
                for name, entry, link in _stat_entries(folder, prefix, keep):
                    entries.append(entry)
                    names.append(name)
                    if link and not prefix:
                        links.append(name)
                    if before is not None and entry not in known:
                        changed.append(name)
            except OSError:
                if not prefix:  # an unlistable briefs folder: the load reports it, located
                    return Signature()
        return Signature(
            array.array("q", sorted(entries)), "\0".join(names), tuple(changed), tuple(links)
        )

    async def reload(
        self,
        scanned: tuple[Signature, Signature] | None = None,
        *,
        seen: Collection[str] | None = None,
    ) -> ReloadReport:
        """Bring the index in step with the files; broken files keep their last good version.

        `scanned` is a (before, after) pair `_poll` just made: used as is while `before` is
        still the current signature, so the watcher scans once per change, not twice.
        `seen`: the brief files that file events named; only those are synced, with no scan
        (the signature stays as it was: the next full scan checks them again, finding them
        current).
        """
        started = time.perf_counter()
        async with self._lock:
            old = self._library
            names: set[str] | None
            if seen is not None:
                signature, names = self._signature, set(seen)
            else:
                if scanned is not None and scanned[0] is self._signature:
                    signature = scanned[1]
                else:
                    signature = await asyncio.to_thread(self._scan, self._signature)
                names = self._changed_briefs(self._signature, signature)
            try:
                synced = await asyncio.to_thread(self.index.sync, parallel=False, names=names)
            except IndexBusy as exc:
                # Another process holds the index longer than we wait: serve what we have.
                log.warning("brief index busy (%s): keeping the current library", exc)
                return ReloadReport((), (), (), old.errors, len(old.briefs))
            new = await asyncio.to_thread(open_library, self.index)
            self._library, self._signature = new, signature
            old.close()
        took = time.perf_counter() - started
        if self.on_reload is not None:
            self.on_reload(took)
        report = ReloadReport(
            added=synced.added,
            removed=synced.removed,
            updated=synced.updated,
            errors=new.errors,
            total=len(new.briefs),
            seconds=took,
        )
        for error in new.errors:
            log.warning("brief error: %s", error)
        log.info(
            "briefs reloaded in %.2f s: %d live, %d added, %d removed, %d updated, %d errors",
            took,
            report.total,
            len(report.added),
            len(report.removed),
            len(report.updated),
            len(report.errors),
        )
        return report

    def _changed_briefs(self, before: Signature, after: Signature) -> set[str] | None:
        """The brief files that differ between two scans; None when anything else changed (the
        vocabulary, a source text) or nothing is known of the earlier state."""
        if not before.entries:
            return None
        names = set()
        for name in (*after.changed, *after.removed_since(before)):
            if "/" in name or name == VOCABULARY_FILE:
                return None
            names.add(name)
        return names

    async def catch_up(self) -> None:
        """After a start that served the index as it was: check the files now."""
        if self.behind:
            self.behind = False
            try:
                await self.reload()
            except Exception:  # the index as it was stays served; the watcher tries again
                log.exception("checking the brief files after start failed")

    async def _poll(self) -> tuple[Signature, Signature] | None:
        """(the loaded signature, a fresh scan) when anything on disk differs from what was
        last loaded; None when nothing does."""
        before = self._signature
        if self.index.moved_away():
            return before, await asyncio.to_thread(self._scan, before)
        now = await asyncio.to_thread(self._scan, before)
        return (before, now) if now.entries != before.entries else None

    async def _scan_and_reload(self) -> None:
        """Scan the folder; reload from that scan if anything differs."""
        scanned = await self._poll()
        if scanned is not None:
            await self.reload(scanned)

    async def changed(self) -> bool:
        """Whether anything on disk differs from what was last loaded."""
        return await self._poll() is not None

    async def watch(self, interval: float) -> None:
        """Reload on change, until cancelled: woken by the OS's file events where it has them
        (inotify), with a full scan every SAFETY_SCAN_SECONDS as a net; else by a scan of the
        folder every `interval` seconds."""
        events, why = self.file_events()
        while events:
            try:
                if await self._watch_events():
                    log.info("%s now names another folder: watching that one", self.root)
                    continue
                why = "the events stopped"
            except (OSError, RuntimeError) as exc:  # no inotify here (or its limits reached)
                why = str(exc)
            log.warning("no file events for %s (%s)", self.root, why)
            break
        log.info("watching %s by scanning it every %g s (%s)", self.root, interval, why)
        await self._watch_scanning(interval)

    def file_events(self) -> tuple[bool, str]:
        """Whether edits to the briefs folder can be heard as file events, and why not."""
        return file_events(self.root)

    def _events(self) -> AsyncIterator[set[tuple[watchfiles.Change, str]]]:
        """Batches of file events under the briefs folder; an empty batch now and then."""
        return watchfiles.awatch(
            os.path.abspath(self.root),  # noqa: PTH100
            watch_filter=None,  # `_event_names` picks what matters
            force_polling=False,  # its polling walks the whole tree: ours is cheaper
            rust_timeout=_EVENT_WAKE_MS,
            yield_on_timeout=True,
            ignore_permission_denied=True,
        )

    def _event_names(self, changes: set[tuple[watchfiles.Change, str]]) -> set[str] | None:
        """The brief files a batch of events names; None when the vocabulary or a source text
        changed (everything is checked then, as after a scan that saw it)."""
        names: set[str] = set()
        root = os.path.abspath(self.root)  # noqa: PTH100 - the form the events' paths take
        for _, path in changes:
            name = os.path.relpath(path, root)
            # The folder itself (made unreadable, say), the vocabulary, the sources.
            if name in (".", VOCABULARY_FILE, SOURCES_DIR) or name.startswith(SOURCES_DIR + "/"):
                return None
            if "/" not in name and is_brief_name(name):
                names.add(name)
        return names.union(self._signature.links)

    def _folder(self) -> tuple[int, int]:
        """The briefs folder's identity (device, inode), through any symbolic link."""
        st = os.stat(self.root)  # noqa: PTH116
        return st.st_dev, st.st_ino

    async def _watch_events(self) -> bool:
        """The watcher on file events, until they stop (False) or the briefs folder's path
        names another folder (True: a deploy that swapped a symbolic link, a folder moved
        aside and replaced; the events follow the old one). Raises OSError/RuntimeError when
        there are no events."""
        folder = self._folder()
        scanned_at: float | None = None
        async for changes in self._events():
            if self._folder() != folder:
                return True
            try:
                if scanned_at is None:
                    # The first batch comes once the events are on: one scan now catches what
                    # changed between the last scan and then (this batch included).
                    scanned_at = time.monotonic()
                    await self._scan_and_reload()
                elif changes:
                    names = self._event_names(changes)
                    if names is None:
                        await self.reload()
                    elif names:
                        await self.reload(seen=names)
                elif self._library.damage is not None:
                    self.recover_soon()  # a read nobody followed up (a digest's) found damage
                elif self.index.moved_away():
                    await self.reload()
                elif time.monotonic() - scanned_at >= SAFETY_SCAN_SECONDS:
                    scanned_at = time.monotonic()
                    await self._scan_and_reload()
            except Exception:  # a failed reload must not end the watcher; the old library stays
                log.exception("reloading briefs failed; keeping the current library")
        return False

    async def _watch_scanning(self, interval: float) -> None:
        """The watcher without file events: scan the folder every `interval` seconds."""
        while True:
            await asyncio.sleep(interval)
            try:
                if self._library.damage is not None:
                    self.recover_soon()
                    continue
                await self._scan_and_reload()
            except Exception:  # a failed reload must not end the watcher; the old library stays
                log.exception("reloading briefs failed; keeping the current library")
