"""Validated, immutable models of a brief and of the shared topic vocabulary."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
from enum import StrEnum
from typing import Annotated, Any

import re2
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

from bot.briefs.excerpt import excerpt, one_line
from bot.text import fold

# Ids appear in autocomplete values, database rows and file names: keep them boring.
ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"
# Brief text is plain text: no control characters but tab and newline (an escape sequence
# would restyle or rewrite a terminal that prints it). Checked by pydantic's own regex engine,
# quick; the loader words the error (bot.briefs.errors).
NO_CONTROLS = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"
# exclude_lines: at most this many patterns of at most this many characters each. RE2 runs
# each in time linear in the line; these bound the patterns' own size.
MAX_EXCLUDE_PATTERNS = 50
MAX_PATTERN_CHARS = 500
# RE2 program size of a brief's exclude_lines together: bounds the time a source text takes.
MAX_EXCLUDE_COMPLEXITY = 300
# How many known names an unknown-person error lists.
KNOWN_SHOWN = 5
_URL = r"^https?://[^\s\x00-\x1f\x7f-\x9f]+$"
_SOURCE_PATH = r"^[^/\\\x00-\x1f\x7f-\x9f][^\\\x00-\x1f\x7f-\x9f]*$"
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the error is reported, located, by the loader instead


@functools.lru_cache(maxsize=1024)
def compile_exclude(pattern: str) -> Any:
    """An exclude_lines pattern compiled by RE2 (linear time); ValueError says why it cannot be."""
    try:
        compiled = re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(
            f"regular expression {excerpt(pattern)} cannot be used: {one_line(str(reason), 80)} "
            "(exclude_lines use RE2 syntax, which runs in linear time: no backreferences, "
            "lookahead or lookbehind)"
        ) from exc
    if compiled.programsize > MAX_EXCLUDE_COMPLEXITY:
        raise ValueError(
            f"regular expression {excerpt(pattern)} is too complex (RE2 program size "
            f"{compiled.programsize}; the limit is {MAX_EXCLUDE_COMPLEXITY} for all of a "
            "brief's exclude_lines together)"
        )
    return compiled


@functools.lru_cache(maxsize=1024)
def compile_excludes(patterns: tuple[str, ...]) -> Any:
    """All of a brief's exclude_lines as one RE2 pattern: a line matching any is excluded.

    One search per line however many patterns; the patterns' combined program size is bounded,
    and RE2's time is linear in the line times that size, so a source text is filtered in
    bounded time (under a second for 1 MiB, worst case).
    """
    for pattern in patterns:
        compile_exclude(pattern)  # names the pattern that cannot be used
    return compile_exclude("|".join(f"(?:{p})" for p in patterns))


def _valid_pattern(pattern: str) -> str:
    compile_exclude(pattern)
    return pattern


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000, pattern=NO_CONTROLS),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=NO_CONTROLS),
]
Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


def _resolve_topic(name: str, info: ValidationInfo) -> str:
    """Map a topic name or alias to its vocabulary id (when a vocabulary is in context)."""
    vocabulary = (info.context or {}).get("vocabulary")
    if vocabulary is None:
        return name
    topic = vocabulary.resolve(name)
    if topic is None:
        raise ValueError(
            f"unknown topic {excerpt(name)}; add it to topics.yaml or use one of: "
            + ", ".join(vocabulary.suggest(name))
        )
    return str(topic.id)


def _resolve_topics(
    names: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
) -> tuple[str, ...]:
    """Resolve topic names to vocabulary ids, dropping repeats; one call for the whole list."""
    context = info.context
    # Fast path: every name is an id, label or alias exactly as the vocabulary writes it.
    # (An empty list goes the full way: it must meet the field's min_length, if any.)
    if context is not None and names and type(names) in (list, tuple):
        exact = context.get("topic_ids")
        if exact is None and context.get("vocabulary") is not None:
            exact = context["vocabulary"].exact_names()
        if exact is not None:
            try:
                return tuple(dict.fromkeys(map(exact.__getitem__, names)))
            except (KeyError, TypeError):
                pass
    # Anything else (untrimmed, differently cased, unknown, not a list) takes the per-item
    # path, which gives the same result, or an error located at the item.
    resolved: tuple[str, ...] = handler(names)
    return tuple(dict.fromkeys(resolved))


# Topics named in a brief, resolved against the shared vocabulary while loading.
Topics = Annotated[
    tuple[Annotated[ShortText, AfterValidator(_resolve_topic)], ...],
    WrapValidator(_resolve_topics),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class DateStatus(StrEnum):
    """How sure the brief is of its date."""

    STATED = "stated"  # the source gives the date
    INFERRED = "inferred"  # worked out from clues in the source; `basis` says how
    UNKNOWN = "unknown"  # no date can be given


class BriefDate(_Frozen):
    """The date a story happened, and how we know it."""

    value: dt.date | None = None
    status: DateStatus
    basis: ShortText | None = None

    @model_validator(mode="after")
    def _consistent(self) -> BriefDate:
        if self.status is DateStatus.UNKNOWN and self.value is not None:
            raise ValueError("a date with status 'unknown' must not have a value")
        if self.status is not DateStatus.UNKNOWN and self.value is None:
            raise ValueError(f"a date with status '{self.status}' needs a value")
        if self.status is DateStatus.INFERRED and not self.basis:
            raise ValueError("an inferred date needs a 'basis' saying how it was inferred")
        return self


class Source(_Frozen):
    """Where the story came from. Unknown outlet or URL stay null: never guessed."""

    outlet: ShortText | None = None
    url: Annotated[str, StringConstraints(pattern=_URL)] | None = None
    headline: ShortText | None = None
    # Path of the shipped source text, relative to the briefs directory.
    text: Annotated[str, StringConstraints(pattern=_SOURCE_PATH)] | None = None
    # Lines of the source text that are not its content (e.g. "Also Read | …" links).
    # Quotes are never grounded in them. RE2 syntax (see compile_exclude).
    exclude_lines: Annotated[
        tuple[
            Annotated[
                str,
                StringConstraints(max_length=MAX_PATTERN_CHARS),
                AfterValidator(_valid_pattern),
            ],
            ...,
        ],
        Field(max_length=MAX_EXCLUDE_PATTERNS),
    ] = ()

    @field_validator("exclude_lines")
    @classmethod
    def _valid_together(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        if patterns:
            try:
                compile_excludes(patterns)
            except ValueError:
                raise ValueError(
                    f"these {len(patterns)} patterns are too complex together (the limit is "
                    f"{MAX_EXCLUDE_COMPLEXITY} for a brief's exclude_lines, as RE2 counts "
                    "program size); merge or simplify them"
                ) from None
        return patterns


class Person(_Frozen):
    """Someone who appears in the story."""

    # Names are autocomplete values, which Discord caps at 100 characters.
    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_CONTROLS),
    ]
    aliases: tuple[ShortText, ...] = ()
    role: ShortText | None = None


class Organisation(_Frozen):
    """A body that speaks or claims in the story: a ministry, a newspaper, a company."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    aliases: tuple[ShortText, ...] = ()
    role: ShortText | None = None  # what it is, as the source states it


class Unnamed(_Frozen):
    """A speaker the source describes but does not name; never given a borrowed name."""

    unnamed: ShortText  # the source's own description: "a Singapore-based spokesman for Google"


# Whose words: the canonical name of a person or organisation of the brief, or an unnamed one.
SpeakerRef = ShortText | Unnamed


def _name_of(ref: SpeakerRef) -> str | None:
    return ref if isinstance(ref, str) else None


def _shown(ref: SpeakerRef) -> str:
    return ref if isinstance(ref, str) else ref.unnamed


class KeyPoint(_Frozen):
    """One key point of the story."""

    text: Text
    topics: Topics = ()


class QuoteKind(StrEnum):
    """Whether the text is the whole quotation or a fragment of it."""

    FULL = "full"
    PARTIAL = "partial"


class Quote(_Frozen):
    """A direct quotation, verbatim, with the person who said it."""

    speaker: SpeakerRef  # canonical name of a person or organisation, or {unnamed: …}
    text: Text
    context: ShortText  # where and how it was said
    kind: QuoteKind = QuoteKind.FULL
    topics: Topics = ()

    @property
    def speaker_name(self) -> str | None:
        """The speaker's canonical name; None for an unnamed speaker."""
        return _name_of(self.speaker)

    @property
    def said_by(self) -> str:
        """Who said it, for display: the name, or the source's description if unnamed."""
        return _shown(self.speaker)


class Figure(_Frozen):
    """A number as the source states it."""

    value: ShortText  # verbatim from the source, e.g. "$6-8 trillion"
    description: ShortText


class Claim(_Frozen):
    """Something a person asserted, with any figures it carries."""

    claimant: SpeakerRef  # canonical name of a person or organisation, or {unnamed: …}
    text: Text
    context: ShortText | None = None
    figures: tuple[Figure, ...] = ()
    topics: Topics = ()

    @property
    def claimant_name(self) -> str | None:
        """The claimant's canonical name; None for an unnamed claimant."""
        return _name_of(self.claimant)

    @property
    def claimed_by(self) -> str:
        """Who claimed it, for display: the name, or the source's description if unnamed."""
        return _shown(self.claimant)


class Brief(_Frozen):
    """One news story, as an analyst recorded it."""

    id: Identifier
    title: ShortText
    date: BriefDate
    source: Source
    summary: Text
    key_points: tuple[KeyPoint, ...] = Field(min_length=1)
    people: tuple[Person, ...] = ()
    organisations: tuple[Organisation, ...] = ()
    quotes: tuple[Quote, ...] = ()
    claims: tuple[Claim, ...] = ()
    topics: Topics = Field(min_length=1)

    @model_validator(mode="after")
    def _people_are_known(self) -> Brief:
        everyone: tuple[Person | Organisation, ...] = (*self.people, *self.organisations)
        names = {p.name for p in everyone}
        seen: set[str] = set()
        for who in everyone:
            for label in (who.name, *who.aliases):
                key = label.casefold()
                if key in seen:
                    where = "people" if not self.organisations else "people and organisations"
                    raise ValueError(f"name or alias {excerpt(label)} is used twice in {where}")
                seen.add(key)
        for i, quote in enumerate(self.quotes):
            name = quote.speaker_name
            if name is not None and name not in names:
                raise ValueError(_unknown_person("quotes", i, "speaker", name, names))
        for i, claim in enumerate(self.claims):
            name = claim.claimant_name
            if name is not None and name not in names:
                raise ValueError(_unknown_person("claims", i, "claimant", name, names))
        return self

    def person(self, name: str) -> Person:
        """The person with this canonical name."""
        for person in self.people:
            if person.name == name:
                return person
        raise KeyError(name)


def _unknown_person(section: str, index: int, field: str, name: str, names: set[str]) -> str:
    # The closest names first, a few of them: an error quotes only short excerpts.
    close = difflib.get_close_matches(name, names, n=KNOWN_SHOWN, cutoff=0.5)
    shown = list(dict.fromkeys([*close, *sorted(names)]))[:KNOWN_SHOWN]
    known = ", ".join(one_line(n, 40) for n in shown) or "none"
    if len(names) > len(shown):
        known += f" and {len(names) - len(shown)} more"
    return (
        f"{section}.{index}.{field}: {excerpt(name)} is not the canonical name of anyone in "
        f"people (known: {known}) or organisations; an unnamed speaker is written {{unnamed: …}}"
    )


class Topic(_Frozen):
    """One entry of the shared topic vocabulary."""

    id: Identifier
    label: ShortText
    aliases: tuple[ShortText, ...] = ()
    description: ShortText | None = None


class Vocabulary(_Frozen):
    """The shared topic vocabulary every brief draws on."""

    topics: tuple[Topic, ...] = Field(min_length=1)

    _index: dict[str, Topic] = PrivateAttr(default_factory=dict)
    # Each id, label and alias exactly as written, with its topic's id: most names in a brief
    # are written exactly so, and need no folding.
    _exact: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique(self) -> Vocabulary:
        index: dict[str, Topic] = {}
        exact: dict[str, str] = {}
        for topic in self.topics:
            for label in (topic.id, topic.label, *topic.aliases):
                key = fold(label)
                if key in index and index[key].id != topic.id:
                    raise ValueError(
                        f"{excerpt(label)} names both topic {index[key].id!r} and topic "
                        f"{topic.id!r}"
                    )
                index[key] = topic
                exact[label] = topic.id
        self._index = index
        self._exact = exact
        return self

    def exact_names(self) -> dict[str, str]:
        """Each id, label and alias exactly as written, with its topic's id."""
        return self._exact

    def resolve(self, name: str) -> Topic | None:
        """The topic with this id, label or alias (case-insensitive), if any."""
        topic_id = self._exact.get(name)
        if topic_id is not None:
            return self._index[topic_id]
        return self._index.get(fold(name))

    def labels(self) -> dict[str, Topic]:
        """Every folded id, label and alias, with its topic."""
        return dict(self._index)

    def suggest(self, name: str, limit: int = 5) -> list[str]:
        """Topic ids that look like `name`, best first (all ids when nothing is close)."""
        close = difflib.get_close_matches(fold(name), list(self._index), n=limit * 3, cutoff=0.6)
        ids = list(dict.fromkeys(self._index[c].id for c in close))[:limit]
        return ids or [t.id for t in self.topics][:limit]


# A brief's place in the newest-first order every list uses: (date, id), greatest first. An
# undated brief counts as dated `NO_DATE`, older than any dated one. The library sorts by it,
# and a digest's archive cutoff is one.
OrderKey = tuple[dt.date, str]
NO_DATE = dt.date.min


def order_key(brief: Brief) -> OrderKey:
    """The brief's place in newest-first order (sort descending by it)."""
    return (brief.date.value or NO_DATE, brief.id)
