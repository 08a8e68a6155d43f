"""How replies name a brief: honest dates, inferred or unknown said so."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.briefs.format import brief_date, brief_ref
from bot.briefs.library import Library, load_library
from bot.briefs.models import BriefDate, DateStatus
from tests.conftest import write_briefs
from tests.queries.conftest import LATER


@pytest.fixture
def library(tmp_path: Path) -> Library:
    return load_library(write_briefs(tmp_path / "briefs", **{"later.yaml": LATER}))


def test_dates_say_when_they_are_inferred_or_unknown(library: Library) -> None:
    inferred, stated = library.get("transit-plan"), library.get("council-budget")
    assert inferred is not None and stated is not None
    assert brief_date(inferred) == "2026-04-01 (inferred)"
    assert brief_date(stated) == "2026-03-05"
    undated = stated.model_copy(update={"date": BriefDate(status=DateStatus.UNKNOWN)})
    assert brief_date(undated) == "date unknown"
    assert brief_ref(inferred) == "Transit plan unveiled · 2026-04-01 (inferred)"
