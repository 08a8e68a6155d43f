"""An article as it reaches the bot: an uploaded .txt/.html file, or pasted headline and text.

Every refusal is an `ArticleError` whose message a user can act on; nothing is half-read.
"""

from __future__ import annotations

import logging

from bot.ingest import article as ingest
from bot.ingest.article import HTML_SUFFIXES, MAX_TEXT_BYTES, Article
from bot.ingest.fetch import Fetcher, FetchError, TooLarge

log = logging.getLogger(__name__)

# One article-text limit for ingest, uploads, feeds and source texts (design.md): ingest's.
MAX_ARTICLE_BYTES = MAX_TEXT_BYTES
# The suffixes the ingest engine reads as HTML; anything else must be .txt.
KINDS = {".txt": "text"} | dict.fromkeys(sorted(HTML_SUFFIXES), "html")
__all__ = ["Article", "ArticleError", "download", "from_file", "from_paste"]


class ArticleError(Exception):
    """The upload or paste cannot be drafted; `str()` says why and what to do instead."""


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
    """An article from an uploaded file's bytes, read by the ingest engine's reader."""
    kind = kind_of(filename)
    check_size(filename, len(body))
    decode(filename, body)  # the clear refusals first: binary, not UTF-8
    try:
        if kind == "html":
            return ingest.article_from_html(filename, body)
        return ingest.article_from_text(filename, body)
    except ingest.ArticleError as exc:
        raise ArticleError(
            f"{exc}. Upload the article page itself or its text as .txt (headline on the first "
            "line), or paste it with /brief draft."
        ) from exc


def from_paste(headline: str, text: str) -> Article:
    """An article from a pasted headline and body."""
    headline = " ".join(headline.split())
    if not headline or not text.strip():
        raise ArticleError("Give both a headline and the article text.")
    if "\x00" in text:
        raise ArticleError("The pasted text contains NUL characters; paste plain text.")
    try:
        return ingest.article_from_text("pasted text", f"{headline}\n{text}".encode())
    except ingest.ArticleError as exc:
        raise ArticleError(str(exc)) from exc


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
