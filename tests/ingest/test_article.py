"""Reading articles: text, HTML and stdin; every bad input is one clear line naming the file."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest

from bot.ingest.article import (
    MAX_HTML_BYTES,
    MAX_TEXT_BYTES,
    ArticleError,
    article_from_html,
    read_article,
)

PAGE = """<!doctype html>
<html><head>
<title>Council backs flood walls | Riverton Gazette</title>
<meta property="og:title" content="Council backs flood walls">
<meta property="og:site_name" content="Riverton Gazette">
<link rel="canonical" href="https://gazette.example/2025/03/flood-walls">
<meta property="article:published_time" content="2025-03-04T09:00:00Z">
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article>
<h1>Council backs flood walls</h1>
<p>Riverton council voted on Tuesday to spend £4.5 million on new flood walls along the river,
after a winter in which the water came over the old walls three times.</p>
<p>“This keeps the river where it belongs,” said Ana Silva, the mayor, after the vote in the
council chamber on Tuesday evening.</p>
<p>Councillor Ben Ortiz called the plan “a missed chance” for housing, and said the money
should have gone to new homes for the families the floods displaced last year.</p>
</article>
<footer>Copyright Riverton Gazette</footer>
</body></html>
"""


def write(tmp_path: Path, name: str, data: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return str(path)


def test_text_article_headline_first_line(tmp_path: Path) -> None:
    name = write(tmp_path, "a.txt", "Headline here\r\n\r\nFirst paragraph.\nSecond one.\n")
    article = read_article(name)
    assert article.headline == "Headline here"
    assert article.text == "Headline here\nFirst paragraph.\nSecond one."
    assert (article.outlet, article.url, article.date) == (None, None, None)


def test_a_dateline_is_a_stated_date_and_nothing_else_is(tmp_path: Path) -> None:
    dated = write(tmp_path, "d.txt", "Headline\nPublished: 25 July 2025\nBody text on Friday.\n")
    assert read_article(dated).date == dt.date(2025, 7, 25)
    # A date inside a sentence is not the story's date: never guessed.
    undated = write(tmp_path, "u.txt", "Headline\nThe deal of 25 July 2025 was signed.\n")
    assert read_article(undated).date is None


def test_html_page_gives_text_headline_outlet_url_and_date(tmp_path: Path) -> None:
    article = read_article(write(tmp_path, "page.html", PAGE))
    assert article.headline == "Council backs flood walls"
    assert article.outlet == "Riverton Gazette"
    assert article.url == "https://gazette.example/2025/03/flood-walls"
    assert article.date == dt.date(2025, 3, 4)
    assert article.text.startswith("Council backs flood walls\nRiverton council voted")
    assert "“This keeps the river where it belongs,” said Ana Silva" in article.text
    assert "Home" not in article.text.split("\n")[1]


def test_stdin_text_and_html() -> None:
    text = read_article("-", io.BytesIO(b"Headline\nBody of the story.\n"))
    assert (text.name, text.headline) == ("-", "Headline")
    html = read_article("-", io.BytesIO(PAGE.encode()))
    assert html.outlet == "Riverton Gazette"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b" \n\n  \n", "empty file"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
        ("latin1.txt", "Caf\u00e9 news\nBody".encode("latin-1"), "not UTF-8"),
        ("headline-only.txt", b"Just a headline\n", "no article text after the headline"),
        ("nothing.html", b"<html><body><nav>Home</nav></body></html>", "no article text"),
        ("big.txt", b"a" * (MAX_TEXT_BYTES + 1), "larger than 1 MiB"),
        ("big.html", b"<p>" + b"a" * MAX_HTML_BYTES, "larger than 5 MiB"),
    ],
)
def test_bad_input_is_one_line_naming_the_file(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(ArticleError) as caught:
        read_article(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert reason in message
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArticleError, match="no such file"):
        read_article(str(tmp_path / "nope.txt"))


def test_pages_read_in_several_threads_are_extracted_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # trafilatura/lxml crashed the process (SIGSEGV) when feed drafting ran two extractions
    # in threads at once; every page must still be read, one extraction at a time.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import trafilatura

    real = trafilatura.bare_extraction
    running, most = 0, 0
    guard = threading.Lock()

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        try:
            return real(*args, **kwargs)
        finally:
            with guard:
                running -= 1

    monkeypatch.setattr(trafilatura, "bare_extraction", counted)
    with ThreadPoolExecutor(4) as pool:
        articles = list(
            pool.map(lambda i: article_from_html(f"p{i}.html", PAGE.encode()), range(16))
        )
    assert [a.outlet for a in articles] == ["Riverton Gazette"] * 16
    assert most == 1
