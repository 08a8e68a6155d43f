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
from bot.briefs.library import Library, load_library
from bot.briefs.loader import VOCABULARY_FILE, brief_files

log = logging.getLogger(__name__)

Signature = frozenset[tuple[str, int, int, int]]


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
    """The current library; swapped whole on reload, so readers never see a half-built one."""

    def __init__(
        self, root: Path, library: Library | None = None, cache: Path | None = None
    ) -> None:
        self.root = root
        # The validated-brief cache (see bot.briefs.fast): a quicker start, and kept current
        # by every reload so the next start finds it so.
        self.cache = cache
        self._library = library if library is not None else load_library(root, cache=cache)
        self._signature = self._scan()
        self._lock = asyncio.Lock()
        # Told how long each reload took (the ops metrics); None: nobody listens.
        self.on_reload: Callable[[float], None] | None = None

    def current(self) -> Library:
        """The library as last loaded."""
        return self._library

    def _scan(self) -> Signature:
        """A cheap fingerprint of the directory: names, sizes, mtimes and modes."""
        # The mode too: a file made unreadable, or replaced by a FIFO, is a change to report.
        entries: set[tuple[str, int, int, int]] = set()
        try:
            paths = [*brief_files(self.root), self.root / VOCABULARY_FILE]
            sources = self.root / "sources"
            if sources.is_dir():
                paths += sorted(sources.iterdir())
        except (OSError, FileRefused):  # an unlistable folder: the load reports it, located
            return frozenset()
        for path in paths:
            try:
                st = path.stat()
            except OSError:
                continue
            entries.add((str(path), st.st_mtime_ns, st.st_size, st.st_mode))
        return frozenset(entries)

    async def reload(self) -> ReloadReport:
        """Load the directory again; broken files keep their last good version live."""
        started = time.perf_counter()
        async with self._lock:
            old = self._library
            signature = await asyncio.to_thread(self._scan)
            new = await asyncio.to_thread(load_library, self.root, old, self.cache)
            self._library, self._signature = new, signature
        took = time.perf_counter() - started
        if self.on_reload is not None:
            self.on_reload(took)
        old_ids = {b.id: b for b in old.briefs}
        new_ids = {b.id: b for b in new.briefs}
        report = ReloadReport(
            added=tuple(sorted(new_ids.keys() - old_ids.keys())),
            removed=tuple(sorted(old_ids.keys() - new_ids.keys())),
            updated=tuple(
                sorted(i for i in new_ids.keys() & old_ids.keys() if new_ids[i] is not old_ids[i])
            ),
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

    async def changed(self) -> bool:
        """Whether anything on disk differs from what was last loaded."""
        return await asyncio.to_thread(self._scan) != self._signature

    async def watch(self, interval: float) -> None:
        """Poll the directory and reload on change, until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                if await self.changed():
                    await self.reload()
            except Exception:  # a failed reload must not end the watcher; the old library stays
                log.exception("reloading briefs failed; keeping the current library")
