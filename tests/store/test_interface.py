"""The Store Protocol lists every public method of the store, as the backends define them."""

from __future__ import annotations

import inspect

from bot.store.base import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore

CONSTRUCTORS = {"open", "open_read_only"}  # each backend opens its own way


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") and name not in CONSTRUCTORS
    }


def test_the_protocol_lists_every_public_method_with_its_signature() -> None:
    store = public_methods(SqliteStore)
    protocol = public_methods(Store)
    missing = sorted(set(store) - set(protocol))
    assert not missing, f"add to bot/store/base.py: {missing}"
    for name, signature in protocol.items():
        assert name in store, f"{name} is in the Protocol but no backend has it"
        assert str(signature) == str(store[name]), name


def test_postgresql_keeps_every_signature_of_the_sqlite_store() -> None:
    sqlite = public_methods(SqliteStore)
    postgres = public_methods(PostgresStore)
    assert set(postgres) == set(sqlite)
    for name, signature in sqlite.items():
        assert str(postgres[name]) == str(signature), name
