"""The arrows of docs (../shared/design.md, "Where things live"), enforced on every import.

* Ground modules (`bot.limits`, `bot.text`, `bot.reply`, `bot.clock`) import no other part of
  the bot: every layer may use them.
* `briefs` imports only the ground; `store` may import `briefs`.
* Feature folders (`digest`, `queries`, and the coming `ingest`, `review`, `feeds`) import only
  `briefs` and `store`; `review` may also import `ingest`; `feeds` may import `ingest` and
  `review`. None of these import `adapters`, `commands`, `app` or discord.
* `adapters` never import `commands` or `app`; `commands` parse nothing and hold no SQL.
* SQL (sqlite3, aiosqlite, asyncpg) lives only in `bot/store/` (and the brief index, when it lands).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

BOT = REPO / "bot"
GROUND = ("bot.limits", "bot.text", "bot.reply", "bot.clock")
# Each folder of bot/ with the parts of the bot it may import besides itself and the ground.
# A folder that does not exist yet is covered the day it appears.
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "briefs": (),
    "store": ("bot.briefs",),
    "digest": ("bot.briefs", "bot.store"),
    "queries": ("bot.briefs", "bot.store"),
    "ingest": ("bot.briefs", "bot.store"),
    "review": ("bot.briefs", "bot.store", "bot.ingest"),
    "feeds": ("bot.briefs", "bot.store", "bot.ingest", "bot.review"),
    # Logs, metrics and health endpoints: told what to check, they import no feature.
    "ops": (),
}
# Folders that draw or serve (not bound by MAY_IMPORT), and what they must still never import.
OUTER: dict[str, tuple[str, ...]] = {
    "adapters": ("bot.commands", "bot.app"),
    "commands": (),  # cogs may name BriefBot (bot.app) for typing
}
# Modules that may hold SQL: the store, and the on-disk brief index to come.
SQL_HOLDERS = ("bot/store/", "bot/briefs/index.py")
# What a cog must not import: it parses nothing and holds no SQL.
PARSERS = {"re", "shlex", "yaml", "sqlite3", "aiosqlite", "asyncpg"}
SQL_KEYWORDS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE FROM", "CREATE TABLE")


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            # `from bot import limits` imports bot.limits.
            if node.module == "bot":
                found.update(f"bot.{alias.name}" for alias in node.names)
    return found


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def within_any(names: set[str], prefixes: tuple[str, ...]) -> set[str]:
    return {n for n in names if within(n, prefixes)}


def of_the_bot(names: set[str]) -> set[str]:
    """The parts of the bot among imported names (`bot` itself, a package, is no part)."""
    return {n for n in names if n.startswith("bot.")}


def folders() -> list[str]:
    return sorted(p.name for p in BOT.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def test_every_folder_of_bot_has_a_rule() -> None:
    assert set(folders()) <= set(MAY_IMPORT) | set(OUTER)


@pytest.mark.parametrize("module", GROUND)
def test_ground_modules_import_no_other_part_of_the_bot(module: str) -> None:
    path = REPO / (module.replace(".", "/") + ".py")
    names = imports(path)
    bad = of_the_bot(names) - set(GROUND)
    assert not bad, f"{module} imports {sorted(bad)}"
    assert not within_any(names, ("discord",)), module


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_inner_folders_import_only_what_design_allows(folder: str) -> None:
    allowed = (f"bot.{folder}", *GROUND, *MAY_IMPORT[folder])
    for path in sorted((BOT / folder).rglob("*.py")):
        names = imports(path)
        bad = {n for n in of_the_bot(names) if not within(n, allowed)}
        assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"
        assert not within_any(names, ("discord",)), f"{path.relative_to(REPO)} imports discord"


@pytest.mark.parametrize("folder", sorted(OUTER))
def test_outer_folders_point_inward(folder: str) -> None:
    for path in sorted((BOT / folder).rglob("*.py")):
        bad = within_any(imports(path), OUTER[folder])
        assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"


def test_cogs_parse_nothing_and_hold_no_sql() -> None:
    for path in sorted((BOT / "commands").rglob("*.py")):
        names = imports(path)
        assert not names & PARSERS, f"{path.relative_to(REPO)} imports {sorted(names & PARSERS)}"
        text = path.read_text(encoding="utf-8").upper()
        for keyword in SQL_KEYWORDS:
            assert keyword not in text, f"{path.relative_to(REPO)} contains SQL ({keyword.strip()})"


def test_sql_lives_only_in_the_store() -> None:
    holders = sorted(
        str(p.relative_to(REPO))
        for p in BOT.rglob("*.py")
        if {"aiosqlite", "sqlite3", "asyncpg"} & imports(p)
    )
    assert holders, "the store imports sqlite: this test would pass vacuously otherwise"
    assert all(h.startswith(SQL_HOLDERS) for h in holders), holders


def test_tests_mirror_the_source_tree() -> None:
    for package in folders():
        assert (REPO / "tests" / package).is_dir(), package
