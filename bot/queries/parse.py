"""Parse a command line the way a user types it in Discord: `/quotes speaker:"Ishaq Dar"`."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot.queries.spec import COMMANDS, CommandSpec, find

# `name:` at the start of a word; Discord matches option names whatever their case.
# (`https://…` is a value, not an option called https.)
_OPTION = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?!//)")
# Quote marks that open a quoted value, and the mark that closes each.
_QUOTES = {'"': '"', "“": "”", "'": "'", "‘": "’"}


class ParseError(ValueError):
    """The line cannot be read as a command; the message says what is valid."""


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """A command name and its option values."""

    name: str
    options: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Word:
    """One word of the line: an `option:` it starts with, if any, and its text."""

    option: str | None
    text: str
    quoted: bool


def _words(line: str) -> list[_Word]:
    """Split a line into words, as Discord's box reads it.

    A value may be quoted ("…", “…”, '…' or ‘…’) to hold spaces or a colon; the quote must
    close before a space or the end. An apostrophe inside a word is only an apostrophe
    (`O'Brien`), and so is a single quote that never closes. An unclosed double quote is an
    error: the user meant to quote something and the line is ambiguous.
    """
    words: list[_Word] = []
    i, end = 0, len(line)
    while i < end:
        if line[i].isspace():
            i += 1
            continue
        option = None
        match = _OPTION.match(line, i)
        if match:
            option = match.group(1)
            i = match.end()
        closing = _QUOTES.get(line[i]) if i < end else None
        if closing is not None:
            close = _closing(line, i + 1, closing)
            if close is not None:
                words.append(_Word(option, line[i + 1 : close], quoted=True))
                i = close + 1
                continue
            if line[i] in '"“':
                raise ParseError(
                    "cannot read the command line: no closing quotation mark for the "
                    f"one at character {i + 1}"
                )
        start = i
        while i < end and not line[i].isspace():
            i += 1
        words.append(_Word(option, line[start:i], quoted=False))
    return words


def _closing(line: str, start: int, mark: str) -> int | None:
    """Where the quote opened before `start` closes: `mark` followed by a space or the end."""
    at = line.find(mark, start)
    while at != -1:
        if at + 1 == len(line) or line[at + 1].isspace():
            return at
        at = line.find(mark, at + 1)
    return None


def parse_command_line(line: str) -> ParsedCommand:
    """Split `/name opt:value …` into name and options.

    Values may contain spaces when quoted (`speaker:"Ishaq Dar"`); unquoted words after a value
    continue it, as in Discord's own box. Words before any `option:` fill the required options
    in order, so `/topic minerals` works too. An `option:` the command does not have is an
    error wherever it appears (quote a value that really holds `word:`).
    """
    words = _words(line.strip())
    if not words:
        raise ParseError("empty command; try one of: " + _names())
    first = words[0]
    typed = (f"{first.option}:" if first.option is not None else "") + first.text
    spec = find(typed.removeprefix("/").casefold()) if first.option is None else None
    if spec is None:
        raise ParseError(f"unknown command {typed!r}; valid commands: {_names()}")
    return ParsedCommand(spec.name, _options(spec, words[1:]))


def parse_options(spec: CommandSpec, text: str) -> dict[str, str]:
    """The options of `spec` in `text` (what follows the command's name), read as
    `parse_command_line` reads them."""
    return _options(spec, _words(text.strip()))


def _options(spec: CommandSpec, words: list[_Word]) -> dict[str, str]:
    options: dict[str, list[str]] = {}
    current: str | None = None
    positional = [o.name for o in spec.options if o.required] or [o.name for o in spec.options]
    for word in words:
        if word.option is not None:
            current = _option_name(spec, word.option)
            if current in options:
                raise ParseError(f"option {current!r} given twice")
            options[current] = [word.text] if word.text else []
        elif current is not None:
            options[current].append(word.text)
        elif positional:
            current = positional.pop(0)
            options[current] = [word.text]
        else:
            raise ParseError(f"/{spec.name} takes no options, got {word.text!r}")
        if current in positional:
            positional.remove(current)
    return {k: " ".join(v) for k, v in options.items()}


def _option_name(spec: CommandSpec, typed: str) -> str:
    """The command's option called `typed` (any case); a clear error naming it if none is."""
    name = typed.casefold()
    if spec.option(name) is not None:
        return name
    valid = [o.name for o in spec.options]
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ParseError(
        f"/{spec.name} has no option {typed!r}{hint}; valid options: {', '.join(valid) or 'none'}"
    )


def _names() -> str:
    return ", ".join(f"/{c.name}" for c in COMMANDS)
