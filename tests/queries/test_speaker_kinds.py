"""Organisations and unnamed speakers: in the brief format, /quotes, autocomplete and /topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.briefs.library import Library, load_library
from bot.queries import complete, quotes, topics
from tests.conftest import write_briefs

SOURCE = """\
Ministry backs night buses
The Transport Ministry said in a statement: “Night buses will run every twenty minutes.”
A spokesman for the bus operator said “we are hiring 40 drivers”.
The ministry said it would spend $3 million.
"""

BRIEF = """\
id: night-buses
title: Ministry backs night buses
date: {status: unknown}
source: {text: sources/night.txt}
summary: The ministry backs night buses.
key_points:
  - text: Night buses every twenty minutes.
    topics: [transport]
organisations:
  - name: Transport Ministry
    aliases: [the ministry, MoT]
    role: Government ministry
quotes:
  - speaker: Transport Ministry
    text: Night buses will run every twenty minutes.
    context: Statement
    topics: [transport]
  - speaker: {unnamed: a spokesman for the bus operator}
    text: we are hiring 40 drivers
    context: Said to reporters
    kind: partial
    topics: [transport]
claims:
  - claimant: {unnamed: a spokesman for the bus operator}
    text: The operator is hiring 40 drivers.
    topics: [transport]
  - claimant: Transport Ministry
    text: The ministry will spend $3 million.
    figures: [{value: $3 million, description: spending}]
    topics: [transport]
topics: [transport]
"""


@pytest.fixture
def library(tmp_path: Path) -> Library:
    root = write_briefs(tmp_path / "b", **{"night.yaml": BRIEF})
    (root / "sources" / "night.txt").write_text(SOURCE, encoding="utf-8")
    lib = load_library(root)
    assert lib.errors == ()
    return lib


@pytest.mark.parametrize(
    "typed", ["Transport Ministry", "transport ministry", "MoT", "the ministry"]
)
def test_quotes_finds_an_organisation_by_name_or_alias(library: Library, typed: str) -> None:
    reply = quotes.quotes(library, typed)
    assert reply.ok
    assert reply.title == "Quotes by Transport Ministry"
    assert reply.description == "Government ministry"
    assert [i.text for i in reply.sections[0].items] == [
        "“Night buses will run every twenty minutes.”"
    ]


def test_an_organisation_has_no_surname_shortcut(library: Library) -> None:
    # People are found by surname alone; "Ministry" is not an organisation's surname.
    assert not quotes.quotes(library, "Ministry").ok


def test_organisations_autocomplete_and_unnamed_speakers_do_not(library: Library) -> None:
    assert [c.name for c in complete.speakers(library, "transp")] == [
        "Transport Ministry — Government ministry"
    ]
    assert complete.speakers(library, "a spokes") == []
    assert all("spokesman" not in c.name for c in complete.speakers(library, ""))


def test_unnamed_speaker_is_never_a_speaker_one_can_ask_for(library: Library) -> None:
    assert not quotes.quotes(library, "a spokesman for the bus operator").ok


def test_topic_shows_unnamed_speakers_under_their_description(library: Library) -> None:
    reply = topics.topic(library, "transport")
    by_heading = {s.heading: s for s in reply.sections}
    labels = [i.label for i in by_heading["Quotes"].items]
    assert "a spokesman for the bus operator (not named in the source)" in labels
    assert "Transport Ministry" in labels
    claimed = [i.label for i in by_heading["Claims"].items]
    assert "Claimed by a spokesman for the bus operator (not named in the source)" in claimed
    assert "Claimed by Transport Ministry" in claimed


def test_a_name_in_both_people_and_organisations_is_refused(tmp_path: Path) -> None:
    clash = BRIEF.replace("aliases: [the ministry, MoT]", "aliases: [the ministry, Jane Doe]")
    clash += "people:\n  - name: Jane Doe\n"
    root = write_briefs(tmp_path / "b", **{"night.yaml": clash})
    (root / "sources" / "night.txt").write_text(SOURCE, encoding="utf-8")
    (error,) = load_library(root).errors
    assert "'Jane Doe' is used twice in people and organisations" in str(error)


def test_a_speaker_named_nowhere_is_refused_with_the_unnamed_hint(tmp_path: Path) -> None:
    bad = BRIEF.replace("  - speaker: Transport Ministry\n", "  - speaker: Bus Company\n")
    root = write_briefs(tmp_path / "b", **{"night.yaml": bad})
    (root / "sources" / "night.txt").write_text(SOURCE, encoding="utf-8")
    (error,) = load_library(root).errors
    assert "'Bus Company' is not the canonical name of anyone" in str(error)
    assert "{unnamed: …}" in str(error)


def test_an_unnamed_quote_is_still_grounded(tmp_path: Path) -> None:
    bad = BRIEF.replace("text: we are hiring 40 drivers", "text: we are hiring 50 drivers")
    root = write_briefs(tmp_path / "b", **{"night.yaml": bad})
    (root / "sources" / "night.txt").write_text(SOURCE, encoding="utf-8")
    (error,) = load_library(root).errors
    assert "quote by a spokesman for the bus operator 'we are hiring 50 drivers'" in str(error)
