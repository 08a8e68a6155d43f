"""The `briefbot` command line: check briefs, ask offline, run or sync the Discord bot."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.adapters.text import render
from bot.briefs.library import load_library
from bot.ops.logs import configure_logging
from bot.queries import dispatch
from bot.queries.parse import ParseError, parse_command_line
from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefbot", description="Chat-ops briefings from YAML briefs, on Discord or offline."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = sub.add_parser("check", help="validate every brief; exit non-zero on any error")
    check.add_argument("dir", nargs="?", type=Path, help="briefs directory (default: briefs/)")
    ask = sub.add_parser("ask", help='answer a command offline, e.g. "/quotes speaker:Dar"')
    ask.add_argument("line", help="the command as typed in Discord")
    ask.add_argument("--briefs", type=Path, help="briefs directory (default: briefs/)")
    console = sub.add_parser("console", help="answer commands offline at an interactive prompt")
    console.add_argument("--briefs", type=Path, help="briefs directory (default: briefs/)")
    run = sub.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN)")
    run.add_argument(
        "--shards", help="gateway shards this process runs, e.g. 0,1 (BRIEFBOT_SHARD_IDS)"
    )
    run.add_argument(
        "--shard-count", type=int, help="shards in all, over every process (BRIEFBOT_SHARD_COUNT)"
    )
    db = sub.add_parser("db", help="the database: copy between SQLite and PostgreSQL, check")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    copy = db_sub.add_parser(
        "copy", help="copy every table from SRC to DST (a SQLite path or a postgresql:// URL)"
    )
    copy.add_argument("source", metavar="SRC")
    copy.add_argument("target", metavar="DST")
    copy.add_argument("--force", action="store_true", help="replace what a non-empty DST holds")
    db_check = db_sub.add_parser("check", help="connect, show the schema version and counts")
    db_check.add_argument("database", nargs="?", help="default: BRIEFBOT_DATABASE")
    backup = db_sub.add_parser("backup", help="a consistent copy of the SQLite database")
    backup.add_argument("destination", type=Path, help="the new file")
    backup.add_argument("--database", help="default: BRIEFBOT_DATABASE")
    sync = sub.add_parser("sync", help="publish slash commands globally (or to the dev guild)")
    sync.add_argument("--guild", type=int, help="sync to this guild id only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `briefbot` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "run":
            settings = settings.with_shards(args.shards, args.shard_count)
    except SettingsError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format, secrets=[settings.token])
    offline = {
        "check": lambda: check(args.dir or settings.briefs_dir),
        "ask": lambda: ask(args.line, args.briefs or settings.briefs_dir),
        "console": lambda: console(args.briefs or settings.briefs_dir),
        "db": lambda: db_command(args, settings),
    }
    if args.command in offline:
        return offline[args.command]()
    if args.command == "run" and not settings.token and _interactive():
        # design.md: the one start-up problem that does not end in a non-zero exit.
        print("briefbot: no Discord token (DISCORD_TOKEN), so here is the offline console.")
        return console(settings.briefs_dir)
    from bot.app import run, sync  # Discord is only imported for the commands that need it

    if args.command == "run":
        return run(settings)
    return sync(settings, args.guild)


def check(root: Path) -> int:
    """Validate a briefs directory, print every error as `file:line: field: message`."""
    library = load_library(root)
    for error in library.errors:
        print(error, file=sys.stderr)
    print(
        f"{len(library.briefs)} brief(s) loaded, {len(library.errors)} error(s) in {root}",
        file=sys.stderr if library.errors else sys.stdout,
    )
    for brief in library.briefs:
        print(f"  ok  {brief.id}")
    return 1 if library.errors else 0


def ask(line: str, root: Path) -> int:
    """Answer one command line offline, through the same query layer as Discord."""
    try:
        parsed = parse_command_line(line)
    except ParseError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 2
    library = load_library(root)
    for error in library.errors:
        log.warning("%s", error)
    reply = dispatch.run(library, parsed.name, parsed.options)
    sys.stdout.write(render(reply))
    return 0 if reply.ok else 1


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def console(root: Path) -> int:
    """`briefbot console`: the same answers as `ask`, at a prompt with history and Tab."""
    from bot.adapters.console import main as run_console

    return run_console(root, history=Path.home() / ".briefbot_history")


def db_command(args: argparse.Namespace, settings: Settings) -> int:
    """`briefbot db copy|check|backup`."""
    import asyncio

    from bot.store import is_postgres
    from bot.store.admin import backup_sqlite, check_database, copy_database, pg_dump_advice
    from bot.store.records import StoreError

    try:
        if args.db_command == "copy":
            asyncio.run(copy_database(args.source, args.target, force=args.force))
            print("copy verified: every table's count matches")
            return 0
        database = str(getattr(args, "database", None) or settings.database)
        if args.db_command == "check":
            found = asyncio.run(check_database(database))
            print(f"{found.where}: reachable, schema version {found.version}")
            for table, count in found.counts.items():
                print(f"  {table}: {count} rows")
            if is_postgres(database):
                print(pg_dump_advice(database))
            if found.version < found.latest:
                print(
                    f"schema version {found.version} is older than this briefbot's "
                    f"{found.latest}: `briefbot run` migrates it"
                )
            if found.version > found.latest:
                print(f"briefbot: written by a newer briefbot (version {found.version})")
                return 1
            return 0
        if is_postgres(database):
            print(f"briefbot: {pg_dump_advice(database)}", file=sys.stderr)
            return 1
        size = asyncio.run(backup_sqlite(database, args.destination))
        print(f"backed up to {args.destination} ({size} bytes)")
        return 0
    except StoreError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
