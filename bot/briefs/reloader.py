"""Keep the brief library in step with the files on disk, without a restart."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.briefs.errors import LoadError
from bot.briefs.files import FileRefused
from bot.briefs.index import BriefIndex, IndexBusy
from bot.briefs.library import Library, open_library
from bot.briefs.loader import SOURCES_DIR, VOCABULARY_FILE, brief_files

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Signature:
    """A cheap fingerprint of the folder: each file's name (relative to the folder) and one
    hash of its name and stat.

    A hash, not a tuple per file: at 100,000 briefs (and as many sources) a set of (full
    path, mtime, size, mode) tuples held ~94 MB for the life of the bot. `changed` names
    the files whose entry the previous signature lacked (edited, added or replaced).
    """

    entries: frozenset[int] = frozenset()
    names: frozenset[str] = frozenset()
    changed: tuple[str, ...] = ()


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

    def current(self) -> Library:
        """The library as last loaded."""
        return self._library

    def _scan(self, before: Signature | None = None) -> Signature:
        """A fingerprint of the directory (names, sizes, mtimes and modes); with `before`,
        it also names the files whose entry changed or is new since that one."""
        # The mode too: a file made unreadable, or replaced by a FIFO, is a change to report.
        entries: set[int] = set()
        names: set[str] = set()
        changed: list[str] = []
        try:
            paths = [*brief_files(self.root), self.root / VOCABULARY_FILE]
            sources = self.root / SOURCES_DIR
            if sources.is_dir():
                paths += sorted(sources.iterdir())
        except (OSError, FileRefused):  # an unlistable folder: the load reports it, located
            return Signature()
        for path in paths:
            try:
                st = path.stat()
            except OSError:
                try:
                    # A dangling link or a loop is a file to report: the index syncs it.
                    st = path.lstat()
                except OSError:
                    continue
            name = path.name if path.parent == self.root else f"{SOURCES_DIR}/{path.name}"
            entry = hash((name, st.st_mtime_ns, st.st_size, st.st_mode))
            entries.add(entry)
            names.add(name)
            if before is not None and entry not in before.entries:
                changed.append(name)
        return Signature(frozenset(entries), frozenset(names), tuple(changed))

    async def reload(self) -> ReloadReport:
        """Bring the index in step with the files; broken files keep their last good version."""
        started = time.perf_counter()
        async with self._lock:
            old = self._library
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
        for name in (*after.changed, *(before.names - after.names)):
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

    async def changed(self) -> bool:
        """Whether anything on disk differs from what was last loaded."""
        if self.index._moved_away():
            return True
        now = await asyncio.to_thread(self._scan)
        return now.entries != self._signature.entries

    async def watch(self, interval: float) -> None:
        """Poll the directory and reload on change, until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                if await self.changed():
                    await self.reload()
            except Exception:  # a failed reload must not end the watcher; the old library stays
                log.exception("reloading briefs failed; keeping the current library")
