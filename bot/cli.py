"""The `briefbot` command line: check briefs, ask offline, ingest articles, run or sync the bot."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from collections.abc import Sequence
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
    ingest = sub.add_parser("ingest", help="draft briefs from articles (.txt, .html, - for stdin)")
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="article files or folders, or -")
    ingest.add_argument("--out", type=Path, default=Path("drafts"), help="default: drafts/")
    ingest.add_argument("--id", dest="brief_id", help="the draft's id (one article only)")
    ingest.add_argument("--force", action="store_true", help="replace existing draft files")
    sub.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN)")
    sync = sub.add_parser("sync", help="publish slash commands globally (or to the dev guild)")
    sync.add_argument("--guild", type=int, help="sync to this guild id only")
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
    if args.command == "check":
        return check(args.dir or settings.briefs_dir)
    if args.command == "ask":
        return (
            ask_brief(args.line, settings.database)
            if _BRIEF_COMMAND.match(args.line)
            else ask(args.line, args.briefs or settings.briefs_dir)
        )
    if args.command == "ingest":
        from bot.ingest.run import run_ingest

        return run_ingest(
            args.paths,
            args.out,
            args.brief_id,
            force=args.force,
            vocabulary=settings.briefs_dir / "topics.yaml",
        )
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


# `/brief …` lives in the database, not the briefs folder: the console answers its read-only part.
_BRIEF_COMMAND = re.compile(r"^\s*/?brief(?:\s|$)", re.IGNORECASE)
_HISTORY = re.compile(r"^\s*/?brief\s+history(?:\s+(?:brief:)?(?P<brief>\S+))?\s*$", re.I)


def ask_brief(line: str, database: Path) -> int:
    """`/brief history [brief]` offline, reading the database without changing it."""
    from bot.review.service import history
    from bot.store.records import StoreError
    from bot.store.sqlite import Store

    match = _HISTORY.match(line)
    if match is None:
        print(
            "briefbot: only /brief history [brief:<id>] works offline; drafting and publishing "
            "happen on Discord",
            file=sys.stderr,
        )
        return 2

    async def answer() -> int:
        try:
            store = await Store.open_read_only(database)
        except StoreError as exc:
            print(f"briefbot: {exc}", file=sys.stderr)
            return 1
        async with store:
            reply = await history(store, match["brief"])
        sys.stdout.write(render(reply))
        return 0 if reply.ok else 1

    return asyncio.run(answer())


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
