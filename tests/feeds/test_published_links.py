"""Published links from the brief index: a story is "already published" when a live brief's
source link is the same story, found with one lookup (no brief decoded, none held in memory)."""

from __future__ import annotations

from pathlib import Path

from bot.briefs.links import canonical_url
from bot.briefs.reloader import LiveLibrary
from bot.feeds.queue import PublishedLinks
from tests.conftest import BRIEF, write_briefs

WIRE = (
    BRIEF.replace("id: council-budget", "id: wire-story")
    .replace("title: Council approves budget", "title: Harbour ferry restarts")
    .replace("url: https://example.org/budget", "url: http://News.Example.org/ferry/?utm_source=x")
)


async def test_a_briefs_link_is_published_in_any_form_and_not_after_it_is_deleted(
    tmp_path: Path,
) -> None:
    root = write_briefs(tmp_path / "briefs", **{"wire.yaml": WIRE})
    live = LiveLibrary(root, tmp_path / "index.sqlite3")
    published = PublishedLinks(live.current)()
    ferry = canonical_url("https://news.example.org/ferry")
    assert ferry in published
    assert canonical_url("https://example.org/budget") in published
    assert canonical_url("https://example.org/other") not in published
    assert sorted(published) == sorted([ferry, canonical_url("https://example.org/budget")])
    assert len(published) == 2

    # The poll holds the collection across awaits; a reload meanwhile closes the library it
    # replaces: the answer is the live library's, never an error.
    (root / "wire.yaml").unlink()
    await live.reload()
    assert ferry not in published
    assert len(published) == 1
    live.current().close()
    live.index.close()
