"""Uploads and pastes: what is accepted, and the clear refusal for everything else."""

from __future__ import annotations

import pytest

from bot.review.article import ArticleError, from_file, from_paste

PAGE = """<html><head><title>Site | Harbour budget</title><script>var x = "“no”";</script></head>
<body><nav><p>Home News Sport Weather and much more navigation here</p></nav>
<article><h1>Harbour budget approved</h1>
<p>The harbour board approved the budget on Tuesday after a long debate about housing.</p>
<p>“This budget keeps the ferries running,” said Jane Doe, the board's chair, to reporters.</p>
<p>Councillor Sam Roe said the plan was not enough for the people who live by the water.</p>
</article><footer><p>Copyright and cookie notices that are not part of the story</p></footer>
</body></html>"""


def test_text_file_headline_is_its_first_line() -> None:
    article = from_file("a.txt", b"Headline here\nBody text.\n")
    assert article.headline == "Headline here" and article.text == "Headline here\nBody text."


def test_html_gives_the_article_without_the_page_chrome() -> None:
    article = from_file("page.HTML", PAGE.encode())
    assert article.headline == "Harbour budget approved"
    assert "said Jane Doe" in article.text
    assert "var x" not in article.text and "cookie" not in article.text


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("a.pdf", b"%PDF-1.4", "not a .txt or .html file"),
        ("a", b"text", "not a .txt or .html file"),
        ("a.txt", b"Head\n\x00\x01\x02binary", "binary file"),
        ("a.txt", "Héadline\nbody".encode("latin-1"), "not UTF-8 text (byte 0xe9"),
        ("a.txt", b"only a headline\n", "no article text after the headline"),
        ("a.html", b"<html><body><div>menu</div></body></html>", "HTML page with no article"),
        ("a.txt", b"x" * (1024 * 1024 + 1), "at most 1 MiB"),
    ],
)
def test_bad_files_are_refused_with_a_clear_reason(name: str, body: bytes, message: str) -> None:
    with pytest.raises(ArticleError, match=message.replace("(", r"\(")):
        from_file(name, body)


def test_paste_needs_headline_and_text() -> None:
    assert from_paste("  Head  line ", " Body.\n").text == "Head line\nBody."
    with pytest.raises(ArticleError, match="both a headline and the article text"):
        from_paste("Head", "   ")
