"""PostgreSQL's store keeps the SQLite store's interface: every public method, same signature."""

from __future__ import annotations

import inspect

from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore

CONSTRUCTORS = {"open", "open_read_only"}  # each backend opens its own way


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") and name not in CONSTRUCTORS
    }


def test_postgresql_keeps_every_signature_of_the_sqlite_store() -> None:
    sqlite = public_methods(SqliteStore)
    postgres = public_methods(PostgresStore)
    assert set(postgres) == set(sqlite)
    for name, signature in sqlite.items():
        assert str(postgres[name]) == str(signature), name
