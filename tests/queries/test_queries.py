"""Command logic over a small library: what a user sees for good and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.briefs.library import Library, load_library
from bot.queries import briefs, complete, dispatch, quotes, topics
from bot.queries.reply import Reply, Status
from tests.conftest import write_briefs

LATER = """\
id: transit-plan
title: Transit plan unveiled
date: {value: 2026-04-01, status: inferred, basis: "Article says 'last Wednesday'"}
source: {outlet: null}
summary: A new transit plan adds night buses.
key_points:
  - text: Night buses start in May.
    topics: [transport]
  - text: The plan is funded from the budget reserve.
    topics: [budget]
people:
  - name: John Doe
    role: Transit director
  - name: Jane Doe
    aliases: [Mayor Doe]
    role: Mayor
quotes:
  - speaker: John Doe
    text: Night buses are the start, not the end.
    context: Press conference
    topics: [transport]
  - speaker: Jane Doe
    text: Mayor Doe is proud of this plan, said John Doe.
    context: Joke at the press conference
topics: [transport, budget]
"""


@pytest.fixture
def library(tmp_path: Path) -> Library:
    lib = load_library(write_briefs(tmp_path / "b", **{"later.yaml": LATER}))
    assert lib.errors == ()
    return lib


def texts(reply: Reply) -> list[str]:
    return [item.text for section in reply.sections for item in section.items]


def test_briefs_are_newest_first(library: Library) -> None:
    assert [b.id for b in library.briefs] == ["transit-plan", "council-budget"]
    reply = briefs.list_briefs(library)
    assert [i.label for i in reply.sections[0].items] == [
        "Transit plan unveiled",
        "Council approves budget",
    ]
    assert "2026-04-01 (inferred)" in reply.sections[0].items[0].detail  # type: ignore[operator]


def test_summary_defaults_to_latest_and_is_honest_about_unknowns(library: Library) -> None:
    reply = briefs.summary(library)
    assert reply.title == "Transit plan unveiled"
    assert texts(reply) == [
        "Night buses start in May.",
        "The plan is funded from the budget reserve.",
    ]
    source = reply.sections[1].body or ""
    assert "Outlet: not stated in the source" in source
    assert "Date: 2026-04-01 (inferred): Article says 'last Wednesday'" in source


def test_summary_of_named_brief_by_id_or_title(library: Library) -> None:
    assert briefs.summary(library, "council-budget").title == "Council approves budget"
    assert briefs.summary(library, "council APPROVES budget").title == "Council approves budget"


def test_unknown_brief_suggests_close_ids(library: Library) -> None:
    reply = briefs.summary(library, "council-budgt")
    assert reply.status is Status.NOT_FOUND and reply.private
    assert reply.suggestions == ("council-budget",)


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


def test_surname_shared_by_two_people_asks_which(library: Library) -> None:
    reply = quotes.quotes(library, "doe")
    assert reply.status is Status.INVALID
    assert reply.suggestions == ("Jane Doe", "John Doe")


def test_surname_alone_finds_unique_person(library: Library) -> None:
    assert quotes.quotes(library, "roe").title == "Quotes by Sam Roe"


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


def test_misspelled_speaker_gets_did_you_mean(library: Library) -> None:
    reply = quotes.quotes(library, "Jnae Doe")
    assert reply.status is Status.NOT_FOUND
    assert reply.suggestions[0] == "Jane Doe"
    assert reply.description == "No one called 'Jnae Doe' appears in any brief."


def test_overlong_input_is_clipped_in_the_reply(library: Library) -> None:
    reply = quotes.quotes(library, "x" * 6000)
    assert reply.status is Status.NOT_FOUND
    assert len(reply.description or "") < 200


def test_topic_by_alias_newest_first_with_points_claims_quotes(library: Library) -> None:
    reply = topics.topic(library, "Finance")
    assert reply.title == "Topic: Budget"
    headings = [s.heading for s in reply.sections]
    assert headings == ["Key points", "Quotes"]
    points = reply.sections[0].items
    assert [p.text for p in points] == [
        "The plan is funded from the budget reserve.",
        "The budget passed.",
        "Housing gets $12 million.",
    ]
    housing = topics.topic(library, "housing")
    claim = housing.sections[1].items[0]
    assert claim.label == "Claimed by Sam Roe"
    assert "$12 million: housing spending" in (claim.detail or "")


def test_unknown_topic_suggests(library: Library) -> None:
    reply = topics.topic(library, "transprot")
    assert reply.status is Status.NOT_FOUND
    assert reply.suggestions[0] == "transport"


def test_dispatch_reports_unknown_and_missing_options(library: Library) -> None:
    reply = dispatch.run(library, "quotes", {"brief": "x"})
    assert reply.status is Status.INVALID
    assert "missing required option 'speaker'" in reply.title
    assert "Usage: /quotes speaker:<speaker> [brief:<brief>]" in (reply.description or "")
    assert dispatch.run(library, "nope", {}).suggestions == (
        "/summary",
        "/quotes",
        "/topic",
        "/briefs",
    )


def test_autocomplete_speakers(library: Library) -> None:
    everyone = complete.speakers(library, "")
    assert [c.value for c in everyone][:1] == ["Jane Doe"]  # most quoted first
    assert [c.value for c in complete.speakers(library, "ro")] == ["Sam Roe"]
    assert [c.value for c in complete.speakers(library, "doe")] == ["Jane Doe", "John Doe"]
    assert complete.speakers(library, "mayor")[0].name == "Jane Doe — Mayor"
    assert complete.speakers(library, "zzz") == []


def test_autocomplete_topics_and_briefs(library: Library) -> None:
    assert [c.value for c in complete.topics(library, "")][:2] == ["budget", "transport"]
    assert [c.value for c in complete.topics(library, "bus")] == ["transport"]
    assert [c.value for c in complete.briefs(library, "")] == ["transit-plan", "council-budget"]
    assert [c.value for c in complete.briefs(library, "council")] == ["council-budget"]
    assert (
        complete.briefs(library, "trans")[0].name == "Transit plan unveiled (2026-04-01 (inferred))"
    )


def test_autocomplete_caps_at_25_and_100_characters(tmp_path: Path) -> None:
    people = "\n".join(
        f"  - name: Person{i:02d} {'X' * 90}\n    role: {'Role ' * 40}" for i in range(40)
    )
    text = LATER.replace("people:\n", f"people:\n{people}\n", 1)
    lib = load_library(write_briefs(tmp_path / "b", **{"later.yaml": text}))
    assert lib.errors == ()
    for prefix in ("", "p", "person"):
        choices = complete.speakers(lib, prefix)
        assert len(choices) == 25
        assert all(1 <= len(c.name) <= 100 and len(c.value) <= 100 for c in choices)
