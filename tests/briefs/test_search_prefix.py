"""Prefix search (`minis*`) is searched as the prefix's most used words: still correct.

A prefix is written as an OR of at most `index.PREFIX_WORDS` words (those in the most entries),
so every hit holds a word with the prefix, a rarer word is found while it is among those, and
the reply says when the prefix starts more words than were searched.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from bot.briefs import index
from bot.briefs.library import Library, load_library
from bot.queries import search
from bot.reply import Status
from tests.conftest import VOCABULARY, write_briefs

# Entries (the title and key points) holding each word: minister 5, ministry 4, ministers 3,
# ministrant 1.
POINTS = [
    "The minister spoke first.",
    "A minister and the ministry disagreed.",
    "The minister asked the ministry for help.",
    "Ministers met the minister at the ministry.",
    "The minister thanked the ministry and two ministers.",
    "A ministrant rang the bell.",
    "Nothing here starts that way.",
    "Transit fares stay the same.",
]
WORDS_BRIEF = (
    "id: ministers-meet\n"
    "title: Ministers meet\n"
    "date: {value: 2026-04-02, status: stated}\n"
    "source: {outlet: null}\n"
    "summary: A meeting of officials.\n"
    "key_points:\n"
    + "".join(f"  - text: {p}\n    topics: [transport]\n" for p in POINTS)
    + "topics: [transport]\n"
)


@pytest.fixture
def library(tmp_path: Path) -> Library:
    lib = load_library(write_briefs(tmp_path / "b", **{"words.yaml": WORDS_BRIEF}))
    assert lib.errors == ()
    return lib


# Every entry of the brief that can hold a word (the summary has none of these).
TEXTS = [*POINTS, "Ministers meet"]


def hit_texts(library: Library, query: str) -> list[str]:
    return [hit.marked.replace("\x02", "").replace("\x03", "") for _, hit in library.search(query)]


def holding(prefix: str, words: set[str] | None = None) -> set[str]:
    """The entries with a word starting with `prefix` (and among `words`, if given)."""
    return {
        p
        for p in TEXTS
        if any(
            w.startswith(prefix) and (words is None or w in words)
            for w in re.findall(r"\w+", p.casefold())
        )
    }


def test_every_hit_holds_a_word_with_the_prefix_and_all_are_found(library: Library) -> None:
    found = library.search("minis*", limit=100)
    assert set(hit_texts(library, "minis*")) == holding("minis")
    assert found.narrowed == ()  # four words, all searched
    # The rarest word is found with the others.
    assert "A ministrant rang the bell." in hit_texts(library, "minis*")
    for _, hit in found:
        marked = re.findall("\x02(.*?)\x03", hit.marked)
        assert marked and all(m.casefold().startswith("minis") for m in marked)


def test_past_the_bound_the_most_used_words_are_searched_and_the_reply_says_so(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index, "PREFIX_WORDS", 2)
    found = library.search("minis*", limit=100)
    assert found.narrowed == (("minis*", ("minister", "ministry"), 4),)
    assert len(found) == len(holding("minis", {"minister", "ministry"})) == 5
    assert set(hit_texts(library, "minis*")) == holding("minis", {"minister", "ministry"})
    reply = search.search(library, "minis*")
    assert reply.ok
    assert (
        "'minis*' starts 4 words: only the 2 in the most entries were searched "
        "(minister, ministry); type more of the word to reach the others."
    ) in (reply.description or "")
    # Typing more reaches a rarer word: "ministr" starts two, both searched.
    assert set(hit_texts(library, "ministr*")) == holding("ministr")
    assert "A ministrant rang the bell." in hit_texts(library, "ministr*")


def test_a_rarer_word_is_found_while_it_is_among_the_searched(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index, "PREFIX_WORDS", 3)
    assert set(hit_texts(library, "minis*")) == holding(
        "minis", {"minister", "ministry", "ministers"}
    )
    # "ministra" starts only the rarest word: it is the one searched.
    assert hit_texts(library, "ministra*") == ["A ministrant rang the bell."]


def test_words_are_counted_in_the_text_not_the_tags(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every entry carries date tags ("d20260402" on each of this brief's), far more than any
    # word of the text starting with d: counted as words, the tag alone would be searched
    # and nothing found.
    monkeypatch.setattr(index, "PREFIX_WORDS", 1)
    found = hit_texts(library, "d*")
    assert found
    assert all(any(w.startswith("d") for w in re.findall(r"\w+", t.casefold())) for t in found)
    assert hit_texts(library, "d2026*") == hit_texts(library, "y2*") == []  # only tags


def test_a_topic_tag_that_starts_like_a_word_is_not_counted_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Topic "wx" is the tag "twx" on every entry of the brief, more than any word starting
    # "tw" ("two" is in one): counted as a word, "twx" alone would be searched, finding nothing.
    root = write_briefs(
        tmp_path / "b", **{"words.yaml": WORDS_BRIEF.replace("[transport]", "[wx]")}
    )
    (root / "topics.yaml").write_text(VOCABULARY + "  - id: wx\n    label: WX\n", "utf-8")
    library = load_library(root)
    assert library.errors == ()
    monkeypatch.setattr(index, "PREFIX_WORDS", 1)
    assert hit_texts(library, "tw*") == ["The minister thanked the ministry and two ministers."]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"the minis"*', holding("minis") - {"A ministrant rang the bell.", "Ministers meet"}),
        ("minis* AND bell", {"A ministrant rang the bell."}),
        ("minis* NOT minister", {"A ministrant rang the bell.", "Ministers meet"}),
        ("NEAR(minis* bell)", {"A ministrant rang the bell."}),
        ("(minis*) OR transit", holding("minis") | {"Transit fares stay the same."}),
    ],
)
def test_prefixes_inside_other_syntax(
    library: Library, query: str, expected: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index, "PREFIX_WORDS", 10)
    assert set(hit_texts(library, query)) == expected


def test_a_prefix_no_word_starts_finds_nothing(library: Library) -> None:
    reply = search.search(library, "zyx*")
    assert reply.status is Status.NOT_FOUND


def native(query: str) -> set[str]:
    """What FTS5 itself answers for the query (its own prefix search) over the same entries."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(
            "CREATE VIRTUAL TABLE t USING fts5(body, tags, "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        conn.executemany("INSERT INTO t VALUES (?, '')", [(text,) for text in ENTRIES])
        rows = conn.execute("SELECT body FROM t WHERE t MATCH ?", (f"{{body}} : ({query})",))
        return {row[0] for row in rows}
    finally:
        conn.close()


ENTRIES = [*TEXTS, "A meeting of officials."]


@pytest.mark.parametrize(
    "query",
    [
        "the minis*",
        "minis* bell",
        "minis* the bell",
        "minis* ministe*",
        '"the minis"* two',
        "ministra* rang bell",
        # Side by side binds tighter than NOT: ministers NOT (two ministr*), which keeps
        # "Ministers meet" (read as (ministers NOT two) AND ministr*, it would go).
        "ministers NOT two ministr*",
        "ministers NOT ministr* two",
        "bell OR minis* the",
        "minis* the OR transit",
        "NEAR(the minister) minis*",
        "minis* NEAR(the minister)",
        "body : minis* the",
        "the body : minis*",
        "{body} : minis* rang",
        "rang {body tags} : minis*",
        "(the minis*)",
        "minis* AND the",
        "minis* ^ the",
        "two minis* thanked",
    ],
)
def test_a_prefix_beside_other_words_finds_what_fts5_itself_finds(
    library: Library, query: str
) -> None:
    # Every word the prefixes start is searched (PREFIX_WORDS is 10), so the answer is FTS5's.
    assert native(query), query  # each case finds something, or it would prove little
    assert set(hit_texts(library, query)) == native(query)
    reply = search.search(library, query)
    assert reply.ok and "not FTS5" not in (reply.description or "")


def test_a_prefix_beside_words_in_a_query_fts5_refuses_is_searched_as_words(
    library: Library,
) -> None:
    # '"unclosed' makes FTS5 refuse the query: searched as the words the minis* bell, in full.
    reply = search.search(library, 'the minis* bell "unclosed')
    assert reply.status is Status.NOT_FOUND  # "unclosed" is in no entry
    assert hit_texts(library, 'the minis* bell "') == ["A ministrant rang the bell."]
