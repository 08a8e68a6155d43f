"""/quotes: a person's own direct quotes with context, never someone else's words as theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.briefs.library import Library, load_library
from bot.queries import quotes
from bot.reply import Status
from tests.conftest import BRIEFS, write_briefs
from tests.queries.conftest import LATER, texts


@pytest.mark.parametrize("typed", ["Jane Doe", "jane doe", "Mayor Doe", "  JANE   doe "])
def test_quotes_by_name_or_alias(library: Library, typed: str) -> None:
    reply = quotes.quotes(library, typed)
    assert reply.ok
    assert reply.title == "Quotes by Jane Doe"
    assert reply.sections[0].heading == "Quotes by Jane Doe"
    assert texts(reply)[:2] == [
        "“Mayor Doe is proud of this plan, said John Doe.”",
        "“This budget keeps the buses running and the libraries open.”",
    ]


def test_partial_quotes_say_so_with_context(library: Library) -> None:
    item = quotes.quotes(library, "Sam Roe").sections[0].items[0]
    assert item.text == "“a missed chance”"
    assert item.detail == "Council debate (partial quote) · Council approves budget · 2026-03-05"


def test_quotes_never_mix_in_other_speakers(library: Library) -> None:
    reply = quotes.quotes(library, "John Doe")
    assert [s.heading for s in reply.sections] == ["Quotes by John Doe"]
    assert texts(reply) == ["“Night buses are the start, not the end.”"]


def test_person_never_quoted_sees_quotes_about_them_under_the_real_speaker(
    tmp_path: Path,
) -> None:
    # A readout about the mayor, spoken by the director: never the mayor's own words.
    text = LATER.replace("  - speaker: Jane Doe\n", "  - speaker: John Doe\n")
    lib = load_library(write_briefs(tmp_path / "b", **{"later.yaml": text}))
    reply = quotes.quotes(lib, "Mayor Doe", brief="transit-plan")
    assert reply.status is Status.NOT_FOUND
    assert reply.title == "No direct quotes by Jane Doe"
    (section,) = reply.sections
    assert section.heading == "Not Jane Doe's words: quotes by others that mention Jane Doe"
    assert [(i.label, i.text) for i in section.items] == [
        ("John Doe", "“Mayor Doe is proud of this plan, said John Doe.”")
    ]


def test_quotes_filtered_to_one_brief(library: Library) -> None:
    reply = quotes.quotes(library, "Jane Doe", brief="council-budget")
    assert texts(reply) == ["“This budget keeps the buses running and the libraries open.”"]


def test_reply_gives_the_speakers_role_and_counts_the_quotes(library: Library) -> None:
    jane = quotes.quotes(library, "Jane Doe")
    assert (jane.description, jane.footer) == ("Mayor", "2 quotes")
    sam = quotes.quotes(library, "Sam Roe")
    assert (sam.description, sam.footer) == ("Councillor", "1 quote")


def test_someone_not_quoted_in_the_chosen_brief_is_told_so(library: Library) -> None:
    reply = quotes.quotes(library, "John Doe", brief="council-budget")
    assert reply.status is Status.NOT_FOUND and reply.private
    assert reply.title == "No direct quotes by John Doe"
    assert reply.description == (
        "John Doe appears in the briefs but is not directly quoted in that brief."
    )
    assert reply.sections == ()
    assert "Jane Doe" in reply.suggestions  # who is quoted, to try instead


def test_blank_brief_filter_means_every_brief(library: Library) -> None:
    # John Doe is quoted only outside council-budget: a blank filter must not hide that.
    assert quotes.quotes(library, "John Doe", brief="council-budget").status is Status.NOT_FOUND
    reply = quotes.quotes(library, "John Doe", brief="   ")
    assert reply.ok
    assert reply == quotes.quotes(library, "John Doe")


def test_blank_brief_filter_is_not_worded_as_a_filter() -> None:
    # Rubio is never quoted directly in the shipped brief (the readout is the spokesperson's).
    shipped = load_library(BRIEFS)
    reply = quotes.quotes(shipped, "Rubio", brief="  ")
    assert reply.description == "Marco Rubio appears in the briefs but is not directly quoted."


def test_unknown_brief_filter_is_reported_not_ignored(library: Library) -> None:
    reply = quotes.quotes(library, "Jane Doe", brief="no-such-brief")
    assert reply.status is Status.NOT_FOUND
    assert reply.title == "Brief not found"
    assert not any("“" in t for t in texts(reply))


def test_a_long_list_shows_the_newest_and_counts_the_rest(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quotes, "QUOTES_LIMIT", 1)
    reply = quotes.quotes(library, "Jane Doe")
    assert texts(reply) == ["“Mayor Doe is proud of this plan, said John Doe.”"]
    assert reply.footer == "2 quotes"
    more = reply.sections[-1]
    assert more.heading == "More"
    assert more.body is not None and more.body.startswith("… and 1 older quote:")
    # Within one brief that has only one: nothing left to count.
    one = quotes.quotes(library, "Jane Doe", brief="council-budget")
    assert [s.heading for s in one.sections] == ["Quotes by Jane Doe"]
