"""The `briefbot` command line: check briefs, ask offline, run or sync the Discord bot, and
check or back up its database."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.adapters.text import render
from bot.briefs.library import load_library
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
    sub.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN)")
    sync = sub.add_parser("sync", help="publish slash commands globally (or to the dev guild)")
    sync.add_argument("--guild", type=int, help="sync to this guild id only")
    db = sub.add_parser("db", help="check or back up the database")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_check = db_sub.add_parser("check", help="integrity report; exit non-zero on any problem")
    db_check.add_argument(
        "path", nargs="?", type=Path, help="the database (default: BRIEFBOT_DATABASE)"
    )
    db_backup = db_sub.add_parser("backup", help="copy the live database to PATH, verified")
    db_backup.add_argument("target", type=Path, metavar="PATH", help="where the copy goes")
    db_backup.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    db_backup.add_argument(
        "--database", type=Path, help="the database to copy (default: BRIEFBOT_DATABASE)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `briefbot` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    offline: dict[str, Callable[[], int]] = {
        "check": lambda: check(args.dir or settings.briefs_dir),
        "ask": lambda: ask(args.line, args.briefs or settings.briefs_dir),
        "db": lambda: db(args, settings),
    }
    if args.command in offline:
        return offline[args.command]()
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


def db(args: argparse.Namespace, settings: Settings) -> int:
    """`briefbot db check|backup`."""
    if args.db_command == "check":
        return db_check(args.path or settings.database)
    return db_backup(args.database or settings.database, args.target, force=args.force)


def db_check(path: Path) -> int:
    """`briefbot db check`: print the integrity report; 1 on any problem."""
    from bot.store import maintenance
    from bot.store.records import StoreError

    try:
        report = maintenance.check(path)
    except StoreError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def db_backup(source: Path, target: Path, *, force: bool) -> int:
    """`briefbot db backup PATH`: a verified online copy; refuses to overwrite without --force."""
    from bot.store import maintenance
    from bot.store.records import StoreError

    try:
        result = maintenance.backup(source, target, force=force)
    except StoreError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {source} to {result.path} ({result.size} bytes, quick_check ok)")
    return 0
