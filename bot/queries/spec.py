"""The commands briefbot answers, declared once for every front end (console and Discord)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Completion(StrEnum):
    """Which autocomplete an option uses."""

    SPEAKER = "speaker"
    TOPIC = "topic"
    BRIEF = "brief"
    DATE = "date"


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One option of a command."""

    name: str
    description: str
    required: bool = False
    complete: Completion | None = None


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command: its name, what it does, and its options in order."""

    name: str
    description: str
    options: tuple[OptionSpec, ...] = ()

    def option(self, name: str) -> OptionSpec | None:
        """The option called `name`, if the command has one."""
        for option in self.options:
            if option.name == name:
                return option
        return None


_BRIEF = OptionSpec("brief", "Which brief (default: the latest)", complete=Completion.BRIEF)

SUMMARY = CommandSpec("summary", "Summary and key points of a brief", (_BRIEF,))
QUOTES = CommandSpec(
    "quotes",
    "Direct quotes by one person, with who said them and where",
    (
        OptionSpec("speaker", "Who said it: name, surname or alias", True, Completion.SPEAKER),
        OptionSpec(
            "brief", "Only quotes from this brief (default: all)", complete=Completion.BRIEF
        ),
    ),
)
TOPIC = CommandSpec(
    "topic",
    "Everything on a topic across all briefs, newest first",
    (OptionSpec("name", "Topic name or alias, e.g. minerals", True, Completion.TOPIC),),
)
BRIEFS = CommandSpec("briefs", "List every brief, newest first")
SEARCH = CommandSpec(
    "search",
    "Search titles, summaries, key points, quotes and claims; best match first",
    (
        OptionSpec("query", 'Words, a "phrase", or a prefix like minera*', True),
        OptionSpec("speaker", "Only quotes and claims by this person", complete=Completion.SPEAKER),
        OptionSpec("topic", "Only entries on this topic", complete=Completion.TOPIC),
        OptionSpec("since", "From this date on (YYYY-MM-DD)", complete=Completion.DATE),
        OptionSpec("until", "Up to this date (YYYY-MM-DD)", complete=Completion.DATE),
    ),
)

# /brief history reads the audit trail in the store, not the briefs: Discord and the console
# both answer it (read-only), through the review service's handler, not the query dispatch.
BRIEF_HISTORY = CommandSpec(
    "brief history",
    "Who published, replaced or discarded what, and when",
    (OptionSpec("brief", "Only this brief (default: every brief)", complete=Completion.BRIEF),),
)

# The query commands shared by the console and Discord, in help order.
COMMANDS: tuple[CommandSpec, ...] = (SUMMARY, QUOTES, TOPIC, BRIEFS, SEARCH)


def find(name: str) -> CommandSpec | None:
    """The command called `name` (a leading slash is ignored)."""
    name = name.removeprefix("/").casefold()
    for command in COMMANDS:
        if command.name == name:
            return command
    return None
