"""An article as it reaches the bot: an uploaded .txt/.html file, or pasted headline and text.

Every refusal is an `ArticleError` whose message a user can act on; nothing is half-read.
"""

from __future__ import annotations

import html.parser
import logging
from dataclasses import dataclass

from bot.ingest.fetch import Fetcher, FetchError, TooLarge

log = logging.getLogger(__name__)

# One article-text limit for ingest, uploads, feeds and source texts (design.md).
MAX_ARTICLE_BYTES = 1024 * 1024
KINDS = {".txt": "text", ".html": "html", ".htm": "html"}
# Paragraph-ish elements whose text makes the article; everything else in a page is chrome.
_BLOCKS = frozenset({"p", "h1", "h2", "h3", "li", "blockquote"})
_SKIP = frozenset({"script", "style", "nav", "header", "footer", "aside", "form", "noscript"})
MIN_ARTICLE_WORDS = 30


class ArticleError(Exception):
    """The upload or paste cannot be drafted; `str()` says why and what to do instead."""


@dataclass(frozen=True, slots=True)
class Article:
    """Plain article text with its headline (the first line of `text`)."""

    headline: str
    text: str  # headline on the first line, then the body: what the draft's quotes stand in
    name: str | None = None  # the uploaded file's name


def kind_of(filename: str) -> str:
    """'text' or 'html' for an accepted file name; ArticleError otherwise."""
    dot = filename.rfind(".")
    suffix = filename[dot:].lower() if dot >= 0 else ""
    kind = KINDS.get(suffix)
    if kind is None:
        raise ArticleError(
            f"{filename!r} is not a .txt or .html file. Upload the article as plain text (.txt) "
            "or as a saved web page (.html)."
        )
    return kind


def check_size(filename: str, size: int) -> None:
    """Refuse a file Discord says is over the limit, before downloading a byte of it."""
    if size > MAX_ARTICLE_BYTES:
        raise ArticleError(
            f"{filename!r} is {size / 1024 / 1024:.1f} MiB; articles may be at most 1 MiB. "
            "Upload the article text alone as a .txt file."
        )


def decode(filename: str, body: bytes) -> str:
    """The file's text: refuses binary and non-UTF-8 files."""
    if b"\x00" in body:
        raise ArticleError(f"{filename!r} is a binary file, not an article. Upload .txt or .html.")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            f"{filename!r} is not UTF-8 text (byte 0x{body[exc.start]:02x} at offset "
            f"{exc.start}). Save it as UTF-8 and upload it again."
        ) from exc


def from_file(filename: str, body: bytes) -> Article:
    """An article from an uploaded file's bytes."""
    kind = kind_of(filename)
    check_size(filename, len(body))
    text = decode(filename, body)
    if kind == "html":
        return _from_html(filename, text)
    return _from_text(filename, text)


def from_paste(headline: str, text: str) -> Article:
    """An article from a pasted headline and body."""
    headline = " ".join(headline.split())
    body = text.strip()
    if not headline or not body:
        raise ArticleError("Give both a headline and the article text.")
    if "\x00" in body:
        raise ArticleError("The pasted text contains NUL characters; paste plain text.")
    return Article(headline, f"{headline}\n{body}\n")


def _from_text(filename: str, text: str) -> Article:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        raise ArticleError(
            f"{filename!r} has no article: put the headline on the first line and the text below."
        )
    return Article(
        " ".join(lines[0].split()), text if text.endswith("\n") else text + "\n", filename
    )


class _Paragraphs(html.parser.HTMLParser):
    """Headline and paragraph text of a page; scripts, navigation and footers are skipped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self.paragraphs: list[str] = []
        self._stack: list[str] = []
        self._skipping = 0
        self._current: list[str] | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag == "title":
            self._in_title = True
        elif tag in _BLOCKS and self._current is None and not self._skipping:
            self._current = []
            self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag == "title":
            self._in_title = False
        elif self._stack and tag == self._stack[-1] and self._current is not None:
            text = " ".join("".join(self._current).split())
            if text:
                if tag == "h1" and not self.h1:
                    self.h1 = text
                else:
                    self.paragraphs.append(text)
            self._current = None
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._current is not None and not self._skipping:
            self._current.append(data)


def _from_html(filename: str, text: str) -> Article:
    parser = _Paragraphs()
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError) as exc:  # html.parser's own complaints
        raise ArticleError(f"{filename!r} could not be read as HTML: {exc}") from exc
    headline = parser.h1 or " ".join(parser.title.split())
    body = [p for p in parser.paragraphs if len(p.split()) >= 4]
    if not headline or sum(len(p.split()) for p in body) < MIN_ARTICLE_WORDS:
        raise ArticleError(
            f"No article found in {filename!r}: the page has no headline and paragraphs of "
            "story text. Save the article page itself, or paste its text with /brief draft."
        )
    return Article(headline, headline + "\n" + "\n".join(body) + "\n", filename)


async def download(fetcher: Fetcher, url: str, filename: str, size: int) -> Article:
    """Download an attachment through the safe fetcher (size checked before and while reading)."""
    kind_of(filename)
    check_size(filename, size)
    try:
        result = await fetcher.get(
            url, max_bytes=MAX_ARTICLE_BYTES, accept="text/plain, text/html;q=0.9"
        )
    except TooLarge as exc:
        raise ArticleError(f"{filename!r} is over the 1 MiB limit for articles.") from exc
    except FetchError as exc:
        log.warning("downloading attachment %s failed: %s", filename, exc)
        raise ArticleError(
            f"Could not download {filename!r}: {exc}. Try again, or paste the text instead."
        ) from exc
    return from_file(filename, result.body)
