"""Digest fixtures: `database` runs a test on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pgcluster import PgCluster


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on each backend: a SQLite path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "db" / "briefbot.sqlite3")
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return await cluster.create_database()
