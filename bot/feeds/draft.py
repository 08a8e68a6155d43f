"""A feed's story → its article page read as ingest reads HTML → a draft through the engine.

One HTML extraction and one set of limits: ingest's (`bot.ingest.article`). One drafting path:
review's (`bot.review.drafting`, the ingest engine), so a feed draft has the quotes, speakers
and claims an uploaded article would. What only the feed knows is added, and marked as such:
the topics given on the feed (suggested), its date for an entry whose page states none
(`inferred`, with the basis), its title as the outlet when the page names none, and the link.
"""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Any, Protocol

from bot.briefs.models import Vocabulary
from bot.ingest import article as ingest
from bot.ingest.draft import slug, unique_id
from bot.review.drafting import GENERAL, Drafter, DraftText, dump, ingest_drafter
from bot.store.records import Uncertain
from bot.text import clip

log = logging.getLogger(__name__)

# design.md "Files, fetching, limits": defined once, in ingest. A feed document is capped like
# an HTML page.
HTML_PAGE_BYTES = ingest.MAX_HTML_BYTES
FEED_BYTES = ingest.MAX_HTML_BYTES
ARTICLE_TEXT_BYTES = ingest.MAX_TEXT_BYTES
# The engine's placeholder topic when the text names none (replaced by the feed's topics).
_PLACEHOLDER_NOTE = "no vocabulary topic is named in the article"
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


class ArticleError(Exception):
    """The story cannot be drafted (no article text, no vocabulary…); `str()` says why."""


@dataclass(frozen=True, slots=True)
class Story:
    """A feed entry whose page was fetched: what the feed says of it, and the page itself."""

    link: str  # the link the feed gives (the brief's source URL)
    title: str | None
    published: dt.datetime | None
    feed_title: str | None
    feed_url: str
    topics: tuple[str, ...]  # topic ids given on the feed: suggested to the draft
    page: bytes
    charset: str | None = None  # from the response's Content-Type


@dataclass(frozen=True, slots=True)
class FeedDraft:
    """A drafted story: the engine's draft, its source text, and what to show about it."""

    drafted: DraftText
    source_text: str
    title: str
    link: str
    feed_title: str | None
    feed_url: str
    topics: tuple[str, ...]  # suggested by the feed

    @property
    def brief_id(self) -> str:
        """The draft's brief id."""
        return self.drafted.brief_id

    @property
    def brief_yaml(self) -> str:
        """The draft brief as YAML."""
        return self.drafted.yaml


class StoryDrafter(Protocol):
    """Makes a draft from a story (called in a worker thread)."""

    def draft(self, story: Story) -> FeedDraft:
        """The draft; ArticleError when the story cannot be drafted."""
        ...


def _utf8(page: bytes, charset: str | None) -> bytes:
    """The page as UTF-8 (ingest reads UTF-8 only): as sent, or decoded by its stated charset."""
    try:
        page.decode("utf-8")
        return page
    except UnicodeDecodeError:
        pass
    stated = _META_CHARSET.search(page[:4096])
    for name in (charset, stated.group(1).decode("ascii") if stated else None):
        if not name:
            continue
        try:
            codecs.lookup(name)
            return page.decode(name, errors="replace").encode("utf-8")
        except (LookupError, ValueError):
            continue
    raise ArticleError("the article page is not UTF-8 and names no charset that can be read")


def read_page(story: Story) -> ingest.Article:
    """The article as ingest reads an HTML page, named by its link; ArticleError if it has none."""
    try:
        return ingest.article_from_html(story.link, _utf8(story.page, story.charset))
    except ingest.ArticleError as exc:
        # Ingest names the page first ("<link>: …"); the feed's status names the story already.
        raise ArticleError(str(exc).removeprefix(f"{story.link}: ")) from exc


class EngineDrafter:
    """Drafts a story through review's drafter (the ingest engine), with the feed's additions."""

    def __init__(
        self,
        vocabulary: Callable[[], Vocabulary],
        taken: Callable[[], Collection[str]] = frozenset,
        drafter: Drafter = ingest_drafter,
    ) -> None:
        """`vocabulary` gives the current topic vocabulary, `taken` the ids briefs have."""
        self.vocabulary = vocabulary
        self.taken = taken
        self.drafter = drafter

    def draft(self, story: Story) -> FeedDraft:
        """Read the page, draft it, add what the feed knows; ArticleError if it cannot be."""
        vocabulary = self.vocabulary()
        if not vocabulary.topics:
            raise ArticleError("no topic vocabulary (topics.yaml) to draft with")
        article = read_page(story)
        headline = story.title or article.headline or "feed story"
        brief_id = unique_id(slug(headline), self.taken())
        drafted = self.drafter(article, vocabulary, brief_id)
        data, notes = with_feed(drafted.data, drafted.notes, story, article)
        return FeedDraft(
            drafted=replace(drafted, data=data, notes=notes),
            source_text=article.text,
            title=headline,
            link=story.link,
            feed_title=story.feed_title,
            feed_url=story.feed_url,
            topics=story.topics,
        )


def with_feed(
    data: dict[str, Any],
    notes: tuple[Uncertain, ...],
    story: Story,
    article: ingest.Article,
) -> tuple[dict[str, Any], tuple[Uncertain, ...]]:
    """The engine's draft with what the feed knows added, each addition said in a note."""
    data = dict(data)
    kept = list(notes)
    source = dict(data.get("source") or {})
    # The feed's link is the source URL: it is what the next poll (of any guild's feed) is
    # compared with, so a published story is never drafted again.
    source["url"] = story.link
    if not source.get("outlet") and story.feed_title:
        source["outlet"] = clip(story.feed_title, 300)
    data["source"] = source
    if story.topics:
        placeholder = [n for n in kept if n.reason.startswith(_PLACEHOLDER_NOTE)]
        engine_topics = [] if placeholder else list(data.get("topics") or [])
        kept = [n for n in kept if n not in placeholder]
        data["topics"] = list(dict.fromkeys([*story.topics, *engine_topics]))
        if placeholder:
            # The engine's key points carried its placeholder; the feed's first topic instead.
            data["key_points"] = [
                {**point, "topics": [story.topics[0]]} for point in data.get("key_points") or []
            ]
        kept.append(
            Uncertain(
                GENERAL,
                f"topics suggested by the feed {story.feed_title or story.feed_url}: "
                f"{', '.join(story.topics)} (check they fit the story)",
            )
        )
    date = data.get("date") or {}
    if date.get("status") == "unknown" and story.published is not None:
        data["date"] = {
            "value": story.published.date().isoformat(),
            "status": "inferred",
            "basis": clip(
                f"the feed {story.feed_title or story.feed_url} dates this entry "
                f"{story.published:%Y-%m-%d %H:%M} UTC; the article page states no date",
                300,
            ),
        }
        kept.append(Uncertain(GENERAL, "the date is the feed's, not stated in the article"))
    return data, tuple(kept)


def draft_file(draft: FeedDraft) -> str:
    """The draft as the YAML `briefbot feeds poll` writes: a header with its review notes."""
    header = [
        f"# DRAFT brief written by `briefbot feeds poll` from {draft.link}",
        f"# (feed {draft.feed_title or draft.feed_url}).",
        "# Not live until someone reviews it and copies it into the briefs folder.",
        "# Quotes and figures are verbatim from the source text; title, summary and key points",
        "# are taken from the headline and lead sentences (extractive).",
    ]
    if draft.drafted.notes:
        header.append("#")
        for note in draft.drafted.notes:
            where = f"quotes.{note.quote}: " if note.quote != GENERAL else ""
            header.append(f"# review: {where}{' '.join(note.reason.split())}")
    return "\n".join(header) + "\n" + dump(draft.drafted.data)
