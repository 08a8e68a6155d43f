"""Shared by the query tests: a library of two briefs (the council brief and a later one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.briefs.library import Library, load_library
from bot.reply import Reply
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
