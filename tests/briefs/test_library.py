"""The library's indexes as every command sees them: order, who a quote is about, topic ranking."""

from __future__ import annotations

from pathlib import Path

from bot.briefs.library import load_library
from tests.conftest import BRIEF, VOCABULARY, write_briefs

# No source text, so its quotes need not be grounded: free to word them as the test needs.
READOUT = """\
id: readout
title: Transit readout
date: {value: 2026-04-01, status: stated}
source: {outlet: null}
summary: The director's readout of the transit plan.
key_points:
  - text: Night buses start in May.
    topics: [transport]
people:
  - name: Jane Doe
    aliases: [Mayor Doe]
  - name: John Doe
    role: Transit director
quotes:
  - speaker: John Doe
    text: Mayor Doe backs the plan.
    context: Readout
  - speaker: John Doe
    text: The mayoral race is a doer's game, and Janet knows it.
    context: Aside
  - speaker: Jane Doe
    text: As Mayor Doe I will ride the first bus, John Doe too.
    context: Speech
topics: [transport]
"""


def test_newest_first_with_undated_briefs_last(tmp_path: Path) -> None:
    dated = BRIEF.replace("id: council-budget", "id: newer").replace("2026-03-05", "2026-04-01")
    undated = BRIEF.replace("id: council-budget", "id: undated").replace(
        "{value: 2026-03-05, status: stated}", "{status: unknown}"
    )
    root = write_briefs(tmp_path / "b", **{"a-undated.yaml": undated, "z-newer.yaml": dated})
    library = load_library(root)
    assert library.errors == ()
    assert [b.id for b in library.briefs] == ["newer", "council-budget", "undated"]
    assert library.latest is not None and library.latest.id == "newer"
    assert [library.position(i) for i in ("newer", "council-budget", "undated")] == [0, 1, 2]


def test_find_brief_takes_a_whole_id_or_title_not_a_prefix(briefs_dir: Path) -> None:
    library = load_library(briefs_dir)
    for typed in ("council-budget", " council-budget ", "COUNCIL  approves budget"):
        found = library.find_brief(typed)
        assert found is not None and found.id == "council-budget", typed
    assert library.find_brief("council") is None
    assert library.find_brief("approves budget") is None


def test_a_quote_is_about_someone_only_if_it_names_them_in_whole_words(tmp_path: Path) -> None:
    library = load_library(write_briefs(tmp_path / "b", **{"readout.yaml": READOUT}))
    assert library.errors == ()
    about_jane = [r.quote.text for r in library.quotes_about("Jane Doe")]
    # "mayoral", "doer's" and "Janet" contain her names but are other words; and her own
    # words naming herself are hers, not words about her.
    assert about_jane == ["Mayor Doe backs the plan."]
    about_john = [(r.quote.speaker, r.quote.text) for r in library.quotes_about("John Doe")]
    assert about_john == [("Jane Doe", "As Mayor Doe I will ride the first bus, John Doe too.")]
    assert [r.quote.speaker for r in library.quotes_by("John Doe")] == ["John Doe", "John Doe"]


def test_topics_rank_by_use_with_unused_vocabulary_last(tmp_path: Path) -> None:
    vocabulary = VOCABULARY + "  - id: parks\n    label: Parks\n"
    library = load_library(write_briefs(tmp_path / "b", **{"topics.yaml": vocabulary}))
    assert library.errors == ()
    # The council brief files budget under itself and two key points, housing under itself and
    # one point, transport under itself only; nothing is filed under parks.
    assert [library.topic_usage(t) for t in ("budget", "housing", "transport", "parks")] == [
        3,
        2,
        1,
        0,
    ]
    assert [t.id for t in library.topics_ranked] == ["budget", "housing", "transport", "parks"]
