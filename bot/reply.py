"""The renderer-neutral reply every command returns; text and Discord renderers draw it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """What kind of answer a reply is; renderers pick colour and visibility from it."""

    OK = "ok"
    NOT_FOUND = "not_found"  # the input named nothing we have; suggestions say what exists
    INVALID = "invalid"  # the input was malformed
    ERROR = "error"  # something failed on our side


@dataclass(frozen=True, slots=True)
class Item:
    """One entry: a quote, a point, a claim, a brief in a list."""

    text: str
    # Who or what the entry belongs to (a speaker, a brief title); shown as its heading.
    label: str | None = None
    # Provenance: context of a quote, brief and date of a point.
    detail: str | None = None
    # (start, end) spans of `text` to emphasise, e.g. a search match; renderers draw them bold.
    marks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of items, or a block of prose."""

    heading: str
    items: tuple[Item, ...] = ()
    body: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete answer to one command."""

    title: str
    status: Status = Status.OK
    description: str | None = None
    sections: tuple[Section, ...] = ()
    suggestions: tuple[str, ...] = ()
    footer: str | None = None
    url: str | None = None
    # Private replies are shown only to the person who asked (ephemeral on Discord).
    private: bool = field(default=False)

    @property
    def ok(self) -> bool:
        """Whether the command found what it was asked for."""
        return self.status is Status.OK


@dataclass(frozen=True, slots=True)
class Choice:
    """One autocomplete suggestion: what the user sees, and the value submitted."""

    name: str
    value: str
