"""`briefbot ingest`: articles in, draft briefs out, one line per article, every core busy."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.briefs.errors import BriefFileError
from bot.briefs.loader import VOCABULARY_FILE, load_vocabulary
from bot.briefs.models import Vocabulary
from bot.ingest.article import HTML_SUFFIXES, STDIN, Article, ArticleError, read_article
from bot.ingest.draft import (
    DraftExists,
    Rendered,
    render_draft,
    save_draft,
    slug,
    unique_id,
)
from bot.ingest.engine import analyse

log = logging.getLogger(__name__)

DEFAULT_OUT = Path("drafts")
# Fewer articles than this are done in this process: a pool costs more than it saves.
POOL_MIN_ARTICLES = 8
ARTICLE_SUFFIXES = frozenset({".txt", *HTML_SUFFIXES})


@dataclass(frozen=True, slots=True)
class _Done:
    name: str
    article: Article | None
    draft: Rendered | None  # rendered under the id its headline gives
    error: str | None


# Each worker process's vocabulary, read once: (path, vocabulary).
_VOCABULARY: list[tuple[Path, Vocabulary]] = []


def _vocabulary(path: Path) -> Vocabulary:
    if not _VOCABULARY or _VOCABULARY[0][0] != path:
        _VOCABULARY[:] = [(path, load_vocabulary(path))]
    return _VOCABULARY[0][1]


def _process(job: tuple[str, Path, str | None]) -> _Done:
    """Read, analyse and render one article (in a worker process when there are many)."""
    name, vocabulary, brief_id = job
    try:
        article = read_article(name)
        draft_id = brief_id or slug(article.headline or Path(name).stem)
        draft = render_draft(article, analyse(article.text), draft_id, _vocabulary(vocabulary))
        return _Done(name, article, draft, None)
    except ArticleError as exc:
        return _Done(name, None, None, str(exc))
    except Exception as exc:  # one bad article must not stop the others
        log.exception("ingest failed on %s", name)
        return _Done(name, None, None, f"{name}: unexpected error ({type(exc).__name__}: {exc})")


def expand(paths: Sequence[str]) -> list[str]:
    """The articles the paths name: files as given, folders' article files in name order."""
    found: list[str] = []
    for name in paths:
        path = Path(name)
        if name != STDIN and path.is_dir():
            found += sorted(
                str(p)
                for p in path.iterdir()
                if p.is_file()
                and p.suffix.lower() in ARTICLE_SUFFIXES
                and not p.name.startswith(".")
            )
        else:
            found.append(name)
    return found


def _results(jobs: list[tuple[str, Path, str | None]], workers: int | None) -> Iterator[_Done]:
    if len(jobs) < POOL_MIN_ARTICLES or workers == 1 or any(j[0] == STDIN for j in jobs):
        yield from map(_process, jobs)
        return
    count = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=count) as pool:
        yield from pool.map(_process, jobs, chunksize=max(1, len(jobs) // (count * 8)))


def run_ingest(
    paths: Sequence[str],
    out: Path = DEFAULT_OUT,
    brief_id: str | None = None,
    *,
    force: bool = False,
    vocabulary: Path | None = None,
    workers: int | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Write a draft brief per article into `out`; 0 when every article made a draft."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    names = expand(paths)
    if not names:
        print("briefbot ingest: no articles to ingest", file=stderr)
        return 2
    if brief_id is not None and len(names) != 1:
        print("briefbot ingest: --id names one draft; give exactly one article", file=stderr)
        return 2
    if brief_id is not None and slug(brief_id) != brief_id:
        print(
            f"briefbot ingest: --id {brief_id!r} is not an id; try {slug(brief_id)!r}", file=stderr
        )
        return 2
    vocabulary_path = vocabulary or Path("briefs") / VOCABULARY_FILE
    try:
        topics: Vocabulary = load_vocabulary(vocabulary_path)
    except (BriefFileError, OSError) as exc:
        print(f"briefbot ingest: cannot read the topic vocabulary: {exc}", file=stderr)
        return 2
    failed = 0
    taken: set[str] = set()
    jobs = [(name, vocabulary_path, brief_id) for name in names]
    for done in _results(jobs, workers):
        if done.error is not None or done.article is None or done.draft is None:
            failed += 1
            print(f"FAILED {done.error}", file=stderr)
            continue
        draft = done.draft
        chosen = brief_id or unique_id(draft.brief_id, taken)
        taken.add(chosen)
        if chosen != draft.brief_id:  # another article of this run has that headline
            draft = render_draft(done.article, analyse(done.article.text), chosen, topics)
        try:
            written = save_draft(draft, out, force=force)
        except DraftExists as exc:
            failed += 1
            print(f"FAILED {done.name}: {exc}", file=stderr)
            continue
        except OSError as exc:
            failed += 1
            print(f"FAILED {done.name}: cannot write the draft ({exc})", file=stderr)
            continue
        note = "  (replaced the existing draft: --force)" if written.overwrote else ""
        print(
            f"{written.brief}: {written.quotes} quotes, {written.speakers} speakers, "
            f"{written.claims} claims, {written.topics} topics, {written.uncertain} uncertain"
            f"  <- {done.name}{note}",
            file=stdout,
        )
    if failed:
        print(f"briefbot ingest: {failed} of {len(names)} article(s) failed", file=stderr)
    return 1 if failed else 0
