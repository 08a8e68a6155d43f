"""The first brief (US–Pakistan talks): every quote with its real speaker, every figure sourced."""

from __future__ import annotations

import pytest

from bot.briefs.library import Library, load_library
from bot.briefs.models import DateStatus, QuoteKind
from tests.conftest import BRIEFS

BRIEF_ID = "us-pakistan-rubio-dar-talks"


@pytest.fixture(scope="module")
def library() -> Library:
    lib = load_library(BRIEFS)
    assert lib.errors == ()
    return lib


def quotes_by(library: Library, name: str) -> list[str]:
    return [r.quote.text for r in library.quotes_by(name)]


def test_state_department_readout_is_the_spokesperson_not_the_secretary(library: Library) -> None:
    bruce = quotes_by(library, "Tammy Bruce")
    assert len(bruce) == 2
    assert bruce[0].startswith("Secretary of State Marco Rubio met today")
    assert bruce[1].startswith("The Secretary underscored")
    assert quotes_by(library, "Marco Rubio") == []
    for ref in library.quotes_by("Tammy Bruce"):
        assert "readout" in ref.quote.context.lower()


def test_dar_quotes_with_their_contexts(library: Library) -> None:
    refs = library.quotes_by("Ishaq Dar")
    by_start = {r.quote.text.split()[0]: r.quote for r in refs}
    assert set(by_start) == {"We", "transactional", "composite", "It’s"}
    assert "statement on X" in by_start["We"].context
    assert by_start["transactional"].kind is QuoteKind.PARTIAL
    assert "Atlantic Council" in by_start["transactional"].context
    assert by_start["composite"].kind is QuoteKind.PARTIAL
    assert "not stated" in by_start["It’s"].context  # the article does not say where


def test_the_trillion_estimate_is_dars_claim(library: Library) -> None:
    brief = library.get(BRIEF_ID)
    assert brief is not None
    figures = [(c.claimant, f.value) for c in brief.claims for f in c.figures]
    assert figures == [("Ishaq Dar", "$6-8 trillion")]
    claim = next(c for c in brief.claims if c.figures)
    assert "Atlantic Council" in (claim.context or "")


def test_nothing_from_also_read_lines_or_unstated_facts(library: Library) -> None:
    brief = library.get(BRIEF_ID)
    assert brief is not None
    texts = " ".join(q.text for q in brief.quotes)
    assert "five jets" not in texts and "meaningful dialogue" not in texts
    assert "Shehbaz Sharif" not in {p.name for p in brief.people}
    assert brief.source.outlet is None and brief.source.url is None
    assert brief.date.status is DateStatus.INFERRED and brief.date.basis


def test_people_roles_and_topics(library: Library) -> None:
    brief = library.get(BRIEF_ID)
    assert brief is not None
    roles = {p.name: p.role for p in brief.people}
    assert roles["Ishaq Dar"] == "Deputy Prime Minister and Foreign Minister of Pakistan"
    assert roles["Tammy Bruce"] == "US State Department spokesperson"
    assert {"counterterrorism", "minerals", "trade", "iran", "india-pakistan", "china"} <= set(
        brief.topics
    )
    assert library.topic("ISIS-K").id == "counterterrorism"  # type: ignore[union-attr]
    assert library.topic("mining").id == "minerals"  # type: ignore[union-attr]
