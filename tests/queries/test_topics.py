"""/topic: key points, claims and quotes on a topic across every brief, newest first."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.briefs.library import Library, load_library
from bot.queries import topics
from bot.reply import Status
from tests.conftest import VOCABULARY, write_briefs


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


def test_topic_quotes_name_their_speaker_newest_first(library: Library) -> None:
    reply = topics.topic(library, "trains")  # an alias of transport
    assert reply.title == "Topic: Transport"
    assert reply.description == "Also: buses, trains."
    quotes = next(s for s in reply.sections if s.heading == "Quotes")
    assert [(q.label, q.text) for q in quotes.items] == [
        ("John Doe", "“Night buses are the start, not the end.”"),
        # Filed under "buses" in the brief: the alias counts.
        ("Jane Doe", "“This budget keeps the buses running and the libraries open.”"),
    ]
    assert (
        quotes.items[0].detail == "Press conference · Transit plan unveiled · 2026-04-01 (inferred)"
    )
    assert reply.footer == "2 briefs · newest first"


def test_topic_no_brief_covers_yet_says_so(tmp_path: Path) -> None:
    vocabulary = VOCABULARY + (
        "  - id: parks\n    label: Parks\n    aliases: [green spaces]\n"
        "    description: Parks and playgrounds.\n"
    )
    library = load_library(write_briefs(tmp_path / "b", **{"topics.yaml": vocabulary}))
    reply = topics.topic(library, "Green Spaces")
    assert reply.status is Status.NOT_FOUND and reply.private
    assert reply.title == "Topic: Parks"
    assert reply.description == (
        "Parks and playgrounds. Also: green spaces.\n\nNo brief covers this topic yet."
    )
    assert reply.sections == ()
    # Topics that do have something, most used first.
    assert reply.suggestions == ("budget", "housing", "transport")  # never "parks" itself


def test_a_big_topic_shows_the_newest_of_each_kind_and_counts_the_rest(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(topics, "TOPIC_LIMIT", 1)
    reply = topics.topic(library, "budget")
    by_heading = {s.heading: s for s in reply.sections}
    assert [p.text for p in by_heading["Key points"].items] == [
        "The plan is funded from the budget reserve."
    ]
    body = by_heading["More"].body or ""
    assert body.startswith("… and 2 older key points")
    assert "/search topic:budget" in body
