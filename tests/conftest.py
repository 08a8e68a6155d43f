"""Shared fixtures: a small valid briefs directory to copy and break."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgcluster import PgCluster

REPO = Path(__file__).resolve().parent.parent
BRIEFS = REPO / "briefs"

VOCABULARY = """\
topics:
  - id: budget
    label: Budget
    aliases: [spending, finance]
  - id: transport
    label: Transport
    aliases: [buses, trains]
  - id: housing
    label: Housing
"""

SOURCE = """\
Council approves budget
Mayor Jane Doe said “This budget keeps the buses running and the libraries open.”
Also Read | Something else: “do not quote me”
Councillor Sam Roe called it “a missed chance” and said the city will spend $12 million on housing.
"""

BRIEF = """\
id: council-budget
title: Council approves budget
date: {value: 2026-03-05, status: stated}
source:
  outlet: Example Gazette
  url: https://example.org/budget
  text: sources/council.txt
  exclude_lines: ['^Also Read \\|']
summary: The council approved the budget after debate.
key_points:
  - text: The budget passed.
    topics: [budget]
  - text: Housing gets $12 million.
    topics: [housing, finance]
people:
  - name: Jane Doe
    aliases: [Mayor Doe]
    role: Mayor
  - name: Sam Roe
    role: Councillor
quotes:
  - speaker: Jane Doe
    text: This budget keeps the buses running and the libraries open.
    context: Speech at the council meeting
    topics: [budget, buses]
  - speaker: Sam Roe
    text: a missed chance
    context: Council debate
    kind: partial
    topics: [budget]
claims:
  - claimant: Sam Roe
    text: The city will spend $12 million on housing.
    figures:
      - {value: $12 million, description: housing spending}
    topics: [housing]
topics: [budget, housing, transport]
"""


def write_briefs(root: Path, **files: str) -> Path:
    """A briefs directory with the vocabulary, the council brief, and any extra files."""
    (root / "sources").mkdir(parents=True, exist_ok=True)
    (root / "topics.yaml").write_text(VOCABULARY, encoding="utf-8")
    (root / "sources" / "council.txt").write_text(SOURCE, encoding="utf-8")
    (root / "council.yaml").write_text(BRIEF, encoding="utf-8")
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def briefs_dir(tmp_path: Path) -> Path:
    """A valid briefs directory in a temporary folder."""
    return write_briefs(tmp_path / "briefs")


@pytest.fixture
def repo_briefs(tmp_path: Path) -> Path:
    """A copy of the repository's real briefs, safe to modify."""
    target = tmp_path / "repo-briefs"
    shutil.copytree(BRIEFS, target)
    return target


# The fake Discord, for end-to-end tests anywhere under tests/.
from tests.fakediscord.fixtures import fake_discord  # noqa: E402

__all__ = ["briefs_dir", "fake_discord", "pg_cluster", "pg_url", "repo_briefs", "write_briefs"]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One throwaway PostgreSQL cluster for the whole session (started on first use)."""
    cluster = PgCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def pg_url(pg_cluster: PgCluster) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return await pg_cluster.create_database()
