"""`briefbot feeds poll`: one poll from the command line, drafts written to drafts/."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.feeds.files import poll_once
from tests.feeds.harness import (
    VOCABULARY_FILE,
    Item,
    devset_page,
    drafter,
    feed_route,
    page_route,
    rss,
    world,
)
from tests.ingest.fetch_helpers import local_fetcher

BRIEFBOT = Path(sys.executable).with_name("briefbot")


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A feed and two article pages served by `python -m http.server` on 127.0.0.1."""
    site = tmp_path / "site"
    site.mkdir()
    (tmp_path / "briefs").mkdir()
    shutil.copy(VOCABULARY_FILE, tmp_path / "briefs" / "topics.yaml")
    (site / "a.html").write_bytes(devset_page("ars-1"))
    (site / "b.html").write_bytes(devset_page("herald-sun-1"))
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=site,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        match = re.search(r"port (\d+)", server.stdout.readline())
        assert match, "http.server did not say its port"
        base = f"http://127.0.0.1:{match.group(1)}"
        day = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
        items = [
            Item(title="Story A", link=f"{base}/a.html", guid="a", published=day),
            Item(title="Story B", link=f"{base}/b.html", guid="b", published=day),
        ]
        (site / "feed.xml").write_bytes(rss(items))
        yield base, tmp_path
    finally:
        server.kill()
        server.wait(timeout=10)


def run_poll(base: str, root: Path, topics: str = "economy") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BRIEFBOT_FETCH_PRIVATE_HOSTS": "127.0.0.1",
        "BRIEFBOT_BRIEFS_DIR": str(root / "briefs"),
        "BRIEFBOT_DATABASE": str(root / "data" / "db.sqlite3"),
    }
    return subprocess.run(
        [str(BRIEFBOT), "feeds", "poll", f"{base}/feed.xml", "--topics", topics],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_feeds_poll_url_writes_drafts_and_never_overwrites(
    static_site: tuple[str, Path],
) -> None:
    base, root = static_site
    first = run_poll(base, root)
    assert first.returncode == 0, first.stderr
    assert f"{base}/feed.xml: 2 new stories drafted" in first.stdout
    written = sorted((root / "drafts").glob("*.yaml"))
    assert len(written) == 2
    for path in written:
        text = path.read_text(encoding="utf-8")
        brief = yaml.safe_load(text)
        assert brief["topics"][0] == "economy"
        assert "# review: topics suggested by the feed" in text
        source = (root / "drafts" / brief["source"]["text"]).read_text(encoding="utf-8")
        # Quotes are verbatim from the source text written beside the draft.
        assert all(q["text"] in source for q in brief["quotes"])
    assert any(yaml.safe_load(p.read_text(encoding="utf-8"))["quotes"] for p in written)
    # Trying the feed again keeps the drafts as they are, and says so.
    before = {p: p.read_bytes() for p in written}
    second = run_poll(base, root)
    assert "already exists; not overwritten" in second.stdout
    assert {p: p.read_bytes() for p in written} == before


def test_feeds_poll_names_an_unknown_topic_or_a_missing_vocabulary_and_polls_nothing(
    static_site: tuple[str, Path],
) -> None:
    base, root = static_site
    unknown = run_poll(base, root, topics="economy, budgett")
    assert unknown.returncode == 2
    assert "--topics: unknown topic 'budgett'" in unknown.stderr
    (root / "briefs" / "topics.yaml").unlink()
    missing = run_poll(base, root)
    assert missing.returncode == 2
    assert "cannot read the topic vocabulary" in missing.stderr
    assert not (root / "drafts").exists()


def test_feeds_poll_of_a_refused_address_fails_with_one_line(tmp_path: Path) -> None:
    shutil.copy(VOCABULARY_FILE, tmp_path / "topics.yaml")
    result = subprocess.run(
        [str(BRIEFBOT), "feeds", "poll", "http://127.0.0.1:9/feed.xml"],
        cwd=tmp_path,
        env={**os.environ, "BRIEFBOT_BRIEFS_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "failed: 127.0.0.1 is a loopback address; only public addresses are fetched" in (
        result.stdout
    )


async def test_poll_once_without_url_polls_the_databases_feeds(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.server.routes["/p"] = page_route(devset_page("ars-1"))
        w.server.routes["/wire.xml"] = feed_route([rss([Item(title="One", link=w.url("/p"))])])
        await w.add("/wire.xml")
        async with local_fetcher() as fetcher:
            reports, sink = await poll_once(
                database=w.store.path,
                drafts=tmp_path / "drafts",
                url=None,
                topics=(),
                fetcher=fetcher,
                drafter=drafter(),
                burst=20,
            )
        assert [r.summary for r in reports] == ["1 new story drafted"]
        assert [p.parent for p in sink.written] == [tmp_path / "drafts"]
