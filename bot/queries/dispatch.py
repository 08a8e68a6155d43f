"""Run a query command by name with string options: the seam the console front end uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.briefs.library import Library
from bot.queries import briefs, complete, quotes, search, topics
from bot.queries.spec import COMMANDS, CommandSpec, Completion, find
from bot.reply import Choice, Item, Reply, Section, Status

_HANDLERS: dict[str, Callable[..., Reply]] = {
    "summary": briefs.summary,
    "quotes": quotes.quotes,
    "topic": topics.topic,
    "briefs": briefs.list_briefs,
    "search": search.search,
}
_CHOICES_BY_KIND: dict[Completion, Callable[[Library, str], list[Choice]]] = {
    Completion.SPEAKER: complete.speakers,
    Completion.TOPIC: complete.topics,
    Completion.BRIEF: complete.briefs,
    Completion.DATE: complete.dates,
}


def usage(spec: CommandSpec) -> str:
    """How to type a command, e.g. `/quotes speaker:<…> [brief:<…>]`."""
    parts = [f"/{spec.name}"]
    for option in spec.options:
        part = f"{option.name}:<{option.name}>"
        parts.append(part if option.required else f"[{part}]")
    return " ".join(parts)


def command_list() -> Section:
    """Every command with its usage and description."""
    return Section("Commands", tuple(Item(c.description, label=usage(c)) for c in COMMANDS))


def run(library: Library, name: str, options: Mapping[str, str]) -> Reply:
    """Run command `name` with its options; unknown commands or options get a helpful reply."""
    spec = find(name)
    if spec is None:
        return Reply(
            "Unknown command",
            Status.INVALID,
            description=f"There is no command {name!r}.",
            sections=(command_list(),),
            suggestions=tuple(f"/{c.name}" for c in COMMANDS),
            private=True,
        )
    unknown = [o for o in options if spec.option(o) is None]
    missing = [o.name for o in spec.options if o.required and not options.get(o.name, "").strip()]
    if unknown or missing:
        problems = [f"unknown option {o!r}" for o in unknown]
        problems += [f"missing required option {o!r}" for o in missing]
        valid = ", ".join(o.name for o in spec.options) or "none"
        return Reply(
            f"/{spec.name}: " + "; ".join(problems),
            Status.INVALID,
            description=f"Usage: {usage(spec)}\nValid options: {valid}.",
            suggestions=tuple(o.name for o in spec.options),
            private=True,
        )
    return _HANDLERS[spec.name](library, **options)


def option_choices(library: Library, command: str, option: str, typed: str) -> list[Choice]:
    """Autocomplete for one option of one command, as the bot offers it (the console's Tab)."""
    spec = find(command)
    return spec_choices(library, spec, option, typed) if spec is not None else []


def spec_choices(library: Library, spec: CommandSpec, option: str, typed: str) -> list[Choice]:
    """Autocomplete for one option of a declared command (also those outside COMMANDS)."""
    opt = spec.option(option)
    if opt is None or opt.complete is None:
        return []
    return _CHOICES_BY_KIND[opt.complete](library, typed)
