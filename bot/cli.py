"""The `briefbot` command line: check briefs, ask offline, run or sync the Discord bot, and
check or back up its database."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bot.adapters.text import render
from bot.briefs.excerpt import escape_controls
from bot.briefs.index import BriefIndex, IndexBusy, IndexDamaged
from bot.briefs.library import Library, load_library, open_library
from bot.ops.about import offline_about
from bot.ops.logs import configure_logging
from bot.ops.paths import briefs_folder_problem, index_problem
from bot.queries import dispatch
from bot.queries.parse import ParseError, parse_command_line
from bot.reply import Reply
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
    ingest = sub.add_parser("ingest", help="draft briefs from articles (.txt, .html, - for stdin)")
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="article files or folders, or -")
    ingest.add_argument("--out", type=Path, help="where drafts are written (default: drafts/)")
    ingest.add_argument("--id", dest="brief_id", help="the draft's id (one article only)")
    ingest.add_argument("--force", action="store_true", help="replace existing draft files")
    run = sub.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN)")
    run.add_argument(
        "--shards", help="gateway shards this process runs, e.g. 0,1 (BRIEFBOT_SHARD_IDS)"
    )
    run.add_argument(
        "--shard-count", type=int, help="shards in all, over every process (BRIEFBOT_SHARD_COUNT)"
    )
    sub.add_parser(
        "doctor",
        help="check the token, commands, channel permissions, database and briefs; "
        "non-zero on any problem",
    )
    feeds = sub.add_parser("feeds", help="feeds: poll once from the command line")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    poll = feeds_sub.add_parser(
        "poll", help="poll URL (or every feed in the database) once; drafts go to drafts/"
    )
    poll.add_argument("url", nargs="?", help="a feed to try (default: every feed not paused)")
    poll.add_argument("--drafts", type=Path, help="where drafts are written (default: drafts/)")
    poll.add_argument("--topics", default="", help="topic ids to suggest, comma-separated")
    sync = sub.add_parser("sync", help="publish slash commands globally (or to the dev guild)")
    sync.add_argument("--guild", type=int, help="sync to this guild id only")
    db = sub.add_parser("db", help="check, back up, or copy the database (SQLite ↔ PostgreSQL)")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_check = db_sub.add_parser("check", help="integrity report; exit non-zero on any problem")
    db_check.add_argument(
        "path",
        nargs="?",
        help="the database, a path or postgresql:// URL (default: BRIEFBOT_DATABASE)",
    )
    db_copy = db_sub.add_parser(
        "copy", help="copy every table from SRC to DST (a SQLite path or a postgresql:// URL)"
    )
    db_copy.add_argument("source", metavar="SRC")
    db_copy.add_argument("target", metavar="DST")
    db_copy.add_argument("--force", action="store_true", help="replace what a non-empty DST holds")
    db_backup = db_sub.add_parser("backup", help="copy the live database to PATH, verified")
    db_backup.add_argument("target", type=Path, metavar="PATH", help="where the copy goes")
    db_backup.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    db_backup.add_argument("--database", help="the database to copy (default: BRIEFBOT_DATABASE)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `briefbot` console script."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # inside the try: a reader gone shows at the last flush too
    except BrokenPipeError:
        # `briefbot check | head -1`: the reader left early. Quietly, as other tools do;
        # stdout goes to /dev/null so the interpreter's own flush at exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format, secrets=[settings.token])
    if args.command in {"check", "ingest", "feeds", "ask", "console", "db"}:
        return _offline(args, settings)
    if args.command == "run" and not settings.token and _interactive():
        # design.md: the one start-up problem that does not end in a non-zero exit.
        print("briefbot: no Discord token (DISCORD_TOKEN), so here is the offline console.")
        return _ask_or_console(argparse.Namespace(command="console", briefs=None), settings)
    if args.command == "doctor":
        from bot.doctor import doctor

        return doctor(settings)
    from bot.app import sync  # Discord is only imported for the commands that need it

    if args.command == "run":
        return _run(settings, args)
    return sync(settings, args.guild)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    """`briefbot run [--shards 0,1 --shard-count 4]`."""
    from bot.app import run

    try:
        sharded = settings.with_shards(args.shards, args.shard_count)
    except SettingsError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 2
    return run(sharded)


def _offline(args: argparse.Namespace, settings: Settings) -> int:
    """The commands that need no Discord."""
    try:
        return _offline_command(args, settings)
    except IndexBusy as exc:
        # Another process held the index's write lock past the wait (its first build of a
        # large folder, say): one line, never an answer from an index behind the files.
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1


def _offline_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "check":
        return check(args.dir or settings.briefs_dir)
    if args.command == "db":
        return db(args, settings)
    if args.command == "ingest":
        from bot.ingest.run import run_ingest

        return run_ingest(
            args.paths,
            args.out or settings.drafts_dir,
            args.brief_id,
            force=args.force,
            vocabulary=settings.briefs_dir / "topics.yaml",
        )
    if args.command == "feeds":
        return feeds_poll(settings, args.url, args.drafts or settings.drafts_dir, args.topics)
    return _ask_or_console(args, settings)


def _ask_or_console(args: argparse.Namespace, settings: Settings) -> int:
    """`ask` and `console`: the briefs folder checked, the shared index when usable."""
    root = args.briefs or settings.briefs_dir
    # `/brief history` reads the database; the briefs only add "did you mean".
    brief = args.command == "ask" and _BRIEF_COMMAND.match(args.line) is not None
    setting = "pass --briefs" if args.briefs is not None else "set BRIEFBOT_BRIEFS_DIR to"
    folder = briefs_folder_problem(root, readable=False, setting=setting)
    if folder is not None and not brief:
        # Never "no briefs loaded" from a typo (nor the shared index rebuilt for it).
        print(f"briefbot: {folder}", file=sys.stderr)
        return 2
    # The shared index serves the configured folder (when it is there); else a private one.
    same = folder is None and root.resolve() == settings.briefs_dir.resolve()
    index = settings.index_path if same else None
    problem = index_problem(index) if index is not None else None
    if problem is not None:
        # An analyst reading the bot's folders (not its user) still gets answers.
        log.warning(
            "brief index: %s (BRIEFBOT_DATA_DIR): answering from a private index instead", problem
        )
        index = None
    if args.command == "console":
        return console(root, index, settings.database)
    return (
        ask_brief(args.line, settings.database, root, index)
        if brief
        else ask(args.line, root, index)
    )


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


def ask_brief(line: str, database: str | Path, root: Path, index: Path | None = None) -> int:
    """`/brief history [brief]` offline, as the console answers it (the database read-only)."""
    from bot.adapters.console import OfflineError, brief_command
    from bot.store.records import StoreError

    try:
        reply = brief_command(line, database, load_library(root, index))
    except (OfflineError, ParseError) as exc:
        print(f"briefbot: {escape_controls(str(exc))}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(render(reply))
    return 0 if reply.ok else 1


def ask(line: str, root: Path, index: Path | None = None) -> int:
    """Answer one command line offline, through the same query layer as Discord."""
    first = line.split(maxsplit=1)[0].casefold() if line.strip() else ""
    if first in {"/about", "about"} and line.strip().casefold() != first:
        print("briefbot: /about takes no options", file=sys.stderr)
        return 2
    if line.strip().casefold() in {"/about", "about"}:
        # The bot's /about, offline: version and briefs (no gateway, no database).
        started = time.monotonic()
        library = load_library(root, index)
        uptime = dt.timedelta(seconds=time.monotonic() - started)
        sys.stdout.write(render(offline_about(len(library.briefs), len(library.errors), uptime)))
        return 0
    try:
        parsed = parse_command_line(line)
    except ParseError as exc:
        message = escape_controls(str(exc))
        if message.startswith("unknown command"):
            # The parser knows the brief commands; ask answers these two besides.
            message += "; offline also: /about, /brief history"
        print(f"briefbot: {message}", file=sys.stderr)
        return 2
    brief_index = BriefIndex(root, index)
    # A large shared index: answer from it while child processes check every file, and use
    # the answer only if nothing changed (else sync, and answer again: the files win).
    unchanged = brief_index.quick_check()
    if unchanged is not None:
        library = open_library(brief_index)
        try:
            reply = dispatch.run(library, parsed.name, parsed.options)
        except IndexDamaged as exc:
            brief_index.discard(str(exc))  # and the sync below builds it again
        else:
            if unchanged():
                return _answer(library, reply)
        library.close()
    brief_index.sync()
    library = open_library(brief_index)
    try:
        return _answer(library, dispatch.run(library, parsed.name, parsed.options))
    except IndexDamaged as exc:
        # Damage the command read and the opening did not: built again, and asked again.
        library.close()
        brief_index.discard(str(exc))
        brief_index.sync()
        library = open_library(brief_index)
        return _answer(library, dispatch.run(library, parsed.name, parsed.options))


def _answer(library: Library, reply: Reply) -> int:
    for error in library.errors:
        log.warning("%s", error)
    sys.stdout.write(render(reply))
    return 0 if reply.ok else 1


def db(args: argparse.Namespace, settings: Settings) -> int:
    """`briefbot db check|backup|copy`."""
    from bot.store import is_postgres, sqlite_path

    if args.db_command == "copy":
        return db_copy(args.source, args.target, force=args.force)
    database = (args.path if args.db_command == "check" else args.database) or settings.database
    if is_postgres(database):
        return db_postgres(args.db_command, str(database))
    if args.db_command == "check":
        return db_check(sqlite_path(database))
    return db_backup(sqlite_path(database), args.target, force=args.force)


def db_copy(source: str, target: str, *, force: bool) -> int:
    """`briefbot db copy SRC DST`: every table, counts printed and verified."""
    import asyncio

    from bot.store.admin import copy_database
    from bot.store.records import StoreError

    try:
        asyncio.run(copy_database(source, target, force=force))
    except StoreError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
    print("copy verified: every table's count matches")
    return 0


def db_postgres(command: str, database: str) -> int:
    """`db check` on PostgreSQL: connectivity, schema version, counts; `db backup`: pg_dump."""
    import asyncio

    from bot.store.admin import check_database, pg_dump_advice
    from bot.store.records import StoreError

    if command == "backup":
        print(f"briefbot: {pg_dump_advice(database)}", file=sys.stderr)
        return 1
    try:
        found = asyncio.run(check_database(database))
    except StoreError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
    print(f"{found.where}: reachable, schema version {found.version}")
    for table, count in found.counts.items():
        print(f"  {table}: {count} rows")
    print(pg_dump_advice(database))
    if found.version < found.latest:
        print(
            f"schema version {found.version} is older than {found.latest}: "
            "`briefbot run` migrates it"
        )
    if found.version > found.latest:
        print(f"briefbot: written by a newer briefbot (version {found.version})", file=sys.stderr)
        return 1
    return 0


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

    if _same_database(source, target):
        # The copy is renamed into place: over the live file, a running bot would go on
        # writing to the deleted one (and lose it all); over its -wal, committed writes.
        print(
            f"briefbot: {target} is the database itself (or its journal): back it up to "
            "another path",
            file=sys.stderr,
        )
        return 1
    try:
        result = maintenance.backup(source, target, force=force)
    except StoreError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {source} to {result.path} ({result.size} bytes, quick_check ok)")
    return 0


def _same_database(source: Path, target: Path) -> bool:
    """Whether `target` is `source` or one of SQLite's files beside it, by any path."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        twin = source.with_name(source.name + suffix)
        if twin.resolve() == target.resolve():
            return True
        try:
            if twin.samefile(target):
                return True  # a hard link
        except OSError:
            continue  # one of them does not exist
    return False


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def console(root: Path, index: Path | None = None, database: str | Path | None = None) -> int:
    """`briefbot console`: the same answers as `ask`, at a prompt with history and Tab."""
    from bot.adapters.console import main as run_console

    history = Path.home() / ".briefbot_history"
    return run_console(root, history=history, index=index, database=database)


def feeds_poll(settings: Settings, url: str | None, drafts: Path, topics: str) -> int:
    """One poll from the command line: print what each feed did; non-zero if any failed."""
    import asyncio

    from bot.feeds.draft import EngineDrafter
    from bot.feeds.files import poll_once
    from bot.ingest.fetch import Fetcher

    library = load_library(settings.briefs_dir, settings.index_path)
    vocabulary = library.vocabulary
    # The index keeps the last good vocabulary; a draft needs the one on disk now.
    if not vocabulary.topics or not (settings.briefs_dir / "topics.yaml").is_file():
        print(
            f"briefbot feeds poll: cannot read the topic vocabulary in {settings.briefs_dir} "
            "(topics.yaml); drafts need it",
            file=sys.stderr,
        )
        return 2
    topic_ids: list[str] = []
    for name in (t.strip() for t in topics.split(",")):
        if not name:
            continue
        topic = vocabulary.resolve(name)
        if topic is None:
            print(
                f"briefbot feeds poll: --topics: unknown topic {name!r}; try one of: "
                + ", ".join(vocabulary.suggest(name)),
                file=sys.stderr,
            )
            return 2
        topic_ids.append(topic.id)
    published = library.published_links()
    ids = library.brief_ids()
    drafter = EngineDrafter(lambda: vocabulary, lambda: ids)

    async def go() -> int:
        async with Fetcher(private_hosts=settings.fetch_private_hosts) as fetcher:
            reports, sink = await poll_once(
                database=settings.database,
                drafts=drafts,
                url=url,
                topics=topic_ids,
                fetcher=fetcher,
                drafter=drafter,
                burst=settings.feed_burst,
                published=published,
            )
        if not reports:
            print("no feeds to poll (add one with /feeds add, or give a URL)")
        for report in reports:
            print(f"{report.url}: {'' if report.ok else 'failed: '}{report.summary}")
        for path in sink.written:
            print(f"  wrote {path}")
        for notice in sink.notices:
            print(notice, file=sys.stderr)
        return 0 if all(r.ok for r in reports) else 1

    return asyncio.run(go())
