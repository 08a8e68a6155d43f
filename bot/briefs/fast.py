"""The loader's performance tricks, each measured (numbers in docs/benchmarks.md).

The plain loader (`bot.briefs.loader`) would be correct without any of them; each keeps its
result identical, and says what it buys:

* `parse_fast` builds a file's data straight from libyaml's events, without a node tree; a
  file it cannot vouch for goes down the full, located path (`bot.briefs.errors`), so errors
  keep their line and field. Parsing is ~60 % of a cold load. tests/briefs/test_fast_path.py
  shows it builds what the full path builds.
* `load_files` parses and validates in forked worker processes past `PARALLEL_MIN_FILES`
  files (10k briefs cold: 9.7 s in one process, 5.9 s on two cores); what they send back is
  validated again here. tests/briefs/test_fast_path.py shows they load what one process loads.
* `map_in_workers` runs any per-file task in forked workers, a few batches in flight: the
  index's build (`bot.briefs.index`) validates each brief and turns it into rows there, once,
  so the main process only writes rows (10k briefs: 3.4 CPU s in the main process, was 8.6).
* The validated cache that once lived here (`BRIEFBOT_BRIEF_CACHE`) is replaced by the
  on-disk index (`bot.briefs.index`), which keys what it stores by `_code_fingerprint`.
* `gc_paused` holds off the cyclic collector during a bulk load whose objects all survive.

Process-wide state, on purpose: `_PLAIN_STR` (plain scalars known to resolve to str, bounded).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import gc
import hashlib
import itertools
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

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

from bot.briefs.errors import MAX_DEPTH, MAX_NODES, LoadError, SafeLoader
from bot.briefs.models import Brief

log = logging.getLogger(__name__)

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")

# Past this many files to parse, the work is spread over worker processes (one per core).
PARALLEL_MIN_FILES = 500
CODE_FORMAT = "briefbot-validated/1"
# The modules stored briefs depend on, besides pydantic's and PyYAML's versions.
_CACHE_CODE = ("errors.py", "excerpt.py", "fast.py", "files.py", "loader.py", "models.py")

_T = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ = _T + "str", _T + "map", _T + "seq"
# Plain scalars the fast path builds (through the loader's own constructors); any other tag
# (merge keys, explicit tags, Python objects…) sends the file down the full path.
_PLAIN_TAGS = frozenset({_T + "null", _T + "bool", _T + "int", _T + "float", _T + "timestamp"})
_STANDARD_CONSTRUCTORS = {
    tag: SafeLoader.yaml_constructors[tag] for tag in (_STR, _MAP, _SEQ, *_PLAIN_TAGS)
}

# (mtime_ns, size) of a brief's file, of the vocabulary and of its source text when it was
# loaded: an unchanged stamp lets a reload (or the cache) reuse the brief without parsing it.
Stamp = tuple[tuple[int, int], ...]
# One file's result: its stamp (empty if it changed while loading), and the brief or its errors.
FileOutcome = tuple[Stamp, Brief | list[LoadError]]


def stat_pair(path: str) -> tuple[int, int]:
    """A file's (mtime_ns, size), or (-1, -1) when it cannot be read."""
    try:
        # Measured hot path: a str path costs less than a Path per file and per reload.
        st = os.stat(path)  # noqa: PTH116 - see the line above
    except (OSError, ValueError):
        return (-1, -1)
    return (st.st_mtime_ns, st.st_size)


# -- the event-stream parser -----------------------------------------------------------------


class Fallback(Exception):
    """The fast path cannot vouch for this file; the full, located path decides."""


# The resolver table as imported: plain scalars known to resolve to str under it are
# remembered (short ones, a bounded number), so repeated keys and values skip the regexes.
_IMPLICIT = {first: list(rules) for first, rules in SafeLoader.yaml_implicit_resolvers.items()}
_PLAIN_STR: set[str] = set()
_PLAIN_STR_MAX = 100_000


def _fast_path_usable() -> bool:
    """Whether the loader class is still configured as the fast path assumes (no plug-ins)."""
    loader = SafeLoader
    return (
        not loader.yaml_path_resolvers
        and loader.yaml_implicit_resolvers == _IMPLICIT
        and all(loader.yaml_constructors.get(t) is c for t, c in _STANDARD_CONSTRUCTORS.items())
    )


# One loop over every event of every file, calls inlined: a measured hot path.
def parse_fast(text: str) -> dict[str, Any]:  # noqa: PLR0912, PLR0915 - see above
    """Build a mapping straight from parser events; raise Fallback unless the file is plain.

    Plain means: one document whose root is a mapping, string keys, no anchors, aliases or
    explicit tags, no duplicate keys, within the depth and node bounds, and scalars that
    resolve to str, null, bool, int, float or timestamp. For such a file the result equals what
    the full path (node tree, shape checks, SafeConstructor) builds; anything else, valid or
    not, is left to the full path, so behaviour and error messages are unchanged.
    """
    if not _fast_path_usable():
        raise Fallback
    implicit, plain_str = _IMPLICIT, _PLAIN_STR
    loader = SafeLoader(text)
    try:
        get: Callable[[], Any] = loader.get_event  # events are typed loosely: read as Any
        if type(get()) is not StreamStartEvent or type(get()) is not DocumentStartEvent:
            raise Fallback
        event = get()
        if (
            type(event) is not MappingStartEvent
            or event.anchor is not None
            or event.tag is not None
        ):
            raise Fallback
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
                    raise Fallback
                value: Any = event.value
                if event.implicit[0] and value not in plain_str:
                    # Plain: resolve as the loader's resolver would.
                    for tag, regexp in implicit.get(value[:1], ()):
                        if regexp.match(value):
                            if tag not in _PLAIN_TAGS:
                                raise Fallback  # e.g. a merge key
                            value = loader.construct_object(yaml.ScalarNode(tag, value))
                            break
                    else:
                        if len(value) <= 64 and len(plain_str) < _PLAIN_STR_MAX:
                            plain_str.add(value)
                if in_list:
                    current.append(value)
                elif key is None:
                    if type(value) is not str:
                        raise Fallback  # a key that is not a string
                    key = value
                elif key in current:
                    raise Fallback  # a duplicate key: the full path names both lines
                else:
                    current[key] = value
                    key = None
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.anchor is not None or event.tag is not None:
                    raise Fallback
                value = {} if kind is MappingStartEvent else []
                if in_list:
                    current.append(value)
                elif key is None or key in current:
                    raise Fallback  # a collection as a key, or a duplicate key
                else:
                    current[key] = value
                    key = None
                stack.append(current)
                # Conservative: a collection this deep may hold nodes past the limit.
                if len(stack) >= MAX_DEPTH - 1:
                    raise Fallback
                current = value
                in_list = kind is SequenceStartEvent
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                if key is not None:
                    raise Fallback
                if not stack:
                    break
                current = stack.pop()
                in_list = type(current) is list
            else:  # an alias, or anything unexpected
                raise Fallback
        if nodes > MAX_NODES:
            raise Fallback
        if type(get()) is not DocumentEndEvent or type(get()) is not StreamEndEvent:
            raise Fallback
        return root
    except yaml.YAMLError as exc:
        raise Fallback from exc  # the full path reports it, located
    finally:
        loader.dispose()


# -- worker processes -------------------------------------------------------------------------

# This worker process's file loader, set by its initializer (empty in the main process).
_WORKER: list[Callable[[Path], FileOutcome]] = []


def _start_worker(load: Callable[[Path], FileOutcome]) -> None:
    _WORKER[:] = [load]
    gc.enable()  # a forked worker inherits the parent's paused collector; it builds nothing lasting


def _load_in_worker(paths: Sequence[Path]) -> list[tuple[Stamp, bytes | list[LoadError]]]:
    """Load a batch of files; valid briefs travel back as JSON (validated again on arrival)."""
    load = _WORKER[0]
    out: list[tuple[Stamp, bytes | list[LoadError]]] = []
    for path in paths:
        stamp, result = load(path)
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


def load_files(
    paths: list[Path], load: Callable[[Path], FileOutcome], context: dict[str, Any]
) -> Iterator[tuple[Path, FileOutcome]]:
    """Load files in order with `load`: in worker processes when there are many, else here.

    Workers are forked, never spawned, so `load` reaches them as it is; `context` is the
    validation context their briefs are validated with again on arrival.
    """
    workers = min(_cores(), 8)
    fork = _fork_context()
    if len(paths) < PARALLEL_MIN_FILES or workers < 2 or fork is None:
        for path in paths:
            yield path, load(path)
        return
    batch = max(16, min(256, len(paths) // (workers * 8)))
    batches = [paths[i : i + batch] for i in range(0, len(paths), batch)]
    with ProcessPoolExecutor(workers, fork, initializer=_start_worker, initargs=(load,)) as pool:
        for chunk, results in zip(batches, pool.map(_load_in_worker, batches), strict=True):
            for path, (stamp, result) in zip(chunk, results, strict=True):
                if not isinstance(result, bytes):
                    yield path, (stamp, result)
                    continue
                try:
                    # The same models validate the worker's brief again here: what arrives
                    # is data, never trusted objects.
                    brief = Brief.model_validate_json(result, context=context)
                except ValidationError:  # pragma: no cover - a round trip never fails
                    log.warning("loading %s again here: its worker result did not validate", path)
                    yield path, load(path)
                    continue
                yield path, (stamp, brief)


# This worker process's task, set by its initializer (empty in the main process).
_TASK: list[Callable[[Any], Any]] = []
# Batches of work a pool holds at once per worker: enough to keep every worker busy, few
# enough that results never pile up (pool.map queued every result: 554 MB at 100k briefs).
_IN_FLIGHT = 4


def _start_task(task: Callable[[Any], Any]) -> None:
    _TASK[:] = [task]
    gc.enable()  # a forked worker inherits the parent's paused collector


def _run_batch(items: Sequence[Any]) -> list[Any]:
    task = _TASK[0]
    return [task(item) for item in items]


def map_in_workers(
    items: Sequence[_Item], task: Callable[[_Item], _Result], *, parallel: bool = True
) -> Iterator[_Result]:
    """`task(item)` for each item, in order: in forked worker processes past
    `PARALLEL_MIN_FILES` items (one per core), else here.

    What a task returns must be plain data (it is pickled back). At most a few batches per
    worker are in flight, so results are consumed as they come instead of queueing up.
    """
    workers = min(_cores(), 8)
    fork = _fork_context() if parallel else None
    if len(items) < PARALLEL_MIN_FILES or workers < 2 or fork is None:
        yield from map(task, items)
        return
    batch = max(16, min(128, len(items) // (workers * 16)))
    batches = (items[i : i + batch] for i in range(0, len(items), batch))
    with ProcessPoolExecutor(workers, fork, initializer=_start_task, initargs=(task,)) as pool:
        pending = collections.deque(
            pool.submit(_run_batch, b) for b in itertools.islice(batches, workers * _IN_FLIGHT)
        )
        while pending:
            done = pending.popleft().result()
            following = next(batches, None)
            if following is not None:
                pending.append(pool.submit(_run_batch, following))
            yield from done


# -- what stored results depend on ----------------------------------------------------------


@functools.cache
def _code_fingerprint() -> str | None:
    """What stored briefs depend on besides the files: this code and its libraries."""
    digest = hashlib.sha256(CODE_FORMAT.encode())
    here = Path(__file__).parent
    for name in _CACHE_CODE:
        try:
            digest.update((here / name).read_bytes())
        except OSError:
            return None
    for version in (pydantic.VERSION, yaml.__version__):
        digest.update(version.encode())
    return digest.hexdigest()


# -- the garbage collector ------------------------------------------------------------------


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
