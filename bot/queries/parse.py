"""Parse a command line the way a user types it in Discord: `/quotes speaker:"Ishaq Dar"`."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from bot.queries.spec import COMMANDS, find

_OPTION = re.compile(r"^([a-z_][a-z0-9_-]*):(.*)$", re.DOTALL)


class ParseError(ValueError):
    """The line cannot be read as a command; the message says what is valid."""


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """A command name and its option values."""

    name: str
    options: dict[str, str]


def parse_command_line(line: str) -> ParsedCommand:
    """Split `/name opt:value …` into name and options.

    Values may contain spaces when quoted (`speaker:"Ishaq Dar"`); unquoted words after a value
    continue it, as in Discord's own box. Words before any `option:` fill the required options
    in order, so `/topic minerals` works too.
    """
    try:
        words = shlex.split(line.strip())
    except ValueError as exc:
        raise ParseError(f"cannot read the command line: {exc}") from exc
    if not words:
        raise ParseError("empty command; try one of: " + _names())
    name = words[0].removeprefix("/").casefold()
    spec = find(name)
    if spec is None:
        raise ParseError(f"unknown command {words[0]!r}; valid commands: {_names()}")
    options: dict[str, list[str]] = {}
    current: str | None = None
    positional = [o.name for o in spec.options if o.required] or [o.name for o in spec.options]
    for word in words[1:]:
        match = _OPTION.match(word)
        if match and spec.option(match.group(1).casefold()) is not None:
            current = match.group(1).casefold()
            if current in options:
                raise ParseError(f"option {current!r} given twice")
            options[current] = [match.group(2)] if match.group(2) else []
        elif match and current is None:
            valid = ", ".join(o.name for o in spec.options) or "none"
            raise ParseError(
                f"/{spec.name} has no option {match.group(1)!r}; valid options: {valid}"
            )
        elif current is not None:
            options[current].append(word)
        elif positional:
            current = positional.pop(0)
            options[current] = [word]
        else:
            raise ParseError(f"/{spec.name} takes no options, got {word!r}")
        if current in positional:
            positional.remove(current)
    return ParsedCommand(spec.name, {k: " ".join(v) for k, v in options.items()})


def _names() -> str:
    return ", ".join(f"/{c.name}" for c in COMMANDS)
