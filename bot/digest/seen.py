"""First-seen bookkeeping from the brief index: only the ids it added since the last look.

The scheduler tells the store when it first saw each brief (`Store.record_seen`), so a story
about last month published today still reaches the next digest. With the on-disk index that
costs the briefs added since the previous pass, not a walk over every brief: the index numbers
its first-seen rows in the order it added them (a mark), and this remembers how far it got.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.briefs.library import Library

log = logging.getLogger(__name__)

CHUNK = 5000  # ids read from the index, and recorded in the store, at a time


class IndexSeen:
    """Which live briefs of the index the store has not been told about yet."""

    def __init__(self) -> None:
        self._mark = 0  # the last mark recorded (0: none yet)
        self._mark_id: str | None = None  # the id at that mark: a rebuilt index differs there
        # Ids the index added that were gone when looked at: recorded if they come back.
        self._waiting: frozenset[str] = frozenset()

    async def record(
        self, current: Callable[[], Library], record: Callable[[list[str]], Awaitable[None]]
    ) -> int:
        """Record (with `record`) the live briefs of the library (`current`, read again after
        each await: a reload closes the one it replaces) not recorded yet; how many were."""
        if self._mark and current().first_indexed_at(self._mark) != self._mark_id:
            # A new index file (deleted, corrupt and rebuilt): its marks start again.
            log.info("brief index rebuilt: checking every brief's first-seen record")
            self._mark, self._mark_id, self._waiting = 0, None, frozenset()
        recorded = 0
        back = current().live_ids(self._waiting) if self._waiting else frozenset()
        if back:
            await record(sorted(back))
            recorded += len(back)
            self._waiting -= back
        while rows := current().first_indexed(self._mark, CHUNK):
            live = [brief_id for _, brief_id, is_live in rows if is_live]
            if live:
                await record(live)
                recorded += len(live)
            gone = {brief_id for _, brief_id, is_live in rows if not is_live}
            # Moved on only once the store has them: a failed record is tried again next pass.
            self._waiting |= gone
            self._mark, self._mark_id = rows[-1][0], rows[-1][1]
        return recorded
