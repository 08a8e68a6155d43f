"""Feed bytes → entries with their dedupe keys (GUID, canonical URL, content hash).

feedparser reads RSS 0.9x/1.0/2.0 and Atom. It is always handed bytes the safe fetcher
already read (a string that looks like a URL would make it fetch by itself).
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import html
import logging
import re
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import feedparser

# The link key is shared with the brief index (published links).
from bot.briefs.links import MAX_KEY, canonical_url
from bot.text import fold

log = logging.getLogger(__name__)

TAG = re.compile(r"<[^>]+>")
HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.I | re.S)


class FeedError(Exception):
    """The bytes are not a feed that can be read; `str()` says why, in one line."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One story as the feed lists it."""

    guid: str | None
    link: str | None  # absolute http(s) link to the article page, as the feed gives it
    url: str | None  # the link in canonical form (a dedupe key)
    title: str | None
    summary: str | None
    published: dt.datetime | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's title, its entries in feed order, and a warning when it was read leniently."""

    title: str | None
    entries: tuple[FeedEntry, ...]
    warning: str | None = None


def plain(text: str | None) -> str | None:
    """Feed text without markup or entities, whitespace collapsed; None when empty."""
    if not text:
        return None
    stripped = " ".join(html.unescape(TAG.sub(" ", text)).split())
    return stripped or None


def content_hash(title: str | None, summary: str | None) -> str:
    """The story's content key: title and summary, folded, so re-dating changes nothing."""
    basis = f"{fold(title or '')}\n{fold(summary or '')}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


def _published(entry: Mapping[str, Any]) -> dt.datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if isinstance(value, time.struct_time):
            # feedparser normalises to UTC as a struct_time.
            return dt.datetime.fromtimestamp(calendar.timegm(value), dt.UTC)
    return None


def _link(entry: Mapping[str, Any], base: str) -> str | None:
    candidates = [entry.get("link")]
    guid = entry.get("id")
    # An RSS GUID with isPermaLink (the default) is the article's address.
    if isinstance(guid, str) and guid.startswith(("http://", "https://")):
        candidates.append(guid)
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            link = urllib.parse.urljoin(base, candidate.strip())
            if canonical_url(link) is not None:
                return link[:MAX_KEY]
    return None


def _entry(raw: Mapping[str, Any], base: str) -> FeedEntry:
    guid = raw.get("id")
    guid = guid.strip()[:MAX_KEY] if isinstance(guid, str) and guid.strip() else None
    link = _link(raw, base)
    title = plain(raw.get("title"))
    summary = plain(raw.get("summary"))
    return FeedEntry(
        guid=guid,
        link=link,
        url=canonical_url(link) if link else None,
        title=title,
        summary=summary,
        published=_published(raw),
        content_hash=content_hash(title, summary if (title or summary) else (link or guid)),
    )


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Read a feed's bytes; FeedError when they are not a feed (HTML, broken XML)."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    version = parsed.get("version") or ""
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    entries = tuple(_entry(e, url) for e in parsed.get("entries", []))
    if not version:
        if HTML_START.match(body[:4096]) or (content_type or "").lower() == "text/html":
            raise FeedError("this is an HTML page, not an RSS or Atom feed")
        if not body.strip():
            raise FeedError("the response was empty, not a feed")
        if problem is not None:
            raise FeedError(f"not well-formed XML: {_describe(problem)}")
        raise FeedError("this is not an RSS or Atom feed")
    if isinstance(problem, feedparser.CharacterEncodingOverride):
        return ParsedFeed(plain(parsed.feed.get("title")), entries)
    warning = None
    if problem is not None:
        if not entries:
            raise FeedError(f"not well-formed XML: {_describe(problem)}")
        # feedparser's lenient reading recovers most broken feeds; say so in the status.
        warning = f"read leniently, the XML has errors: {_describe(problem)}"
    return ParsedFeed(plain(parsed.feed.get("title")), entries, warning)


def _describe(problem: object) -> str:
    getline = getattr(problem, "getLineNumber", None)
    message = getattr(problem, "getMessage", None)
    text = str(message() if callable(message) else problem)
    if callable(getline):
        return f"line {getline()}: {text}"
    return text
