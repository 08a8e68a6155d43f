"""Articles and a ready review service over a real store and briefs folder."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

from bot.briefs.reloader import LiveLibrary
from bot.ingest.fetch import Fetcher
from bot.review.preview import SpeakerChoice
from bot.review.service import LibraryHandle, Member, ReviewConfig, ReviewService
from bot.store.sqlite import Store

GUILD = 111
EDITOR_ROLE = 900
ALICE = Member(7, GUILD, frozenset({EDITOR_ROLE}))
BOB = Member(8, GUILD, manage_guild=True)
MALLORY = Member(9, GUILD, frozenset({1}))  # no editor role, no Manage Server

HEADLINE = "Harbour budget approved after long debate"
# "said Jane Doe" names the first speaker; the second quote has no cue beside it.
ARTICLE_BODY = (
    "The harbour board approved the budget on Tuesday after a long debate about housing.\n"
    "“This budget keeps the ferries running,” said Jane Doe, the board's chair.\n"
    "Councillor Sam Roe spoke next. Later in the evening the mood changed.\n"
    "“It is a missed chance for housing,” came the reply from the back benches.\n"
)
ARTICLE = f"{HEADLINE}\n{ARTICLE_BODY}"
BRIEF_ID = "harbour-budget-approved-after-long-debate"
# The Fix-speaker select's values for the article's two people.
JANE = SpeakerChoice("Jane Doe", "person", "Jane Doe").key
SAM = SpeakerChoice("Sam Roe", "person", "Sam Roe").key


def library_handle(live: LiveLibrary) -> LibraryHandle:
    """The live library as the service sees it."""
    return LibraryHandle(live.current, live.reload)


@contextlib.asynccontextmanager
async def local_fetcher() -> AsyncIterator[Fetcher]:
    """A fetcher allowed to reach the tests' servers on 127.0.0.1, quickly timing out."""
    async with Fetcher(private_hosts=["127.0.0.1"], total_timeout=1.0, host_interval=0) as f:
        yield f


def service(store: Store, live: LiveLibrary, root: Path, **config: object) -> ReviewService:
    """A review service with the editor role set and every guild allowed."""
    options: dict[str, object] = {"editor_role_id": EDITOR_ROLE, **config}
    return ReviewService(
        store,
        library_handle(live),
        ReviewConfig(briefs_dir=root, draft_lifetime=dt.timedelta(days=7), **options),  # type: ignore[arg-type]
        local_fetcher,
    )
