"""Layers import inward only: briefs → queries → adapters and services; cogs hold no SQL or YAML."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

BOT = REPO / "bot"
FORBIDDEN = {
    "briefs": ("bot.queries", "bot.adapters", "bot.services", "bot.commands", "bot.app", "discord"),
    "queries": ("bot.adapters", "bot.services", "bot.commands", "bot.app", "discord"),
    "services": ("bot.adapters", "bot.commands", "bot.app", "discord"),
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_inward(layer: str) -> None:
    for path in sorted((BOT / layer).rglob("*.py")):
        bad = {
            name
            for name in imports(path)
            for prefix in FORBIDDEN[layer]
            if name == prefix or name.startswith(prefix + ".")
        }
        assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"


def test_cogs_hold_no_sql_and_parse_no_yaml() -> None:
    for path in sorted((BOT / "commands").rglob("*.py")):
        names = imports(path)
        assert not names & {"yaml", "sqlite3", "aiosqlite"}, path
        text = path.read_text(encoding="utf-8").upper()
        for keyword in ("SELECT ", "INSERT ", "UPDATE ", "DELETE FROM"):
            assert keyword not in text, f"{path.relative_to(REPO)} contains SQL ({keyword.strip()})"


def test_sql_lives_in_one_module() -> None:
    holders = sorted(
        str(p.relative_to(REPO))
        for p in BOT.rglob("*.py")
        if "aiosqlite" in imports(p) or "sqlite3" in imports(p)
    )
    assert holders == ["bot/services/store.py"]


def test_tests_mirror_the_source_tree() -> None:
    for package in ("briefs", "queries", "adapters", "services", "commands"):
        assert (REPO / "tests" / package).is_dir(), package
