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
    configure_logging(settings.log_level, settings.log_format, secrets=[settings.token])
    if args.command == "check":
        return check(args.dir or settings.briefs_dir)
    if args.command in {"ask", "console"}:
        root = args.briefs or settings.briefs_dir
        # The shared index serves the configured folder; another folder gets a private one.
        same = root.resolve() == settings.briefs_dir.resolve()
        index = settings.index_path if same else None
        return ask(args.line, root, index) if args.command == "ask" else console(root, index)
    if args.command == "run" and not settings.token and _interactive():
        # design.md: the one start-up problem that does not end in a non-zero exit.
        print("briefbot: no Discord token (DISCORD_TOKEN), so here is the offline console.")
        return console(settings.briefs_dir, settings.index_path)
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


def ask(line: str, root: Path, index: Path | None = None) -> int:
    """Answer one command line offline, through the same query layer as Discord."""
    try:
        parsed = parse_command_line(line)
    except ParseError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 2
    library = load_library(root, index)
    for error in library.errors:
        log.warning("%s", error)
    reply = dispatch.run(library, parsed.name, parsed.options)
    sys.stdout.write(render(reply))
    return 0 if reply.ok else 1


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def console(root: Path, index: Path | None = None) -> int:
    """`briefbot console`: the same answers as `ask`, at a prompt with history and Tab."""
    from bot.adapters.console import main as run_console

    return run_console(root, history=Path.home() / ".briefbot_history", index=index)
