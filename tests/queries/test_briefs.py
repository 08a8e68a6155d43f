"""/summary and /briefs: one brief in full with its provenance, or every brief, newest first."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.briefs.library import Library, load_library
from bot.queries import briefs
from bot.reply import Status
from tests.conftest import BRIEF, VOCABULARY, write_briefs
from tests.queries.conftest import texts


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


def test_summary_labels_point_topics_and_gives_the_full_source(library: Library) -> None:
    reply = briefs.summary(library, "council-budget")
    assert reply.ok and reply.description == "The council approved the budget after debate."
    points = reply.sections[0].items
    assert [(p.text, p.detail) for p in points] == [
        ("The budget passed.", "Topics: Budget"),
        # "finance" in the brief is an alias of budget: shown by the topic's label.
        ("Housing gets $12 million.", "Topics: Housing, Budget"),
    ]
    assert reply.sections[1].heading == "Source"
    assert (reply.sections[1].body or "").splitlines() == [
        "Outlet: Example Gazette",
        "Link: https://example.org/budget",
        "Date: 2026-03-05",
        "2 quotes, 1 claim, 2 people",
    ]
    assert reply.url == "https://example.org/budget"
    assert reply.footer == "Brief council-budget · 2026-03-05"


def test_undated_brief_says_why_in_summary_and_list(tmp_path: Path) -> None:
    undated = BRIEF.replace(
        "date: {value: 2026-03-05, status: stated}",
        "date: {status: unknown, basis: The article gives no date}",
    ).replace("  outlet: Example Gazette\n", "  outlet: Example Gazette\n  headline: Passed\n")
    library = load_library(write_briefs(tmp_path / "b", **{"council.yaml": undated}))
    assert library.errors == ()
    source = (briefs.summary(library).sections[1].body or "").splitlines()
    assert "Headline: Passed" in source
    assert "Date: unknown: The article gives no date" in source
    listed = briefs.list_briefs(library).sections[0].items[0]
    assert listed.detail == "council-budget · date unknown · 2 quotes"


def test_no_briefs_loaded_is_said_plainly(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    (root / "topics.yaml").write_text(VOCABULARY, encoding="utf-8")
    library = load_library(root)
    assert len(library.briefs) == 0 and library.errors == ()
    summary = briefs.summary(library)
    assert (summary.status, summary.title, summary.private) == (Status.NOT_FOUND, "No briefs", True)
    assert summary.description == "No briefs are loaded yet."
    listing = briefs.list_briefs(library)
    assert listing.status is Status.NOT_FOUND and texts(listing) == []
    assert listing.description == "No briefs are loaded. Add YAML files to the briefs directory."


def test_a_long_list_shows_the_newest_and_counts_the_rest(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(briefs, "LIST_LIMIT", 1)
    reply = briefs.list_briefs(library)
    assert reply.title == "Briefs (2)"
    assert [i.label for i in reply.sections[0].items] == ["Transit plan unveiled"]
    assert "… and 1 older brief: find them with /search" in (reply.sections[1].body or "")
