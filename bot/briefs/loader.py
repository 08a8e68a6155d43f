"""Safe loading of brief files: YAML → validated models, with errors that name file, line, field."""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import logging
import multiprocessing
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic import ValidationError
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

from bot.briefs import models
from bot.briefs.excerpt import clip, escape_controls, excerpt
from bot.briefs.files import BriefsFolder, FileRefused, iter_brief_paths
from bot.briefs.models import Brief, Vocabulary, compile_excludes

log = logging.getLogger(__name__)

try:  # The C parser is several times faster; fall back to pure Python where libyaml is missing.
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_FILE_BYTES = 1024 * 1024
# A brief is a few hundred nodes; these bounds stop alias bombs and pathological nesting
# long before they cost memory or time.
MAX_NODES = 100_000
MAX_DEPTH = 40
VOCABULARY_FILE = "topics.yaml"
SOURCES_DIR = "sources"
# Past this many files to parse, the work is spread over worker processes (one per core).
PARALLEL_MIN_FILES = 500
CACHE_FORMAT = "briefbot-validated-cache/1"

_CURLY = (("“", '"'), ("”", '"'), ("„", '"'), ("‘", "'"), ("’", "'"), ("‚", "'"))
# The longest YAML problem phrase quoted: it may hold a tag or alias name from the file.
_PROBLEM_WIDTH = 100
_FIELD_PREFIX = re.compile(r"^([A-Za-z_]\w*(?:\.\w+)*): (.*)$", re.DOTALL)
_T = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ = _T + "str", _T + "map", _T + "seq"
# Plain scalars the fast path builds (through the loader's own constructors); any other tag
# (merge keys, explicit tags, Python objects…) sends the file down the full path.
_PLAIN_TAGS = frozenset({_T + "null", _T + "bool", _T + "int", _T + "float", _T + "timestamp"})
_STANDARD_CONSTRUCTORS = {
    tag: _BaseLoader.yaml_constructors[tag] for tag in (_STR, _MAP, _SEQ, *_PLAIN_TAGS)
}


@dataclass(frozen=True, slots=True)
class LoadError:
    """One problem in one file, located as precisely as the file allows."""

    path: Path
    message: str
    field: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        # Escaped here too (defence in depth): an error is printed to terminals and logs.
        return escape_controls(f"{where}: {self.field or '(file)'}: {self.message}")


class BriefFileError(Exception):
    """A file could not be loaded; carries every error found in it."""

    def __init__(self, errors: list[LoadError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class LoadedBrief:
    """A valid brief and the file it came from."""

    brief: Brief
    path: Path
    # (mtime_ns, size) of the file, the vocabulary and the source text when it was loaded:
    # an unchanged stamp lets a reload reuse the brief without parsing it again.
    stamp: tuple[tuple[int, int], ...] = ()


Stamp = tuple[tuple[int, int], ...]


def _stat_pair(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return (-1, -1)
    return (st.st_mtime_ns, st.st_size)


def file_stamp(path: Path, root: Path, source_text: str | None) -> Stamp:
    """What must be unchanged for a loaded brief to still be valid."""
    top = str(root)
    stamps = [_stat_pair(str(path)), _stat_pair(os.path.join(top, VOCABULARY_FILE))]
    if source_text:
        stamps.append(_stat_pair(os.path.join(top, source_text)))
    return tuple(stamps)


def normalise_quote_text(text: str) -> str:
    """Fold curly quote marks to straight ones and runs of whitespace to one space."""
    if not text.isascii():
        for curly, straight in _CURLY:
            text = text.replace(curly, straight)
    return " ".join(text.split())


def _read_text(path: Path) -> str:
    """The file's text, refusing unsafe (see files.py), oversize, binary and non-UTF-8 files."""
    try:
        raw = BriefsFolder(path.parent).read(path, MAX_FILE_BYTES)
    except FileRefused as exc:
        raise BriefFileError([LoadError(path, exc.reason)]) from exc
    if b"\x00" in raw:
        raise BriefFileError([LoadError(path, "binary file (contains NUL bytes), not YAML")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise BriefFileError(
            [LoadError(path, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})", line=line)]
        ) from exc


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Read one YAML file safely, returning its data and node tree (for locating errors)."""
    return _parse_located(path, _read_text(path))


def _parse_located(path: Path, text: str) -> tuple[Any, yaml.Node | None]:
    """The full parse: node tree, shape checks, SafeConstructor; every error located."""
    loader = _BaseLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_shape(path, node)
        try:
            return loader.construct_document(node), node
        except (ValueError, OverflowError) as exc:  # e.g. the date 2026-02-30
            bad = _unreadable_scalar(loader, node)
            if bad is None:
                raise BriefFileError(
                    [LoadError(path, f"YAML error: {clip(str(exc), _PROBLEM_WIDTH)}")]
                ) from exc
            why = clip(str(exc), _PROBLEM_WIDTH)
            message = f"YAML error: {excerpt(bad.value)} is not a valid value ({why})"
            line = bad.start_mark.line + 1
            raise BriefFileError([LoadError(path, message, line=line)]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # Never str(exc): PyYAML's message quotes the offending line. Problem and context are
        # short phrases, but may quote a tag or alias of any length: clipped.
        problem = clip(exc.problem or "cannot parse", _PROBLEM_WIDTH)
        if exc.context:
            started = f" (started on line {exc.context_mark.line + 1})" if exc.context_mark else ""
            problem = f"{clip(exc.context, _PROBLEM_WIDTH)}{started}: {problem}"
        raise BriefFileError(
            [
                LoadError(
                    path,
                    f"YAML syntax error: {problem}",
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
            ]
        ) from exc
    except yaml.YAMLError as exc:
        raise BriefFileError(
            [LoadError(path, f"YAML error: {clip(str(exc), _PROBLEM_WIDTH)}")]
        ) from exc
    finally:
        loader.dispose()


def _unreadable_scalar(loader: Any, root: yaml.Node) -> yaml.Node | None:
    """The first scalar whose value cannot be built (a shape-checked tree: bounded)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            build = loader.yaml_constructors.get(node.tag)
            try:
                if build is not None:
                    build(loader, node)
            except (ValueError, OverflowError):
                return node
        elif isinstance(node, yaml.MappingNode):
            stack.extend(child for pair in reversed(node.value) for child in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return None


class _Fallback(Exception):
    """The fast path cannot vouch for this file; the full, located path decides."""


# The resolver table as imported: plain scalars known to resolve to str under it are
# remembered (short ones, a bounded number), so repeated keys and values skip the regexes.
_IMPLICIT = {first: list(rules) for first, rules in _BaseLoader.yaml_implicit_resolvers.items()}
_PLAIN_STR: set[str] = set()
_PLAIN_STR_MAX = 100_000


def _fast_path_usable() -> bool:
    """Whether the loader class is still configured as the fast path assumes (no plug-ins)."""
    loader = _BaseLoader
    return (
        not loader.yaml_path_resolvers
        and loader.yaml_implicit_resolvers == _IMPLICIT
        and all(loader.yaml_constructors.get(t) is c for t, c in _STANDARD_CONSTRUCTORS.items())
    )


def _parse_fast(text: str) -> dict[str, Any]:
    """Build a mapping straight from parser events; raise _Fallback unless the file is plain.

    Plain means: one document whose root is a mapping, string keys, no anchors, aliases or
    explicit tags, no duplicate keys, within the depth and node bounds, and scalars that
    resolve to str, null, bool, int, float or timestamp. For such a file the result equals what
    the full path (node tree, shape checks, SafeConstructor) builds; anything else, valid or
    not, is left to the full path, so behaviour and error messages are unchanged.
    """
    if not _fast_path_usable():
        raise _Fallback
    implicit, plain_str = _IMPLICIT, _PLAIN_STR
    loader = _BaseLoader(text)
    try:
        get: Callable[[], Any] = loader.get_event  # events are typed loosely: read as Any
        if type(get()) is not StreamStartEvent or type(get()) is not DocumentStartEvent:
            raise _Fallback
        event = get()
        if (
            type(event) is not MappingStartEvent
            or event.anchor is not None
            or event.tag is not None
        ):
            raise _Fallback
        root: dict[str, Any] = {}
        current: Any = root  # the container being filled
        in_list = False  # whether `current` is a list
        key: str | None = None  # a mapping's key waiting for its value
        stack: list[Any] = []  # the enclosing containers of `current`
        nodes = 1
        while True:
            event = get()
            kind = type(event)
            nodes += 1
            if kind is ScalarEvent:
                if event.anchor is not None or event.tag is not None:
                    raise _Fallback
                value: Any = event.value
                if event.implicit[0] and value not in plain_str:
                    # Plain: resolve as the loader's resolver would.
                    for tag, regexp in implicit.get(value[:1], ()):
                        if regexp.match(value):
                            if tag not in _PLAIN_TAGS:
                                raise _Fallback  # e.g. a merge key
                            value = loader.construct_object(yaml.ScalarNode(tag, value))
                            break
                    else:
                        if len(value) <= 64 and len(plain_str) < _PLAIN_STR_MAX:
                            plain_str.add(value)
                if in_list:
                    current.append(value)
                elif key is None:
                    if type(value) is not str:
                        raise _Fallback  # a key that is not a string
                    key = value
                elif key in current:
                    raise _Fallback  # a duplicate key: the full path names both lines
                else:
                    current[key] = value
                    key = None
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.anchor is not None or event.tag is not None:
                    raise _Fallback
                value = {} if kind is MappingStartEvent else []
                if in_list:
                    current.append(value)
                elif key is None or key in current:
                    raise _Fallback  # a collection as a key, or a duplicate key
                else:
                    current[key] = value
                    key = None
                stack.append(current)
                # Conservative: a collection this deep may hold nodes past the limit.
                if len(stack) >= MAX_DEPTH - 1:
                    raise _Fallback
                current = value
                in_list = kind is SequenceStartEvent
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                if key is not None:
                    raise _Fallback
                if not stack:
                    break
                current = stack.pop()
                in_list = type(current) is list
            else:  # an alias, or anything unexpected
                raise _Fallback
        if nodes > MAX_NODES:
            raise _Fallback
        if type(get()) is not DocumentEndEvent or type(get()) is not StreamEndEvent:
            raise _Fallback
        return root
    except yaml.YAMLError as exc:
        raise _Fallback from exc  # the full path reports it, located
    finally:
        loader.dispose()


def _check_shape(path: Path, root: yaml.Node) -> None:
    """Refuse duplicate keys, deep nesting and alias expansion beyond sane bounds."""
    visits = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        visits += 1
        if visits > MAX_NODES:
            raise BriefFileError(
                [
                    LoadError(
                        path,
                        f"document expands to more than {MAX_NODES:,} nodes "
                        "(YAML anchors/aliases used as a bomb?)",
                    )
                ]
            )
        if depth > MAX_DEPTH:
            raise BriefFileError(
                [
                    LoadError(
                        path,
                        f"nesting deeper than {MAX_DEPTH} levels",
                        line=node.start_mark.line + 1,
                    )
                ]
            )
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise BriefFileError(
                            [
                                LoadError(
                                    path,
                                    f"duplicate key {excerpt(str(key.value))} "
                                    f"(first on line {seen[key.value]})",
                                    field=clip(str(key.value), 40),
                                    line=key.start_mark.line + 1,
                                    column=key.start_mark.column + 1,
                                )
                            ]
                        )
                    seen[key.value] = key.start_mark.line + 1
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)


def _locate(node: yaml.Node | None, loc: tuple[int | str, ...]) -> yaml.Node | None:
    """The deepest node along a pydantic error location."""
    found = node
    for part in loc:
        if isinstance(found, yaml.MappingNode):
            nxt = next((v for k, v in found.value if str(k.value) == str(part)), None)
        elif isinstance(found, yaml.SequenceNode) and isinstance(part, int):
            nxt = found.value[part] if 0 <= part < len(found.value) else None
        else:
            nxt = None
        if nxt is None:
            break
        found = nxt
    return found


def _validation_errors(path: Path, node: yaml.Node | None, exc: ValidationError) -> list[LoadError]:
    errors = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "string_pattern_mismatch" and isinstance(err["input"], str):
            message = models.pattern_message(err["input"], message)
        # Cross-field checks run on the whole model; they name their field as "a.0.b: message".
        match = _FIELD_PREFIX.match(message)
        if match and not loc:
            loc = tuple(int(p) if p.isdigit() else p for p in match.group(1).split("."))
            message = match.group(2)
        target = _locate(node, loc)
        errors.append(
            LoadError(
                path,
                message,
                # A location may hold a key from the file (an unknown field): kept short.
                field=".".join(clip(str(p), 40) for p in loc) or None,
                line=target.start_mark.line + 1 if target is not None else None,
                column=target.start_mark.column + 1 if target is not None else None,
            )
        )
    return errors


def load_vocabulary(path: Path) -> Vocabulary:
    """Load the shared topic vocabulary; raises BriefFileError."""
    text = _read_text(path)
    try:
        return Vocabulary.model_validate(_parse_fast(text))
    except Exception:  # noqa: BLE001 - the full path below decides, and names the error
        log.debug("%s: taking the full path", path)
    data, node = _parse_located(path, text)
    try:
        return Vocabulary.model_validate(data)
    except ValidationError as exc:
        raise BriefFileError(_validation_errors(path, node, exc)) from exc


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
        if stamp[0] != _stat_pair(str(path)):
            return False
        return not source_text or stamp[2] == _stat_pair(os.path.join(self.top, source_text))

    @property
    def top(self) -> str:
        """The root as a string, for joining paths cheaply."""
        return str(self.root)


def load_brief(path: Path, vocabulary: Vocabulary, root: Path) -> Brief:
    """Load, validate and ground one brief file; raises BriefFileError."""
    return _load_brief(path, _Run.of(root, vocabulary))


def _load_brief(path: Path, run: _Run) -> Brief:
    text = _read_text(path)
    fast = _load_fast(text, run)
    if fast is not None:
        return fast
    data, node = _parse_located(path, text)
    if not isinstance(data, dict):
        raise BriefFileError([LoadError(path, "a brief must be a YAML mapping of fields", line=1)])
    try:
        brief = Brief.model_validate(data, context=run.context)
    except ValidationError as exc:
        raise BriefFileError(_validation_errors(path, node, exc)) from exc
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
        brief = Brief.model_validate(_parse_fast(text), context=run.context)
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
        return f"cannot read source text {clip(brief.source.text)}: {exc.reason}", []
    except UnicodeDecodeError as exc:
        return (
            f"cannot read source text {clip(brief.source.text)}: not valid UTF-8 ({exc.reason})",
            [],
        )
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
        field_node = _locate(node, ("source", "text"))
        line = field_node.start_mark.line + 1 if field_node is not None else None
        return [LoadError(path, problem, "source.text", line)]
    errors = []
    source = clip(brief.source.text or "")
    for loc, needle, what in missing:
        target = _locate(node, loc)
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
        yield ("quotes", i, "text"), quote.text, f"quote by {clip(quote.speaker)}"
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


# -- one file, in this process or a worker ---------------------------------------------------

# A file's outcome: its stamp, and the brief or the errors that stopped it.
Outcome = tuple[Stamp, Brief | list[LoadError]]


def _load_file(path: Path, run: _Run) -> Outcome:
    """Load one file and stamp it (an empty stamp if it changed while being loaded)."""
    # Stamp first: an edit landing mid-load then shows up as changed next time.
    stamp_now = file_stamp(path, run.root, None)
    try:
        brief = _load_brief(path, run)
    except BriefFileError as exc:
        return (), exc.errors
    stamp = file_stamp(path, run.root, brief.source.text)
    return (stamp if stamp[:2] == stamp_now else ()), _compact(brief)


# One set object per distinct set of field names, shared by every model that has it.
_FIELD_SETS: dict[frozenset[str], set[str]] = {}


def _compact(brief: Brief) -> Brief:
    """Let the brief's models share their `__pydantic_fields_set__` sets, and return it.

    Pydantic gives every model instance its own set of the names of the fields it was given:
    24 sets per brief, 200-400 bytes each, the largest single part of a loaded brief. They
    only ever hold a few combinations of names, and on frozen models nothing changes them in
    place (model_copy copies first), so one set per combination serves them all.
    """
    shared = _FIELD_SETS
    models: list[Any] = [brief, brief.date, brief.source, *brief.key_points, *brief.people]
    models += brief.quotes
    for claim in brief.claims:
        models.append(claim)
        models += claim.figures
    for model in models:
        fields = model.__pydantic_fields_set__
        key = frozenset(fields)
        common = shared.get(key)
        if common is None:
            shared[key] = fields
        elif common is not fields:
            object.__setattr__(model, "__pydantic_fields_set__", common)
    return brief


_worker_run: _Run | None = None


def _start_worker(root: Path, vocabulary: Vocabulary) -> None:
    global _worker_run
    _worker_run = _Run.of(root, vocabulary)
    gc.enable()  # a forked worker inherits the parent's paused collector; it builds nothing lasting


def _load_in_worker(paths: Sequence[Path]) -> list[tuple[Stamp, bytes | list[LoadError]]]:
    """Load a batch of files; valid briefs travel back as JSON (validated again on arrival)."""
    assert _worker_run is not None
    out: list[tuple[Stamp, bytes | list[LoadError]]] = []
    for path in paths:
        stamp, result = _load_file(path, _worker_run)
        if isinstance(result, Brief):
            out.append((stamp, result.__pydantic_serializer__.to_json(result)))
        else:
            out.append((stamp, result))
    return out


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _fork_context() -> multiprocessing.context.BaseContext | None:
    """Forking for workers, where it is safe: on Linux, while this process runs one thread.

    Forked workers start at once with everything imported. With other threads running (a
    reload in the bot's worker thread) a fork could inherit a lock held forever, and spawning
    would import the host's main module again; such loads stay in this process.
    """
    if sys.platform != "linux" or threading.active_count() != 1:
        return None
    return multiprocessing.get_context("fork")


def _load_files(paths: list[Path], run: _Run) -> Iterator[tuple[Path, Outcome]]:
    """Load files in order: in worker processes when there are many, else here."""
    workers = min(_cores(), 8)
    context = _fork_context()
    if len(paths) < PARALLEL_MIN_FILES or workers < 2 or context is None:
        for path in paths:
            yield path, _load_file(path, run)
        return
    batch = max(16, min(256, len(paths) // (workers * 8)))
    batches = [paths[i : i + batch] for i in range(0, len(paths), batch)]
    with ProcessPoolExecutor(
        workers, context, initializer=_start_worker, initargs=(run.root, run.vocabulary)
    ) as pool:
        for chunk, results in zip(batches, pool.map(_load_in_worker, batches), strict=True):
            for path, (stamp, result) in zip(chunk, results, strict=True):
                if not isinstance(result, bytes):
                    yield path, (stamp, result)
                    continue
                try:
                    # The same models validate the worker's brief again here: what arrives
                    # is data, never trusted objects.
                    brief = _compact(Brief.model_validate_json(result, context=run.context))
                except ValidationError:  # pragma: no cover - a round trip never fails
                    log.warning("loading %s again here: its worker result did not validate", path)
                    yield path, _load_file(path, run)
                    continue
                yield path, (stamp, brief)


# -- the validated cache ---------------------------------------------------------------------


@functools.cache
def _code_fingerprint() -> str | None:
    """What the cache's validity depends on besides the files: this code and its libraries."""
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    for module_file in (__file__, models.__file__):
        try:
            digest.update(Path(str(module_file)).read_bytes())
        except OSError:
            return None
    for version in (pydantic.VERSION, yaml.__version__):
        digest.update(version.encode())
    return digest.hexdigest()


def _cache_header(root: Path) -> dict[str, Any] | None:
    fingerprint = _code_fingerprint()
    if fingerprint is None:
        return None
    return {"format": CACHE_FORMAT, "code": fingerprint, "root": str(root.resolve())}


def _read_cache(
    cache: Path, run: _Run, wanted: dict[str, Path]
) -> tuple[dict[Path, LoadedBrief], dict[str, Stamp]]:
    """Cached briefs for the wanted files whose stamps still match, and every stamp it holds.

    The cache is read line by line and only matching entries are validated (fully, by the same
    models). A cache for other code or another directory, or a corrupt one, reads as empty.
    """
    header = _cache_header(run.root)
    hits: dict[Path, LoadedBrief] = {}
    held: dict[str, Stamp] = {}
    try:
        with cache.open("rb") as lines:
            try:
                found = json.loads(lines.readline(64 * 1024))
            except ValueError:
                found = None
            if header is None or found != header:
                log.info("ignoring brief cache %s: made for other code or another folder", cache)
                return {}, {}
            for number, line in enumerate(lines, start=2):
                try:
                    meta, data = line.rstrip(b"\n").split(b"\t", 1)
                    info = json.loads(meta)
                    name, source = info["name"], info["source"]
                    stamp = tuple((int(m), int(s)) for m, s in info["stamp"])
                    if not isinstance(name, str) or not isinstance(source, str | None):
                        raise TypeError("name or source is not a string")
                except (ValueError, TypeError, KeyError) as exc:
                    log.warning(
                        "ignoring brief cache %s: line %d is corrupt (%s)", cache, number, exc
                    )
                    return {}, {}
                held[name] = stamp
                path = wanted.get(name)
                if path is None or not run.unchanged(stamp, path, source):
                    continue
                try:
                    brief = _compact(Brief.model_validate_json(data, context=run.context))
                except ValidationError:
                    log.warning("ignoring the cached copy of %s: it does not validate", path)
                    continue
                if brief.source.text == source:
                    hits[path] = LoadedBrief(brief, path, stamp)
    except FileNotFoundError:
        return {}, {}
    except OSError as exc:
        log.warning("ignoring brief cache %s: %s", cache, exc)
        return {}, {}
    return hits, held


def _write_cache(cache: Path, root: Path, live: list[LoadedBrief], held: dict[str, Stamp]) -> None:
    """Rewrite the cache atomically if it should hold other briefs than it does."""
    wanted = {lb.path.name: lb for lb in live if lb.stamp}
    if held == {name: lb.stamp for name, lb in wanted.items()}:
        return
    header = _cache_header(root)
    if header is None:
        return
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as out:
            out.write(json.dumps(header).encode() + b"\n")
            for name, lb in wanted.items():
                meta = {"name": name, "source": lb.brief.source.text, "stamp": lb.stamp}
                data = lb.brief.__pydantic_serializer__.to_json(lb.brief)
                out.write(json.dumps(meta).encode() + b"\t" + data + b"\n")
        os.replace(tmp, cache)
    except OSError as exc:
        log.warning("could not write brief cache %s: %s", cache, exc)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


# -- a directory ------------------------------------------------------------------------------


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while building many long-lived objects.

    A bulk load allocates a million objects that all survive; collections during it would walk
    them again and again (a third of the load), and left in the young generation they would be
    walked by the next few collections after it. So collection pauses (refcounting still frees
    garbage; only cycles wait), and afterwards everything moves to the oldest generation
    unwalked (a freeze and unfreeze), unless the process keeps frozen objects of its own.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def load_directory(
    root: Path, previous: dict[Path, LoadedBrief] | None = None, cache: Path | None = None
) -> LoadReport:
    """Load every brief under `root`; a broken file never stops the others.

    With `previous` (the last good brief of each file), a file that fails keeps its last good
    version live, so a broken edit does not take a brief away from users. With `cache` (a file
    path), validated briefs are also kept on disk and reused on the next start for every file
    whose own, vocabulary and source stamps are unchanged; files always win over the cache.
    """
    with gc_paused():
        return _load_directory(root, previous or {}, cache)


def _load_directory(
    root: Path, previous: dict[Path, LoadedBrief], cache: Path | None
) -> LoadReport:
    if not root.is_dir():
        return LoadReport(None, (), (LoadError(root, "briefs directory does not exist"),))
    vocabulary_stamp = _stat_pair(str(root / VOCABULARY_FILE))
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
    held: dict[str, Stamp] = {}
    if cache is not None:
        hits, held = _read_cache(cache, run, pending)
        outcomes.update(hits)
    todo = [path for path in pending.values() if path not in outcomes]
    for path, (stamp, result) in _load_files(todo, run):
        outcomes[path] = LoadedBrief(result, path, stamp) if isinstance(result, Brief) else result
    loaded: list[LoadedBrief] = []
    errors: list[LoadError] = []
    by_id: dict[str, Path] = {}
    live: list[LoadedBrief] = []  # briefs loaded from the files as they are now
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
    if cache is not None:
        _write_cache(cache, root, live, held)
    return LoadReport(vocabulary, tuple(loaded), tuple(errors))
