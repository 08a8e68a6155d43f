"""Brief files → validated briefs: read, parse, validate, ground every quote; plainly.

A broken file never stops the others, and every error names file, line and field
(`bot.briefs.errors`). The speed-ups (event parser, worker processes, validated cache, shared
field sets, collector pause) live in `bot.briefs.fast`; this module reads as the steps.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.briefs import fast
from bot.briefs.errors import (
    MAX_FILE_BYTES,
    BriefFileError,
    LoadError,
    locate,
    parse_located,
    read_text,
    validation_errors,
)
from bot.briefs.excerpt import excerpt, one_line
from bot.briefs.fast import FileOutcome, Stamp, stat_pair
from bot.briefs.files import BriefsFolder, FileRefused, iter_brief_paths
from bot.briefs.models import Brief, Vocabulary, compile_excludes

log = logging.getLogger(__name__)

VOCABULARY_FILE = "topics.yaml"
SOURCES_DIR = "sources"

_CURLY = (("“", '"'), ("”", '"'), ("„", '"'), ("‘", "'"), ("’", "'"), ("‚", "'"))


@dataclass(frozen=True, slots=True)
class LoadedBrief:
    """A valid brief and the file it came from."""

    brief: Brief
    path: Path
    # (mtime_ns, size) of the file, the vocabulary and the source text when it was loaded:
    # an unchanged stamp lets a reload reuse the brief without parsing it again.
    stamp: Stamp = ()


def file_stamp(path: Path, root: Path, source_text: str | None) -> Stamp:
    """What must be unchanged for a loaded brief to still be valid."""
    # String paths here and in _Run: taken for every file on every reload (a measured hot
    # path, docs/benchmarks.md), where building Path objects costs more than the stat.
    top = str(root)
    stamps = [stat_pair(str(path)), stat_pair(os.path.join(top, VOCABULARY_FILE))]  # noqa: PTH118
    if source_text:
        stamps.append(stat_pair(os.path.join(top, source_text)))  # noqa: PTH118
    return tuple(stamps)


def normalise_quote_text(text: str) -> str:
    """Fold curly quote marks to straight ones and runs of whitespace to one space."""
    if not text.isascii():
        for curly, straight in _CURLY:
            text = text.replace(curly, straight)
    return " ".join(text.split())


def load_vocabulary(path: Path) -> Vocabulary:
    """Load the shared topic vocabulary; raises BriefFileError."""
    text = read_text(path)
    try:
        return Vocabulary.model_validate(fast.parse_fast(text))
    except Exception:  # noqa: BLE001 - the full path below decides, and names the error
        log.debug("%s: taking the full path", path)
    data, node = parse_located(path, text)
    try:
        return Vocabulary.model_validate(data)
    except ValidationError as exc:
        raise BriefFileError(validation_errors(path, node, exc)) from exc


@dataclass(slots=True)
class _Run:
    """What loading one directory settles once rather than per file."""

    root: Path
    vocabulary: Vocabulary
    context: dict[str, Any]
    # The vocabulary's (mtime_ns, size), taken once before it was read: what reused briefs'
    # stamps are compared with.
    vocabulary_stamp: tuple[int, int] = (-1, -1)
    folder: BriefsFolder | None = None

    @classmethod
    def of(
        cls, root: Path, vocabulary: Vocabulary, vocabulary_stamp: tuple[int, int] = (-1, -1)
    ) -> _Run:
        """The settings for loading briefs under `root` against `vocabulary`."""
        context = {"vocabulary": vocabulary, "topic_ids": vocabulary.exact_names()}
        return cls(root, vocabulary, context, vocabulary_stamp, BriefsFolder(root))

    def unchanged(self, stamp: Stamp, path: Path, source_text: str | None) -> bool:
        """Whether a brief stamped `stamp` still matches its file, vocabulary and source."""
        if len(stamp) != (3 if source_text else 2) or stamp[1] != self.vocabulary_stamp:
            return False
        if stamp[0] != stat_pair(str(path)):
            return False
        source = os.path.join(self.top, source_text) if source_text else None  # noqa: PTH118
        return source is None or stamp[2] == stat_pair(source)

    @property
    def top(self) -> str:
        """The root as a string, for joining paths cheaply."""
        return str(self.root)


def _load_one(path: Path, run: _Run) -> Brief:
    text = read_text(path)
    fast = _load_fast(text, run)
    if fast is not None:
        return fast
    data, node = parse_located(path, text)
    if not isinstance(data, dict):
        raise BriefFileError([LoadError(path, "a brief must be a YAML mapping of fields", line=1)])
    try:
        brief = Brief.model_validate(data, context=run.context)
    except ValidationError as exc:
        raise BriefFileError(validation_errors(path, node, exc)) from exc
    if brief.source.text is not None:
        errors = _ground(path, node, brief, run)
        if errors:
            raise BriefFileError(errors)
    return brief


def _load_fast(text: str, run: _Run) -> Brief | None:
    """Events → dict → model → grounding check; None on any doubt or failure.

    The full path then loads the file again, building the node tree that locates errors.
    """
    try:
        brief = Brief.model_validate(fast.parse_fast(text), context=run.context)
        if brief.source.text is None or _grounding(brief, run) == (None, []):
            return brief
    except Exception:  # noqa: BLE001 - the full path decides, and names the error
        return None
    return None


Missing = list[tuple[tuple[int | str, ...], str, str]]


def _grounding(brief: Brief, run: _Run) -> tuple[str | None, Missing]:
    """A problem with the source text itself, or the quotes and figures not found in it."""
    assert brief.source.text is not None and run.folder is not None
    # The one safe reader: contained, regular files only, at most 1 MiB whatever stat says.
    try:
        text = run.folder.read(run.folder.resolve(brief.source.text), MAX_FILE_BYTES).decode()
    except FileRefused as exc:
        if exc.outside:
            return "source text must lie inside the briefs directory", []
        if exc.too_large:
            return "source text is larger than 1 MiB", []
        return f"cannot read source text {one_line(brief.source.text)}: {exc.reason}", []
    except UnicodeDecodeError as exc:
        shown = one_line(brief.source.text)
        return f"cannot read source text {shown}: not valid UTF-8 ({exc.reason})", []
    if brief.source.exclude_lines:
        # RE2: linear time, whatever the pattern (validation refused what RE2 cannot run).
        search = compile_excludes(brief.source.exclude_lines).search
        text = "\n".join(ln for ln in text.splitlines() if not search(ln))
    # (Without exclusions, joining the lines again would change only whitespace, which
    # normalising folds away.)
    body = normalise_quote_text(text)
    missing = [
        (loc, needle, what)
        for loc, needle, what in _grounded_texts(brief)
        if normalise_quote_text(needle) not in body
    ]
    return None, missing


def _ground(path: Path, node: yaml.Node | None, brief: Brief, run: _Run) -> list[LoadError]:
    """Every quote and figure must stand verbatim in the brief's own source text."""
    problem, missing = _grounding(brief, run)
    if problem is not None:
        field_node = locate(node, ("source", "text"))
        line = field_node.start_mark.line + 1 if field_node is not None else None
        return [LoadError(path, problem, "source.text", line)]
    errors = []
    source = one_line(brief.source.text or "")
    for loc, needle, what in missing:
        target = locate(node, loc)
        errors.append(
            LoadError(
                path,
                f"{what} {excerpt(needle)} does not appear verbatim in {source}",
                ".".join(str(p) for p in loc),
                target.start_mark.line + 1 if target is not None else None,
            )
        )
    return errors


def _grounded_texts(brief: Brief) -> Iterator[tuple[tuple[int | str, ...], str, str]]:
    for i, quote in enumerate(brief.quotes):
        yield ("quotes", i, "text"), quote.text, f"quote by {one_line(quote.said_by)}"
    for i, claim in enumerate(brief.claims):
        for j, figure in enumerate(claim.figures):
            yield ("claims", i, "figures", j, "value"), figure.value, "figure"


@dataclass(frozen=True, slots=True)
class LoadReport:
    """The result of loading a directory: the good briefs, and every error."""

    vocabulary: Vocabulary | None
    briefs: tuple[LoadedBrief, ...]
    errors: tuple[LoadError, ...]


def brief_files(root: Path) -> list[Path]:
    """The brief files of a directory, in a stable order; raises FileRefused (see files.py)."""
    return iter_brief_paths(root)


def _load_file(path: Path, run: _Run) -> FileOutcome:
    """Load one file and stamp it (an empty stamp if it changed while being loaded)."""
    # Stamp first: an edit landing mid-load then shows up as changed next time.
    stamp_now = file_stamp(path, run.root, None)
    try:
        brief = _load_one(path, run)
    except BriefFileError as exc:
        return (), exc.errors
    stamp = file_stamp(path, run.root, brief.source.text)
    return (stamp if stamp[:2] == stamp_now else ()), brief


def load_directory(root: Path, previous: dict[Path, LoadedBrief] | None = None) -> LoadReport:
    """Load every brief under `root`; a broken file never stops the others.

    With `previous` (the last good brief of each file), a file that fails keeps its last good
    version live, so a broken edit does not take a brief away from users. (The bot keeps its
    briefs in the on-disk index, `bot.briefs.index`, which calls the same per-file loader.)
    """
    with fast.gc_paused():
        return _load_directory(root, previous or {})


def _load_directory(root: Path, previous: dict[Path, LoadedBrief]) -> LoadReport:
    if not root.is_dir():
        return LoadReport(None, (), (LoadError(root, "briefs directory does not exist"),))
    vocabulary_stamp = stat_pair(str(root / VOCABULARY_FILE))
    try:
        vocabulary = load_vocabulary(root / VOCABULARY_FILE)
    except BriefFileError as exc:
        # Every brief's topics resolve against the vocabulary: without it none can be checked.
        # Say so once, rather than failing each brief (the library keeps what it had).
        note = LoadError(root, f"no brief can load until {VOCABULARY_FILE} loads")
        return LoadReport(None, (), (*exc.errors, note))
    run = _Run.of(root, vocabulary, vocabulary_stamp)
    try:
        paths = brief_files(root)
    except FileRefused as exc:
        # No vocabulary in the report: a running bot keeps the briefs it has (load_library).
        return LoadReport(None, (), (LoadError(root, exc.reason),))
    outcomes: dict[Path, LoadedBrief | list[LoadError]] = {}
    pending: dict[str, Path] = {}
    for path in paths:
        before = previous.get(path)
        if before is not None and run.unchanged(before.stamp, path, before.brief.source.text):
            outcomes[path] = before
        else:
            pending[path.name] = path
    todo = [path for path in pending.values() if path not in outcomes]
    # `_load_file` is looked up per load, so a test can watch which files get parsed.
    load = functools.partial(_load_file, run=run)
    for path, (stamp, result) in fast.load_files(todo, load, run.context):
        outcomes[path] = LoadedBrief(result, path, stamp) if isinstance(result, Brief) else result
    loaded, errors, _live = _assemble(paths, outcomes, previous)
    return LoadReport(vocabulary, tuple(loaded), tuple(errors))


def _assemble(
    paths: list[Path],
    outcomes: dict[Path, LoadedBrief | list[LoadError]],
    previous: dict[Path, LoadedBrief],
) -> tuple[list[LoadedBrief], list[LoadError], list[LoadedBrief]]:
    """The live briefs in file order (a broken file keeps its last good brief), every error,
    and the briefs loaded from the files as they are now; a duplicate id is an error."""
    loaded: list[LoadedBrief] = []
    errors: list[LoadError] = []
    by_id: dict[str, Path] = {}
    live: list[LoadedBrief] = []
    for path in paths:
        outcome = outcomes[path]
        if isinstance(outcome, list):
            errors.extend(outcome)
            kept = previous.get(path)
            if kept is None:
                continue
            log.warning("keeping the last good version of %s live", path)
            item = kept
        else:
            item = outcome
            live.append(item)
        first = by_id.get(item.brief.id)
        if first is not None:
            errors.append(
                LoadError(path, f"duplicate id {item.brief.id!r}: already used by {first}", "id")
            )
            continue
        by_id[item.brief.id] = path
        loaded.append(item)
    return loaded, errors, live
