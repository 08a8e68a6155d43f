"""The console renderer: everything in the reply, in order, readable at 100 columns, never paged."""

from __future__ import annotations

from bot.adapters.text import render
from bot.reply import Item, Reply, Section, Status


def test_a_reply_reads_top_to_bottom() -> None:
    reply = Reply(
        "Quotes by Jane Doe",
        description="Mayor",
        sections=(
            Section("Quotes by Jane Doe", (Item("“Yes.”", detail="Speech · Budget · 2026-03-05"),)),
            Section("Source", body="Outlet: Example Gazette\nLink: not stated in the source"),
            Section("Claims", (Item("It costs $12 million.", label="Claimed by Sam Roe"),)),
        ),
        footer="1 quote",
        url="https://example.org/budget",
    )
    assert render(reply).splitlines() == [
        "Quotes by Jane Doe",
        "==================",
        "Mayor",
        "",
        "## Quotes by Jane Doe",
        "  - “Yes.”",
        "      — Speech · Budget · 2026-03-05",
        "",
        "## Source",
        "  Outlet: Example Gazette",
        "  Link: not stated in the source",
        "",
        "## Claims",
        "  Claimed by Sam Roe",
        "    It costs $12 million.",
        "",
        "Link: https://example.org/budget",
        "1 quote",
    ]


def test_suggestions_are_shown_only_when_something_was_not_found() -> None:
    missing = Reply("Speaker not found", Status.NOT_FOUND, suggestions=("Jane Doe", "John Doe"))
    assert render(missing).splitlines()[-1] == "Suggestions: Jane Doe, John Doe"
    found = Reply("Quotes by Jane Doe", suggestions=("Jane Doe",))
    assert "Suggestions" not in render(found)


def test_long_text_wraps_at_100_columns_and_nothing_is_cut_or_paged() -> None:
    words = " ".join(f"word{i}" for i in range(400))
    items = tuple(Item(f"point {i}: {words}", detail=words) for i in range(40))
    text = render(Reply("T" * 150, description=words, sections=(Section("Points", items),)))
    lines = text.splitlines()
    assert lines[1] == "=" * 100  # the underline stops at the page width too
    assert all(len(line) <= 100 for line in lines[1:])
    flat = " ".join(text.split())
    assert all(f"point {i}: word0" in flat for i in range(40))
    assert flat.count("word399") == 81  # description, and each point's text and detail
    assert "…" not in text and "Page" not in text


def test_control_characters_are_shown_escaped_never_sent_to_the_terminal() -> None:
    reply = Reply(
        "Quotes by \x1b]0;owned\x07",
        description="\x1b[2J\x1b[Hcleared",
        sections=(Section("\x9b31m", (Item("x" * 95 + "\x1b[5m" * 3, detail="\u202eevil"),)),),
        footer="\x1b[8mhidden",
        suggestions=("\x1b[1mbold",),
        status=Status.NOT_FOUND,
    )
    out = render(reply)
    assert not any(c in out for c in "\x1b\x9b\x07\u202e")
    assert "Quotes by \\x1b]0;owned\\x07" in out
    assert "\\x1b[2J\\x1b[Hcleared" in out and "\\x1b[8mhidden" in out
    assert "\\u202eevil" in out and "Suggestions: \\x1b[1mbold" in out
    # Escaped before wrapping: the escapes count in the 100 columns.
    assert max(len(line) for line in out.splitlines()) <= 100
