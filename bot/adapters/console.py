"""The local console: `briefbot ask` as an interactive prompt with history and Tab completion."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TextIO

from bot.adapters.text import render
from bot.briefs.excerpt import escape_controls
from bot.briefs.index import IndexDamaged
from bot.briefs.library import Library, load_library
from bot.ops.about import offline_about
from bot.queries import dispatch
from bot.queries.parse import ParseError, parse_command_line, parse_options
from bot.queries.spec import BRIEF_HISTORY, COMMANDS, CommandSpec, find
from bot.reply import Item, Reply, Section, Status
from bot.review import service as review
from bot.store import is_postgres
from bot.store.records import StoreError
from bot.store.sqlite import Store

readline: ModuleType | None
try:
    import readline
except ImportError:  # pragma: no cover - Windows has no readline; the console still works
    readline = None

log = logging.getLogger(__name__)

PROMPT = "briefbot> "
HISTORY_LINES = 1000
_OPTION = re.compile(r"^([a-z_][a-z0-9_-]*):(.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One completion: the text that replaces the word being typed, and how to list it."""

    text: str
    shown: str


@dataclass(frozen=True, slots=True)
class _Word:
    start: int
    text: str


def _words(line: str) -> tuple[list[_Word], _Word]:
    """The whole words before the cursor and the word being typed (quotes keep spaces in)."""
    words: list[_Word] = []
    start: int | None = None
    quote: str | None = None
    for i, char in enumerate(line):
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
            start = i if start is None else start
        elif char.isspace():
            if start is not None:
                words.append(_Word(start, line[start:i]))
            start = None
        elif start is None:
            start = i
    if start is None:
        return words, _Word(len(line), "")
    return words, _Word(start, line[start:])


def _quoted(value: str) -> str:
    """A value as the parser reads it back: quoted when it has spaces or quotes."""
    if not value or any(c.isspace() for c in value) or value[0] in "\"'":
        return '"' + value + '"' if '"' not in value else "'" + value + "'"
    return value


def _unquote(typed: str) -> str:
    return typed[1:] if typed[:1] in {'"', "'"} else typed


class Completer:
    """Completes command names, option names and option values from the live library."""

    def __init__(self, library: Callable[[], Library], local: tuple[str, ...] = ()) -> None:
        self.library = library
        self.local = local

    def complete(self, line: str) -> tuple[int, list[Candidate]]:
        """Where the word being typed starts in `line`, and what it may become."""
        words, word = _words(line)
        if not words:
            return word.start, self._commands(word.text)
        if is_brief_command(words[0].text):
            # `/brief history …`: the subcommand is the second word; its options follow it.
            if len(words) == 1:
                found = [Candidate("history ", BRIEF_HISTORY.description)]
                return word.start, [c for c in found if c.text.startswith(word.text.casefold())]
            if words[1].text.casefold() != "history":
                return word.start, []
            return self._in_command(BRIEF_HISTORY, words[1:], word)
        spec = find(words[0].text)
        if spec is None:
            return word.start, []
        return self._in_command(spec, words, word)

    def _in_command(
        self, spec: CommandSpec, words: list[_Word], word: _Word
    ) -> tuple[int, list[Candidate]]:
        given = {
            m.group(1).casefold()
            for w in words[1:]
            if (m := _OPTION.match(w.text)) and spec.option(m.group(1).casefold())
        }
        match = _OPTION.match(word.text)
        if match and spec.option(match.group(1).casefold()) is not None:
            option = match.group(1).casefold()
            values = self._values(spec, option, _unquote(match.group(2)))
            return word.start, [Candidate(f"{option}:{c.text}", c.shown) for c in values]
        names = [
            Candidate(f"{o.name}:", f"{o.name}: {o.description}")
            for o in spec.options
            if o.name not in given and o.name.startswith(word.text.casefold())
        ]
        if names or not word.text:
            return word.start, names
        # A word that is no option's name: part of the previous option's value, which
        # continues past spaces as in Discord, or the first required option typed bare.
        opened = self._open_value(spec, words)
        if opened is not None:
            return self._continued(spec, words, word, *opened)
        required = [o.name for o in spec.options if o.required and o.name not in given]
        if not required or len(words) > 1:
            return word.start, []
        return word.start, self._values(spec, required[0], _unquote(word.text))

    def _commands(self, typed: str) -> list[Candidate]:
        slash = typed.startswith("/")
        name = typed.removeprefix("/").casefold()
        found = [
            Candidate(f"/{c.name} ", c.description) for c in COMMANDS if c.name.startswith(name)
        ]
        if BRIEF_HISTORY.name.startswith(name):
            found.append(Candidate(f"/{BRIEF_HISTORY.name} ", BRIEF_HISTORY.description))
        if not slash:
            found += [Candidate(f"{n} ", n) for n in self.local if n.startswith(name)]
        return found

    def _values(self, spec: CommandSpec, option: str, typed: str) -> list[Candidate]:
        choices = dispatch.spec_choices(self.library(), spec, option, typed)
        return [Candidate(_quoted(c.value) + " ", c.name) for c in choices]

    @staticmethod
    def _open_value(spec: CommandSpec, words: list[_Word]) -> tuple[str, int] | None:
        """The option whose unquoted value the last words continue, and where it starts."""
        for i in range(len(words) - 1, 0, -1):
            match = _OPTION.match(words[i].text)
            if match is None:
                continue
            option = match.group(1).casefold()
            if spec.option(option) is None or match.group(2)[:1] in {'"', "'"}:
                return None
            return option, i
        return None

    def _continued(
        self, spec: CommandSpec, words: list[_Word], word: _Word, option: str, first: int
    ) -> tuple[int, list[Candidate]]:
        """Complete `speaker:Ishaq D`: the value began words ago; replace it from its start."""
        parts = [words[first].text.split(":", 1)[1], *(w.text for w in words[first + 1 :])]
        typed = " ".join([*parts, word.text]).strip()
        choices = dispatch.spec_choices(self.library(), spec, option, typed)
        # Unquoted, as the user is typing it: readline keeps what precedes its own word.
        found = [Candidate(f"{option}:{c.value} ", c.name) for c in choices]
        return words[first].start, found


class Console:
    """Reads commands, answers them through the same query layer as Discord, until Ctrl-D."""

    LOCAL = ("help", "reload", "about", "exit")

    def __init__(
        self,
        root: Path,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        history: Path | None = None,
        index: Path | None = None,
        database: str | Path | None = None,
    ) -> None:
        self.root = root
        self.index = index
        self.database = database
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.history = history
        self.library = load_library(root, index)
        self._started = time.monotonic()
        self.completer = Completer(lambda: self.library, self.LOCAL)
        self._matches: list[Candidate] = []
        self._shown: list[str] = []
        self._before = ""

    # --- the loop -------------------------------------------------------------------------

    def run(self) -> int:
        """Serve until Ctrl-D or `exit`; always exits 0."""
        interactive = self.stdin.isatty()
        if interactive:
            self._setup_readline()
        self.write(self._loaded() + "  Type help for commands, Tab to complete, Ctrl-D to leave.\n")
        try:
            while True:
                try:
                    line = self._read(PROMPT if interactive else "")
                except EOFError:
                    if interactive:
                        self.write("\n")
                    return 0
                except KeyboardInterrupt:  # Ctrl-C drops the line being typed, as in a shell
                    self.write("\n")
                    continue
                try:
                    if not self.handle(line):
                        return 0
                except KeyboardInterrupt:  # Ctrl-C during a command drops it, as in a shell
                    self.write("\n(interrupted)\n")
        finally:
            if interactive:
                self._save_history()

    def _read(self, prompt: str) -> str:
        if self.stdin is sys.stdin and self.stdout is sys.stdout:
            return input(prompt)  # through readline: editing, history, completion
        self.write(prompt)
        line = self.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    def handle(self, line: str) -> bool:
        """Answer one line; False when the user asked to leave."""
        text = line.strip()
        word = text.split(maxsplit=1)[0].casefold() if text else ""
        if not text:
            return True
        if word in {"exit", "quit"}:
            return False
        if word in {"help", "?"}:
            self.write(render(help_reply()))
        elif word == "reload":
            self.library = load_library(self.root, self.index)
            self.write(self._loaded() + "\n")
        elif word in {"about", "/about"}:
            uptime = dt.timedelta(seconds=time.monotonic() - self._started)
            library = self.library
            self.write(render(offline_about(len(library.briefs), len(library.errors), uptime)))
        elif is_brief_command(word):
            try:
                reply = brief_command(text, self.database, self.library)
            except (OfflineError, ParseError) as exc:
                self.write(f"{exc}\n")
            except StoreError as exc:
                self.write(f"{exc} (/brief history reads the bot's database: BRIEFBOT_DATABASE)\n")
            else:
                self.write(render(reply))
        else:
            try:
                parsed = parse_command_line(text)
            except ParseError as exc:
                self.write(f"{exc} (type help for the commands)\n")
            else:
                self.write(render(self._run(parsed.name, parsed.options)))
        return True

    def _run(self, name: str, options: dict[str, str]) -> Reply:
        """A query's reply; an index a read finds damaged is built again, and asked again."""
        try:
            return dispatch.run(self.library, name, options)
        except IndexDamaged as exc:
            self.library.close()
            self.library.index.discard(str(exc))
            self.library = load_library(self.root, self.index)
            return dispatch.run(self.library, name, options)

    def write(self, text: str) -> None:
        """Print and flush: the prompt must follow the answer at once."""
        # Escaped: what a brief or the user typed never drives the terminal.
        self.stdout.write(escape_controls(text))
        self.stdout.flush()

    def _loaded(self) -> str:
        errors = len(self.library.errors)
        broken = f", {errors} problem(s) (briefbot check {self.root} lists them)" if errors else ""
        return f"{len(self.library.briefs)} brief(s) loaded from {self.root}{broken}."

    # --- readline -------------------------------------------------------------------------

    def _setup_readline(self) -> None:
        if readline is None:  # pragma: no cover - see the import
            return
        readline.set_completer_delims(" \t\n")
        readline.set_completer(self._complete)
        readline.set_completion_display_matches_hook(self._display)
        readline.parse_and_bind("tab: complete")
        # List the choices on the first Tab, as Discord shows them while typing.
        readline.parse_and_bind("set show-all-if-ambiguous on")
        readline.set_history_length(HISTORY_LINES)
        if self.history is not None and self.history.is_file():
            try:
                readline.read_history_file(self.history)
            except OSError as exc:
                log.debug("cannot read console history %s: %s", self.history, exc)

    def _save_history(self) -> None:
        if readline is None or self.history is None:  # pragma: no cover - see the import
            return
        try:
            self.history.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(self.history)
        except OSError as exc:
            log.debug("cannot write console history %s: %s", self.history, exc)

    def _complete(self, text: str, state: int) -> str | None:
        """readline's completer: the `state`-th replacement for `text`."""
        assert readline is not None
        if state == 0:
            # The line as shown before readline inserts anything: _display redraws this one.
            self._before = readline.get_line_buffer()
            self._matches, self._shown = self.readline_matches(
                readline.get_line_buffer()[: readline.get_endidx()], readline.get_begidx()
            )
        return self._matches[state].text if state < len(self._matches) else None

    def readline_matches(self, line: str, begidx: int) -> tuple[list[Candidate], list[str]]:
        """Completions cut to what readline replaces: the text after `begidx`.

        A quoted value spans spaces, so the word being completed can start before readline's
        own word; the part before `begidx` is kept as typed and only the rest is replaced.
        """
        start, found = self.completer.complete(line)
        typed = line[start:begidx] if start < begidx else ""
        matches = [
            Candidate(c.text[len(typed) :], c.shown)
            for c in found
            if c.text[: len(typed)].casefold() == typed.casefold()
        ]
        return matches, [c.shown for c in matches]

    def _display(self, substitution: str, matches: list[str], longest: int) -> None:
        """List the matches as Discord does: by their labels, then redraw the line."""
        del substitution, longest
        assert readline is not None
        shown = self._shown if len(self._shown) == len(matches) else matches
        self.write("\n" + "\n".join(f"  {s}" for s in shown) + "\n")
        # readline then draws what it inserted (the matches' common start) after this.
        self.write(PROMPT + self._before)


class OfflineError(ValueError):
    """A /brief command the console cannot answer; `str()` says what it can."""


def is_brief_command(word: str) -> bool:
    """Whether a line's first word is the /brief group."""
    return word.casefold() in {"/brief", "brief"}


def brief_command(line: str, database: str | Path | None, library: Library | None) -> Reply:
    """`/brief history [brief]` offline: the same handler as Discord, the database read-only.

    Raises OfflineError for the rest of /brief (drafting and publishing happen on Discord),
    ParseError for a line that cannot be read, StoreError when there is no usable database."""
    _, _, rest = line.strip().partition(" ")
    sub, _, options = rest.strip().partition(" ")
    if sub.casefold() != "history":
        raise OfflineError(
            "only /brief history [brief:<id>] works offline; drafting and publishing happen "
            "on Discord"
        )
    brief = parse_options(BRIEF_HISTORY, options).get("brief")
    if database is None:
        raise OfflineError("/brief history reads the bot's database; none is configured here")

    async def answer(where: str | Path) -> Reply:
        if is_postgres(where):
            from bot.store.postgres import PostgresStore

            # Read only: a PostgreSQL database is not migrated from here.
            store: Store = await PostgresStore.open_read_only(where)
        else:
            store = await Store.open_read_only(where)
        async with store:
            return await review.history(store, brief, library=library)

    return asyncio.run(answer(database))


def help_reply() -> Reply:
    """The commands, and the console's own keys."""
    console = Section(
        "Console",
        (
            Item("Tab completes commands, option names and values; ↑/↓ recall earlier lines."),
            Item(
                "reload reads the briefs again; about shows the version and briefs; exit or "
                "Ctrl-D leaves."
            ),
            Item(
                f"{BRIEF_HISTORY.description} (read-only; drafting and publishing happen on "
                "Discord).",
                label=dispatch.usage(BRIEF_HISTORY),
            ),
        ),
    )
    return Reply(
        "briefbot console",
        Status.OK,
        description="Type a command as in Discord, e.g. /quotes speaker:Dar",
        sections=(dispatch.command_list(), console),
    )


def main(
    root: Path,
    history: Path | None = None,
    index: Path | None = None,
    database: str | Path | None = None,
) -> int:
    """`briefbot console`: serve the console on this terminal."""
    return Console(root, history=history, index=index, database=database).run()
