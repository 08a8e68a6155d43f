"""Reading an article: a UTF-8 text file, an HTML page or standard input, within the limits."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

# trafilatura (lxml trees, htmldate's deepcopy of them) is not safe to run in two threads at
# once: feed drafting runs extractions in worker threads, and concurrent ones crashed the whole
# process with a segmentation fault (`python -X faulthandler -m bench.feeds`, about 1 run in
# 10). One extraction at a time per process; `briefbot ingest DIR` gets its parallelism from
# processes, which this lock does not touch.
_EXTRACTING = threading.Lock()

# design.md, "Files, fetching, limits": one article-text limit for ingest, uploads, feeds and
# the loader's source texts; an HTML page may be larger before its text is extracted.
MAX_TEXT_BYTES = 1024 * 1024
MAX_HTML_BYTES = 5 * 1024 * 1024
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
STDIN = "-"

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH = r"(?P<month>" + "|".join(m.capitalize() for m in _MONTHS) + r")"
# A line that states a date and nothing else of substance ("Published: 25 July 2025").
_DATE_LINES = (
    re.compile(r"^(?:\w+:\s*)?(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b[^a-z]*$"),
    re.compile(
        r"^(?:[A-Za-z]+:\s*)?(?:[A-Z][a-z]+day,?\s+)?(?P<d>\d{1,2})\s+"
        + _MONTH
        + r",?\s+(?P<y>\d{4})\W*$"
    ),
    re.compile(
        r"^(?:[A-Za-z]+:\s*)?(?:[A-Z][a-z]+day,?\s+)?"
        + _MONTH
        + r"\s+(?P<d>\d{1,2}),?\s+(?P<y>\d{4})\W*$"
    ),
)
_HTML_START = re.compile(rb"^\s*(?:<!doctype html|<html|<head|<body|<!--|<meta|<div|<p\b)", re.I)


class ArticleError(Exception):
    """An article that cannot be ingested; `str()` is one line naming the file and the reason."""


@dataclass(frozen=True, slots=True)
class Article:
    """An article's text (headline on its first line) and what its page states about it."""

    name: str  # the path as given, or "-" for standard input
    text: str  # the exact text quotes are taken from: headline, newline, body
    headline: str | None
    outlet: str | None = None
    url: str | None = None
    date: dt.date | None = None  # only when the page metadata or the text states it
    extraction_seconds: float = 0.0  # time spent extracting the text from HTML


def read_article(name: str, stdin: BinaryIO | None = None) -> Article:
    """Read one article from a path (`.txt`, `.html`/`.htm`) or `-` for standard input."""
    if name == STDIN:
        data = _read_capped((stdin or sys.stdin.buffer), MAX_HTML_BYTES, name)
        kind = "html" if _HTML_START.match(data[:4096]) else "text"
    else:
        path = Path(name)
        if not path.is_file():
            raise ArticleError(f"{name}: no such file")
        kind = "html" if path.suffix.lower() in HTML_SUFFIXES else "text"
        limit = MAX_HTML_BYTES if kind == "html" else MAX_TEXT_BYTES
        try:
            with path.open("rb") as handle:
                data = _read_capped(handle, limit, name)
        except OSError as exc:
            raise ArticleError(f"{name}: cannot read it ({exc.strerror or exc})") from exc
    if kind == "html":
        return article_from_html(name, data)
    return article_from_text(name, data)


def _read_capped(handle: BinaryIO, limit: int, name: str) -> bytes:
    # Read one byte past the limit: enough to know it is too big without reading it all.
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise ArticleError(f"{name}: larger than {limit // (1024 * 1024)} MiB; not ingested")
    return data


def _decode(name: str, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise ArticleError(f"{name}: binary file, not an article")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"{name}: not UTF-8 (byte {exc.start})") from exc
    if not text.strip():
        raise ArticleError(f"{name}: empty file, no article text")
    return text


def _tidy(text: str) -> str:
    """Text with CRLF folded, trailing spaces gone and blank lines dropped."""
    lines = (line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def article_from_text(name: str, data: bytes) -> Article:
    """A plain-text article: UTF-8, headline on the first line."""
    text = _tidy(_decode(name, data))
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise ArticleError(f"{name}: larger than 1 MiB; not ingested")
    headline, _, body = text.partition("\n")
    if not body.strip():
        raise ArticleError(f"{name}: no article text after the headline")
    return Article(name=name, text=text, headline=headline, date=stated_date(text))


def stated_date(text: str) -> dt.date | None:
    """A date the text states on a line of its own near the top (a dateline), else None."""
    for line in text.split("\n")[1:6]:
        for pattern in _DATE_LINES:
            match = pattern.match(line.strip())
            if match is None:
                continue
            groups = match.groupdict()
            month = groups.get("month")
            try:
                return dt.date(
                    int(groups["y"]),
                    _MONTHS.index(month.lower()) + 1 if month else int(groups["m"]),
                    int(groups["d"]),
                )
            except ValueError:
                return None
    return None


def article_from_html(name: str, data: bytes) -> Article:
    """An HTML page: main text, headline, outlet, canonical URL and date via trafilatura."""
    import time

    import trafilatura  # imported here: a plain-text ingest never pays for it

    html = _decode(name, data)
    started = time.perf_counter()
    try:
        with _EXTRACTING:
            document = trafilatura.bare_extraction(
                html,
                with_metadata=True,
                favor_precision=True,
                include_comments=False,
                include_tables=False,
                # Only dates the page's markup states; never a guess from the text or the URL.
                date_extraction_params={"extensive_search": False, "original_date": True},
            )
    except Exception as exc:
        raise ArticleError(f"{name}: cannot extract article text ({exc})") from exc
    seconds = time.perf_counter() - started
    if document is None:
        raise ArticleError(f"{name}: HTML page with no article text")
    meta = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    body = _tidy(_join_wrapped(meta.get("text") or ""))
    if len(body.split()) < 10:
        raise ArticleError(f"{name}: HTML page with no article text")
    headline = _clean(meta.get("title"))
    first, _, rest = body.partition("\n")
    if headline and first.strip() == headline:
        body = rest
    if headline is None:  # no title in the page: its first line stands as the headline
        headline, body = first, rest
    text = f"{headline}\n{body}"
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise ArticleError(f"{name}: article text larger than 1 MiB; not ingested")
    url = _clean(meta.get("url"))
    return Article(
        name=name,
        text=text,
        headline=headline,
        outlet=_clean(meta.get("sitename")),
        url=url if url and re.match(r"^https?://\S+$", url) else None,
        date=_iso_date(meta.get("date")),
        extraction_seconds=seconds,
    )


def _join_wrapped(text: str) -> str:
    # Extracted paragraphs keep the page's hard line wraps as a newline plus indentation.
    return re.sub(r"\n[ \t]{2,}", " ", text)


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:300] or None


def _iso_date(value: object) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
