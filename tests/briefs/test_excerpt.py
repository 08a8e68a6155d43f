"""Text from a file shown on a terminal or in an error: controls escaped, excerpts short."""

from __future__ import annotations

import pytest

from bot.briefs.excerpt import escape_controls, excerpt, first_control, one_line


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("\x9b2J", "\\x9b2J"),  # the one-byte CSI
        ("title\x07\x00\x7f", "title\\x07\\x00\\x7f"),
        ("over\rwrite", "over\\x0dwrite"),
        ("abc\u202edcba", "abc\\u202edcba"),  # a bidi override reorders the rest of the line
        ("line one\n\tline two", "line one\n\tline two"),  # layout is kept
        ("café “quoted” — ok", "café “quoted” — ok"),
    ],
)
def test_controls_are_shown_escaped_and_layout_is_kept(raw: str, shown: str) -> None:
    assert escape_controls(raw) == shown


def test_an_excerpt_is_one_short_escaped_line() -> None:
    assert escape_controls("a\nb\tc", keep_layout=False) == "a\\nb\\tc"
    assert one_line("x" * 200) == "x" * 59 + "…"
    assert len(one_line("\x1b" * 100, 80)) == 80
    assert excerpt("it's") == '"it\'s"'
    assert excerpt("plain") == "'plain'"
    assert excerpt("a\x1b[2Jb") == "'a\\x1b[2Jb'"


def test_first_control_names_where_it_is() -> None:
    assert first_control("ok\tok\n") is None
    assert first_control("abc\x1bdef\x07") == (3, "\\x1b")
