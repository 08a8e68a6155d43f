"""Store fixtures: a fake clock, a SQLite file, and `database`, which runs a test on both."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.digest.clock import FakeClock
from tests.pgcluster import PgCluster
from tests.store.helpers import START


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "nested" / "briefbot.sqlite3"


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, db_path: Path) -> str:
    """A fresh database on each backend: a SQLite path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(db_path)
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return await cluster.create_database()
