"""An article page → its text → a draft brief for review.

The drafter is a protocol: until the ingest engine lands, `OutlineDrafter` makes an honest
skeleton (headline, link, the feed's date marked as such, the opening sentences, the feed's
topics, the full source text, no quotes). Ingest's drafter replaces it in `bot.app`/`bot.cli`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any, Protocol

import trafilatura
import yaml

from bot.text import clip, first_sentences

log = logging.getLogger(__name__)

# design.md "Files, fetching, limits": one article-text limit (1 MiB) for ingest, uploads and
# feeds; an HTML page may be up to 5 MiB before its text is extracted; feeds are capped alike.
ARTICLE_TEXT_BYTES = 1024 * 1024
HTML_PAGE_BYTES = 5 * 1024 * 1024
FEED_BYTES = 5 * 1024 * 1024
# Less than this is a cookie wall, an index page or a caption, not an article.
MIN_ARTICLE_CHARS = 200
SLUG = re.compile(r"[^a-z0-9]+")


class ArticleError(Exception):
    """The page has no article to draft from; `str()` says why, in one line."""


@dataclass(frozen=True, slots=True)
class Article:
    """What a drafter gets: the story as the feed named it, and the page's text."""

    link: str
    title: str | None
    published: dt.datetime | None
    text: str
    feed_title: str | None
    feed_url: str
    topics: tuple[str, ...]  # suggested by the feed


@dataclass(frozen=True, slots=True)
class FeedDraft:
    """A draft brief, its source text, and what to show about it."""

    brief_id: str
    brief_yaml: str
    source_text: str
    title: str
    link: str
    topics: tuple[str, ...]


class Drafter(Protocol):
    """Makes a draft brief from an article (called in a worker thread)."""

    def draft(self, article: Article) -> FeedDraft:
        """The draft; ArticleError when the article cannot be drafted."""
        ...


def extract_text(page: bytes, url: str) -> str:
    """The article text of an HTML page; ArticleError when it has none."""
    text = trafilatura.extract(
        page, url=url, include_comments=False, include_tables=False, favor_precision=True
    )
    text = (text or "").strip()
    if len(text) < MIN_ARTICLE_CHARS:
        raise ArticleError("the article page has no article text")
    if len(text.encode("utf-8")) > ARTICLE_TEXT_BYTES:
        raise ArticleError("the article text is over the 1 MiB limit")
    return text


def brief_id_for(title: str | None, link: str) -> str:
    """A brief id from the headline, with a short hash of the link so two stories with one
    headline do not collide."""
    slug = SLUG.sub("-", (title or "feed-story").lower()).strip("-")[:60].strip("-")
    digest = hashlib.sha256(link.encode("utf-8")).hexdigest()[:6]
    return f"{slug or 'feed-story'}-{digest}"


class OutlineDrafter:
    """A skeleton draft that invents nothing; the editor (or ingest's drafter) fills it in."""

    def draft(self, article: Article) -> FeedDraft:
        """Headline, link, outlet, the feed's date as such, opening sentences, topics."""
        brief_id = brief_id_for(article.title, article.link)
        opening = first_sentences(" ".join(article.text.split()), 600)
        date: dict[str, Any] = {"status": "unknown"}
        if article.published is not None:
            date = {
                "value": article.published.date().isoformat(),
                "status": "inferred",
                "basis": "the date the feed gives for this entry, not checked against the text",
            }
        body: dict[str, Any] = {
            "id": brief_id,
            "title": clip(article.title or opening, 300),
            "date": date,
            "source": {
                "outlet": clip(article.feed_title, 300) if article.feed_title else None,
                "url": article.link,
                "headline": clip(article.title, 300) if article.title else None,
                "text": f"sources/{brief_id}.txt",
            },
            "summary": opening,
            "key_points": [{"text": opening, "topics": list(article.topics)}],
            "quotes": [],
            "topics": list(article.topics),
        }
        return FeedDraft(
            brief_id=brief_id,
            brief_yaml=yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100),
            source_text=article.text + "\n",
            title=article.title or brief_id,
            link=article.link,
            topics=article.topics,
        )
