"""The on-disk brief index: the validated briefs in SQLite, kept in step with the YAML files.

The YAML files stay the source of truth; this file is derived data (delete it and it is built
again). A sync parses only the files whose size, mtime or content hash changed (a rename is
found by its hash and costs no parse), and writes the validated brief (its JSON) with the rows
the commands read: briefs, people and speakers, per-topic entries, quotes, claims and key
points, brief labels, and FTS5 over titles, summaries, key points, quotes and claims.

A full check lists both folders and compares a fingerprint of every (name, size, mtime) with
the last one (plus the in-place edits a watcher synced since): unchanged, no row is read. A
first build parses in worker processes that hand back ready rows (`_prepare`), written many
briefs per statement (`_Writer`), with indexes and full text built once at the end.

A brief that fails validation is never written; a file whose edit breaks keeps its last good
brief. A corrupt, truncated, foreign or newer-schema index is rebuilt from the files with one
log line; a locked one is waited on. WAL mode lets the bot and `briefbot ask` share it. Every
SQL statement about briefs lives here (tests/test_architecture.py).
"""

from __future__ import annotations

import array
import bisect
import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from bot.briefs import fast, links
from bot.briefs.errors import MAX_FILE_BYTES, BriefFileError, LoadError
from bot.briefs.files import BriefsFolder, FileRefused
from bot.briefs.links import canonical_url
from bot.briefs.loader import (
    SOURCES_DIR,
    VOCABULARY_FILE,
    _load_file,
    _Run,
    load_vocabulary,
)
from bot.briefs.models import NO_DATE, Brief, BriefDate, Organisation, Person, Vocabulary
from bot.text import fold

log = logging.getLogger(__name__)

INDEX_FILE = "briefs.index.sqlite3"
SCHEMA_VERSION = 3
# How long a sync waits for another process's write (the bot and `briefbot ask` share the file).
BUSY_TIMEOUT_S = 30.0
# Past this many files to parse in one sync, full text is rebuilt once at the end.
BULK_FILES = 2000
# From this many briefs, a full check lists the sources folder in a child process, beside the
# briefs folder here (each costs ~0.25 s of stats at 100k files).
FORK_SCAN_MIN = 20_000
# At most this many files edited by a watcher are noted beside the last full check (above, the
# next full check compares every row).
MAX_SCAN_PATCH = 100
# The page cache of a first build (KiB): the default 2 MB spilled pages to the log constantly.
BUILD_CACHE_KB = 256 * 1024
# A search ranks (BM25) at most this many matches; a broader one shows the most recently
# indexed matches. BM25 counts every row of each word first: a word in half the entries cost
# ~25 ms at 100k briefs, a phrase of two 200 ms (docs/benchmarks.md).
RANKED = 2000
# A search is stopped after this long (it holds the event loop), and SQLite checks the time
# every this many of its steps.
SEARCH_SECONDS = 1.0
_PROGRESS_STEPS = 10_000
_TOP = chr(0x10FFFF)
# How much of a brief label key its substring lookup matches with trigrams (the rest is checked).
_GRAMS_LOOKED_UP = 16
# A did-you-mean ranks brief labels by the rarest _GRAMS_RANKED of the key's three-letter
# pieces, each counted up to _GRAM_COUNTED labels.
_GRAMS_RANKED = 4
_GRAM_COUNTED = 300
_WORD = re.compile(r"\w+")
# The three-letter pieces a did-you-mean looks up: letters, digits, spaces, common punctuation.
_GRAM = re.compile(r"[\w ,.:'()&/+-]{3}")

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files(
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, hash TEXT NOT NULL,
    source TEXT, source_stamp TEXT, brief_id TEXT, errors TEXT);
CREATE INDEX files_hash ON files(hash);
CREATE TABLE seen(id TEXT PRIMARY KEY, first_seen TEXT NOT NULL);
CREATE TABLE briefs(
    num INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, path TEXT NOT NULL, title TEXT NOT NULL,
    sort_date TEXT NOT NULL, date TEXT NOT NULL, summary TEXT NOT NULL,
    quote_count INTEGER NOT NULL, json TEXT NOT NULL, source_key TEXT);
CREATE INDEX briefs_order ON briefs(sort_date DESC, id DESC);
-- source_key: the source link as a dedupe key (bot.briefs.links), so a feed asks "published?"
-- with one lookup.
CREATE INDEX briefs_source ON briefs(source_key) WHERE source_key IS NOT NULL;
-- kind: 'person' or 'organisation' (found alike, but an organisation has no surname).
CREATE TABLE people(
    num INTEGER NOT NULL, name TEXT NOT NULL, aliases TEXT NOT NULL, role TEXT,
    kind TEXT NOT NULL);
CREATE INDEX people_name ON people(name);
CREATE INDEX people_num ON people(num);
CREATE TABLE speakers(
    name TEXT PRIMARY KEY, role TEXT, quote_count INTEGER NOT NULL, labels TEXT NOT NULL,
    kind TEXT NOT NULL);
-- speaker: the canonical name of whoever said or claimed it; unnamed: the source's
-- description of a speaker it does not name (speaker is then NULL: never looked up by name).
-- sort_date: the brief's. tags (computed, not stored): one full-text token per filter a
-- search can carry, so a filtered search is one MATCH that ranks only the filtered rows:
-- s<hex of the speaker>, y<year>, m<year><month>, d<year><month><day>, and t<topic id> for
-- each topic (ids are [a-z0-9-]: q is written qq and - qx, so every id is one token).
CREATE TABLE entries(
    rowid INTEGER PRIMARY KEY, num INTEGER NOT NULL, kind TEXT NOT NULL, ord INTEGER NOT NULL,
    body TEXT NOT NULL, speaker TEXT, context TEXT, extra TEXT, topics TEXT NOT NULL,
    unnamed TEXT, sort_date TEXT NOT NULL,
    tags TEXT GENERATED ALWAYS AS (
        CASE WHEN speaker IS NULL THEN '' ELSE 's' || hex(speaker) || ' ' END
        || 'y' || substr(sort_date, 1, 4)
        || ' m' || substr(sort_date, 1, 4) || substr(sort_date, 6, 2)
        || ' d' || replace(sort_date, '-', '')
        || CASE WHEN topics = '' THEN ''
           ELSE ' t' || replace(replace(replace(topics, 'q', 'qq'), '-', 'qx'), ' ', ' t') END
    ) VIRTUAL);
CREATE INDEX entries_num ON entries(num);
CREATE INDEX entries_speaker ON entries(speaker, kind) WHERE speaker IS NOT NULL;
CREATE TABLE topic_entries(
    topic TEXT NOT NULL, kind TEXT NOT NULL, sort_date TEXT NOT NULL, brief_id TEXT NOT NULL,
    entry INTEGER, num INTEGER NOT NULL);
CREATE INDEX topic_entries_topic ON topic_entries(topic, kind, sort_date DESC, brief_id DESC);
CREATE INDEX topic_entries_num ON topic_entries(num);
CREATE TABLE mentions(
    name TEXT NOT NULL, sort_date TEXT NOT NULL, brief_id TEXT NOT NULL, entry INTEGER NOT NULL,
    num INTEGER NOT NULL);
CREATE INDEX mentions_name ON mentions(name, sort_date DESC, brief_id DESC);
CREATE INDEX mentions_num ON mentions(num);
CREATE TABLE topic_usage(topic TEXT PRIMARY KEY, uses INTEGER NOT NULL);
CREATE TABLE brief_labels(rowid INTEGER PRIMARY KEY, label TEXT NOT NULL, brief_id TEXT NOT NULL,
    num INTEGER NOT NULL);
CREATE INDEX brief_labels_label ON brief_labels(label, brief_id);
CREATE INDEX brief_labels_num ON brief_labels(num);
CREATE VIRTUAL TABLE search USING fts5(
    body, tags, content='entries', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2');
-- Only the body is ranked: the tags filter, they never score.
INSERT INTO search(search, rank) VALUES ('rank', 'bm25(1.0, 0.0)');
CREATE VIRTUAL TABLE label_grams USING fts5(
    label, content='brief_labels', content_rowid='rowid', tokenize='trigram');
"""
# The full-text tables follow their content tables through these; a bulk build drops them and
# rebuilds the full-text tables once at the end (several times quicker than row by row).
_TRIGGERS = """
CREATE TRIGGER entries_ai AFTER INSERT ON entries BEGIN
    INSERT INTO search(rowid, body, tags) VALUES (new.rowid, new.body, new.tags); END;
CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN
    INSERT INTO search(search, rowid, body, tags)
    VALUES ('delete', old.rowid, old.body, old.tags); END;
CREATE TRIGGER brief_labels_ai AFTER INSERT ON brief_labels BEGIN
    INSERT INTO label_grams(rowid, label) VALUES (new.rowid, new.label); END;
CREATE TRIGGER brief_labels_ad AFTER DELETE ON brief_labels BEGIN
    INSERT INTO label_grams(label_grams, rowid, label) VALUES ('delete', old.rowid, old.label);
END;
"""

# The per-brief tables a brief's rows live in (all keyed by `num`).
_BRIEF_TABLES = ("people", "entries", "topic_entries", "mentions", "brief_labels")


class IndexBusy(Exception):
    """Another process holds the index's write lock for longer than we wait."""


class IndexUnusable(Exception):
    """The index file cannot be used as it is (corrupt, truncated, foreign or newer)."""


class IndexDamaged(Exception):
    """A read found the index damaged (a page of random bytes, say, that opening it did not
    read): discard it (`BriefIndex.discard`) and build it again from the files."""


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync changed, and what is broken now."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    parsed: int = 0
    rebuilt: bool = False


@dataclass(slots=True)
class _Changes:
    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    speakers: set[str] = field(default_factory=set)


# What a sync looks at: the scanned stamps, the names to look at, the names gone, their files
# rows, and the fingerprint of a full check (None for a watcher's names).
_Found = tuple[
    dict[str, tuple[int, int]], list[str], list[str], dict[str, tuple[Any, ...]], str | None
]


@functools.cache
def _code_version() -> str:
    """What the stored rows depend on besides the files: the models, loader and this module."""
    digest = hashlib.sha256(f"schema {SCHEMA_VERSION}".encode())
    digest.update((fast._code_fingerprint() or "unknown").encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(Path(links.__file__).read_bytes())  # the stored source keys
    return digest.hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    # WAL with NORMAL sync stays consistent after a crash (it may lose the last sync: the
    # files are still there, and the next sync redoes it).
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _sort_date(date: BriefDate) -> str:
    return (date.value or NO_DATE).isoformat()


def person_labels(person: Person | Organisation) -> set[str]:
    """Every folded name, alias and surname that finds a person (an organisation: no surname)."""
    labels = {fold(n) for n in (person.name, *person.aliases)}
    if isinstance(person, Person):  # people type surnames: "Dar", "Rubio"
        labels.add(fold(person.name.split()[-1]))
    return labels


def _mentions(brief: Brief) -> Iterator[tuple[int, str]]:
    """(quote index, name) for each quote that names a person of the brief it is not by."""
    checks = []
    # Organisations are named in quotes like people: "the ministry said…" is about it.
    everyone: tuple[Person | Organisation, ...] = (*brief.people, *brief.organisations)
    for person in everyone:
        for label in (person.name, *person.aliases):
            words = frozenset(_WORD.findall(label.casefold()))
            checks.append((max(words, key=len, default=""), person.name, words))
    for i, quote in enumerate(brief.quotes):
        text = quote.text.casefold()
        said: set[str] | None = None
        named: set[str] = set()
        for longest, name, words in checks:
            if name in named or name == quote.speaker_name or longest not in text:
                continue
            if said is None:
                said = set(_WORD.findall(text))
            # Whole words only: "Dar" must not match "standard".
            if words <= said:
                named.add(name)
                yield i, name


def _statements(script: str) -> Iterator[str]:
    """The statements of a script, one by one (executescript would commit our transaction)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""


def _count_uses(conn: sqlite3.Connection, topics: list[str], sign: int) -> None:
    """Add (or take away) one use of each topic: usage is read at every start, so kept."""
    uses: dict[str, int] = {}
    for topic in topics:
        uses[topic] = uses.get(topic, 0) + sign
    conn.executemany(
        "INSERT INTO topic_usage VALUES (?, ?) "
        "ON CONFLICT(topic) DO UPDATE SET uses = uses + excluded.uses",
        uses.items(),
    )
    conn.execute("DELETE FROM topic_usage WHERE uses <= 0")


def _topics(ids: Iterable[str]) -> str:
    return " ".join(ids)


_BRIEF_SUFFIXES = (".yaml", ".yml")


def is_brief_name(name: str) -> bool:
    """Whether a file name in the briefs folder names a brief file."""
    return not name.startswith(".") and name != VOCABULARY_FILE and name.endswith(_BRIEF_SUFFIXES)


def _fingerprint(briefs: bytes, sources: bytes | None) -> str:
    """A digest of the brief files' and the source texts' listing digests."""
    digest = hashlib.sha256(briefs)
    digest.update(sources if sources is not None else b"no sources")
    return digest.hexdigest()


def _unpatched(listing: _Listing, patch: dict[str, list[int]]) -> _Listing | None:
    """The listing as the last full check saw it, before a watcher's edits (each [size, mtime
    before, size, mtime after]; -1, -1 before: a file added, taken out again); None when a
    file differs from what the watcher synced (changed since: the rows must be compared)."""
    if not patch:
        return listing
    names = list(listing.names)
    sizes, mtimes = array.array("q", listing.sizes), array.array("q", listing.mtimes)
    for name, (size, mtime, size_now, mtime_now) in patch.items():
        try:
            at = names.index(name)
        except ValueError:
            return None
        if (sizes[at], mtimes[at]) != (size_now, mtime_now):
            return None
        if (size, mtime) == (-1, -1):
            # Added since: the folder lists the others in the same order (else the digests
            # differ, and the rows are compared).
            del names[at], sizes[at], mtimes[at]
        else:
            sizes[at], mtimes[at] = size, mtime
    return _Listing(names, sizes, mtimes)


def _forking_allowed() -> bool:
    """Whether a child process may be forked here: Linux, and this process runs one thread (a
    fork beside other threads could inherit a lock held forever)."""
    return sys.platform == "linux" and threading.active_count() == 1


def _sources_fingerprint(
    folder: str, *, forked: bool
) -> Callable[[], tuple[bytes | None, _Listing | None]]:
    """Start listing the sources folder; the returned call waits for (its fingerprint, its
    listing), both None when it cannot be listed. `forked`: in a child process, where that is
    safe (the listing then stays there: only the fingerprint comes back)."""
    if not forked or not _forking_allowed():
        try:
            listing = _list_folder(folder, briefs=False)
        except OSError:
            return lambda: (None, None)
        return lambda: (listing.fingerprint(), listing)
    wait = _in_child(lambda: _list_folder(folder, briefs=False).fingerprint())
    return lambda: (wait(), None)


def _in_child(digest: Callable[[], bytes]) -> Callable[[], bytes | None]:
    """Run `digest` in a forked child; the returned call waits for what it returned (None if
    it failed: the caller then does the work itself)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, and leave without any cleanup
        try:
            os.close(read)
            with contextlib.suppress(Exception):  # nothing sent: the parent sees a failure
                os.write(write, digest())
        finally:
            os._exit(0)
    os.close(write)

    def wait() -> bytes | None:
        try:
            with os.fdopen(read, "rb") as pipe:
                sent = pipe.read()
        finally:
            os.waitpid(pid, 0)
        return sent or None

    return wait


@dataclass(frozen=True, slots=True)
class _Listing:
    """The files of one folder with their sizes and mtimes, in the order the folder lists them
    (numbers in arrays: 8 bytes a file, not a Python object)."""

    names: list[str]
    sizes: array.array[int]
    mtimes: array.array[int]

    def stamps(self) -> dict[str, tuple[int, int]]:
        """Each name's (size, mtime_ns)."""
        return dict(zip(self.names, zip(self.sizes, self.mtimes, strict=True), strict=True))

    def fingerprint(self) -> bytes:
        """A digest of every (name, size, mtime_ns): any edit, addition or removal changes it."""
        digest = hashlib.sha256("\0".join(self.names).encode("utf-8", "surrogateescape") + b"\1")
        digest.update(self.sizes.tobytes())
        digest.update(self.mtimes.tobytes())
        return digest.digest()


def _list_folder(folder: str, *, briefs: bool) -> _Listing:
    """One folder's files with (size, mtime_ns); `briefs`: brief files only, a dangling link
    kept (the load reports it). Raises OSError when the folder cannot be listed."""
    # Measured hot path (`briefbot ask` stats every file, docs/benchmarks.md): one listdir,
    # then stats relative to the open folder, no Path or DirEntry objects (a third quicker),
    # and no stat result kept (at 100k files they held 40 MB).
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        names = os.listdir(fd)  # noqa: PTH208 - a folder descriptor, see above
        if briefs:  # `is_brief_name`, inlined (a call per file cost 70 ms at 100k)
            names = [
                n
                for n in names
                if n.endswith(_BRIEF_SUFFIXES) and n[0] != "." and n != VOCABULARY_FILE
            ]
        sizes, mtimes = array.array("q"), array.array("q")
        stat = functools.partial(os.stat, dir_fd=fd)
        try:
            for start in range(0, len(names), 4096):  # a few stat results at a time
                stats = list(map(stat, names[start : start + 4096]))
                sizes.extend([st.st_size for st in stats])
                mtimes.extend([st.st_mtime_ns for st in stats])
        except OSError:  # a file gone since the listing, a dangling link: one at a time
            return _stat_each(fd, names, briefs=briefs)
    finally:
        os.close(fd)
    return _Listing(names, sizes, mtimes)


def _stat_each(fd: int, names: list[str], *, briefs: bool) -> _Listing:
    listing = _Listing([], array.array("q"), array.array("q"))
    for name in names:
        try:
            st = os.stat(name, dir_fd=fd)
        except OSError:
            if not briefs:
                continue
            try:
                # A dangling link or a loop: listed, so the load reports it, located.
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except OSError:
                continue
        listing.names.append(name)
        listing.sizes.append(st.st_size)
        listing.mtimes.append(st.st_mtime_ns)
    return listing


# The secondary indexes, (name, statement): a first build creates them once, at the end.
_DEFERRED_INDEXES = tuple(
    (m[2], m[1]) for m in re.finditer(r"^(CREATE INDEX (\w+) [^;]*;)", _SCHEMA, re.MULTILINE)
)


class _Rows(NamedTuple):
    """One valid brief as rows, built where it was validated (a worker, or here); entry
    numbers are positions in `entries`, made rowids when written."""

    brief: tuple[str, str, str, str, str, int, bytes, str | None]  # id, title, sort date, date,
    # summary, quote count, JSON, source key
    people: list[tuple[str, str, str | None, str]]  # name, aliases, role, kind
    labels: list[str]
    entries: list[tuple[str, int, str, str | None, str | None, str | None, str, str | None]]
    topics: list[tuple[str, str, int | None]]  # topic, kind, entry (None: the brief)
    mentions: list[tuple[str, int]]  # name, entry
    source: str | None


# One file as a worker hands it back: its name, the hash of its content (taken before it was
# read), whether it changed while read, and its rows or its errors (as stored, JSON).
_Outcome = tuple[str, str, bool, _Rows | str]


def _file_hash(folder: BriefsFolder | None, path: str) -> str:
    """The content hash of a brief file; "" for one the safe reader refuses (a FIFO, a device,
    a link out of the folder: never opened here, and reported by the load, located)."""
    if folder is None:
        return ""
    try:
        return hashlib.sha256(folder.read(path, MAX_FILE_BYTES)).hexdigest()
    except FileRefused:
        return ""


def _prepare(name: str, *, root: Path, run: _Run) -> _Outcome:
    """Hash, load and validate one file, and turn a valid brief into its rows (in a worker)."""
    path = root / name
    # Hashed first: if the file changes while read, the stored hash is the older content's,
    # so the next sync sees the difference and reads it again.
    digest = _file_hash(run.folder, str(path))
    stamp, result = _load_file(path, run)
    if isinstance(result, list):
        errors = json.dumps([[e.message, e.field, e.line, e.column] for e in result])
        return name, digest, False, errors
    return name, digest, not stamp, _brief_rows(result)


def _brief_rows(brief: Brief) -> _Rows:
    """The rows the commands read for one brief (entries: title, summary, points, quotes,
    claims; per-topic rows; quotes that name a person of the brief)."""
    brief_topics = _topics(brief.topics)
    entries: list[tuple[str, int, str, str | None, str | None, str | None, str, str | None]] = [
        ("title", 0, brief.title, None, None, None, brief_topics, None),
        ("summary", 0, brief.summary, None, None, None, brief_topics, None),
    ]
    topics: list[tuple[str, str, int | None]] = [(t, "brief", None) for t in brief.topics]
    for i, point in enumerate(brief.key_points):
        topics += [(t, "point", len(entries)) for t in point.topics]
        entries.append(("point", i, point.text, None, None, None, _topics(point.topics), None))
    quote_entries = []
    for i, quote in enumerate(brief.quotes):
        quote_entries.append(len(entries))
        topics += [(t, "quote", len(entries)) for t in quote.topics]
        named = quote.speaker_name
        entries.append(
            (
                "quote",
                i,
                quote.text,
                named,
                quote.context,
                quote.kind.value,
                _topics(quote.topics),
                None if named is not None else quote.said_by,
            )
        )
    for i, claim in enumerate(brief.claims):
        topics += [(t, "claim", len(entries)) for t in claim.topics]
        named = claim.claimant_name
        figures = json.dumps([[f.value, f.description] for f in claim.figures])
        entries.append(
            (
                "claim",
                i,
                claim.text,
                named,
                claim.context,
                figures,
                _topics(claim.topics),
                None if named is not None else claim.claimed_by,
            )
        )
    people = [(p.name, json.dumps(p.aliases), p.role, "person") for p in brief.people]
    people += [(o.name, json.dumps(o.aliases), o.role, "organisation") for o in brief.organisations]
    return _Rows(
        brief=(
            brief.id,
            brief.title,
            _sort_date(brief.date),
            brief.date.model_dump_json(),
            brief.summary,
            len(brief.quotes),
            brief.__pydantic_serializer__.to_json(brief),
            canonical_url(brief.source.url) if brief.source.url else None,
        ),
        people=people,
        labels=sorted({fold(brief.id), fold(brief.title)}),
        entries=entries,
        topics=topics,
        mentions=[(name, quote_entries[i]) for i, name in _mentions(brief)],
        source=brief.source.text,
    )


def _delete_brief(conn: sqlite3.Connection, brief_id: str, path: str, changes: _Changes) -> bool:
    """Remove a brief's rows (if this file holds it); whether it did."""
    row = conn.execute(
        "SELECT num FROM briefs WHERE id = ? AND path = ?", (brief_id, path)
    ).fetchone()
    if row is None:
        return False
    num = row[0]
    changes.speakers.update(
        r[0] for r in conn.execute("SELECT name FROM people WHERE num = ?", (num,))
    )
    used = conn.execute(
        "SELECT topic FROM topic_entries WHERE num = ? AND kind IN ('brief', 'point')", (num,)
    ).fetchall()
    _count_uses(conn, [r[0] for r in used], -1)
    for table in _BRIEF_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE num = ?", (num,))
    conn.execute("DELETE FROM briefs WHERE num = ?", (num,))
    return True


class _Writer:
    """Writes prepared files into the index, many briefs per statement.

    Brief numbers and entry rowids are given here (one past the highest), so the rows that
    point at entries are written in the same batch as the entries.
    """

    BATCH = 500

    def __init__(
        self,
        conn: sqlite3.Connection,
        root: Path,
        known: dict[str, tuple[Any, ...]],
        scanned: dict[str, tuple[int, int]],
        changes: _Changes,
        first_build: bool,
    ) -> None:
        self.conn, self.root, self.known, self.scanned = conn, root, known, scanned
        self.changes, self.first_build = changes, first_build
        self.now = _now()
        self.num = conn.execute("SELECT coalesce(max(num), 0) FROM briefs").fetchone()[0]
        self.entry = conn.execute("SELECT coalesce(max(rowid), 0) FROM entries").fetchone()[0]
        # The brief ids written by this sync, and their files (not yet in the table).
        self.claimed: dict[str, str] = {}
        self.tables: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _WRITES}
        self.uses: dict[str, int] = {}
        self.pending = 0

    def add(self, outcome: _Outcome, source_stamp: Callable[[str], str]) -> None:
        """Write one file's outcome (in the next batch)."""
        name, digest, moved, result = outcome
        size, mtime = self.scanned[name]
        if moved:
            mtime = -1  # changed while read: looked at again by the next sync
        old = self.known.get(name)
        old_id = old[5] if old is not None else None
        files = self.tables["files"]
        if isinstance(result, str):
            if old_id is not None:
                log.warning("keeping the last good version of %s live", self.root / name)
            source, stamp = (old[3], old[4]) if old is not None else (None, None)
            files.append((name, size, mtime, digest, source, stamp, old_id, result))
            return
        brief_id = result.brief[0]
        holder = self.claimed.get(brief_id)
        if holder is None and not self.first_build:
            row = self.conn.execute("SELECT path FROM briefs WHERE id = ?", (brief_id,))
            holder = next((r[0] for r in row), None)
        if holder is not None and holder != name:
            message = f"duplicate id {brief_id!r}: already used by {self.root / holder}"
            errors = json.dumps([[message, "id", None, None]])
            files.append((name, size, mtime, digest, None, None, old_id, errors))
            return
        if old_id is not None:
            _delete_brief(self.conn, old_id, name, self.changes)
            (self.changes.updated if old_id == brief_id else self.changes.removed).add(old_id)
        if old_id != brief_id:
            self.changes.added.add(brief_id)
        self.claimed[brief_id] = name
        seen_at = self.now
        if self.first_build:
            # A first build meets a whole archive: each brief was first seen when its file
            # was written, not now (else every old brief would look new to a digest).
            seen_at = min(self.now, dt.datetime.fromtimestamp(mtime / 1e9, dt.UTC).isoformat())
        self.tables["seen"].append((brief_id, seen_at))
        self._rows(name, result)
        source = result.source
        stamp = source_stamp(source) if source else None
        files.append((name, size, mtime, digest, source, stamp, brief_id, None))
        self.pending += 1
        if self.pending >= self.BATCH:
            self.flush()

    def _rows(self, name: str, rows: _Rows) -> None:
        self.num += 1
        num, base = self.num, self.entry + 1
        brief_id, title, sort_date, date, summary, quotes, body, source_key = rows.brief
        self.entry += len(rows.entries)
        tables = self.tables
        tables["briefs"].append(
            (num, brief_id, name, title, sort_date, date, summary, quotes, body, source_key)
        )
        tables["people"] += [(num, *person) for person in rows.people]
        self.changes.speakers.update(person[0] for person in rows.people)
        tables["brief_labels"] += [(label, brief_id, num) for label in rows.labels]
        tables["entries"] += [
            (base + i, num, *entry, sort_date) for i, entry in enumerate(rows.entries)
        ]
        tables["topic_entries"] += [
            (topic, kind, sort_date, brief_id, None if at is None else base + at, num)
            for topic, kind, at in rows.topics
        ]
        for topic, kind, _ in rows.topics:
            if kind in ("brief", "point"):
                self.uses[topic] = self.uses.get(topic, 0) + 1
        tables["mentions"] += [
            (person, sort_date, brief_id, base + at, num) for person, at in rows.mentions
        ]

    def flush(self) -> None:
        """Write what is pending."""
        for table, sql in _WRITES.items():
            rows = self.tables[table]
            if rows:
                self.conn.executemany(sql, rows)
                rows.clear()
        if self.uses:
            self.conn.executemany(
                "INSERT INTO topic_usage VALUES (?, ?) "
                "ON CONFLICT(topic) DO UPDATE SET uses = uses + excluded.uses",
                self.uses.items(),
            )
            self.uses.clear()
        self.pending = 0


# Where the writer's rows go, in this order (files last: a file row names its brief).
_WRITES = {
    "briefs": "INSERT INTO briefs(num, id, path, title, sort_date, date, summary, quote_count, "
    "json, source_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "people": "INSERT INTO people VALUES (?, ?, ?, ?, ?)",
    "brief_labels": "INSERT INTO brief_labels(label, brief_id, num) VALUES (?, ?, ?)",
    "entries": "INSERT INTO entries(rowid, num, kind, ord, body, speaker, context, extra, "
    "topics, unnamed, sort_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "topic_entries": "INSERT INTO topic_entries VALUES (?, ?, ?, ?, ?, ?)",
    "mentions": "INSERT INTO mentions VALUES (?, ?, ?, ?, ?)",
    "seen": "INSERT OR IGNORE INTO seen VALUES (?, ?)",
    "files": "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
}


class BriefIndex:
    """One index file for one briefs folder: opened, checked, rebuilt, and kept in step."""

    def __init__(self, root: Path, path: Path | None = None) -> None:
        self.root = root
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if path is None:
            # No data folder (tests, `briefbot check`): a private index that goes with us.
            self._tmp = tempfile.TemporaryDirectory(prefix="briefbot-index-")
            path = Path(self._tmp.name) / INDEX_FILE
        self.path = path
        self._lock = threading.Lock()
        self._ino: int | None = None
        self._discarded = False  # deleted as damaged: the next sync builds it from every file
        self._sources: dict[str, str] | None = None
        self._folder: BriefsFolder | None = None
        # What stops the files being read as a whole (the folder, the vocabulary): the index
        # keeps serving what it has, and these are reported with every file's own errors.
        self.folder_errors: tuple[LoadError, ...] = ()

    # -- opening and checking ------------------------------------------------------------------

    def _open_checked(self) -> sqlite3.Connection:
        """A connection to a usable index, rebuilding it (with one log line) if it is not."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = self._open_existing()
        except IndexUnusable as exc:
            log.warning("brief index %s %s: rebuilding it from the brief files", self.path, exc)
            self._remove()
            conn = self._open_existing()
        return conn

    def _open_existing(self) -> sqlite3.Connection:
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        try:
            conn = _connect(str(self.path))
        except sqlite3.DatabaseError as exc:
            raise IndexUnusable(f"cannot be opened ({exc})") from exc
        try:
            if fresh:
                self._create(conn)
            else:
                self._check(conn)
        except sqlite3.OperationalError as exc:
            conn.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise
            raise IndexUnusable(f"is unreadable ({exc})") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise IndexUnusable(f"is corrupt ({exc})") from exc
        except IndexUnusable:
            conn.close()
            raise
        self._ino = self.path.stat().st_ino
        return conn

    def _create(self, conn: sqlite3.Connection) -> None:
        # A new file stays in rollback-journal mode until its first build is committed: pages
        # added to a database are not journalled, so the build is written once (through the
        # write-ahead log it was written twice: 1.8 GB at 100k briefs). Opening an index
        # switches it to WAL (`_check`), and so does the end of the first build.
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                conn.execute("ROLLBACK")  # another process created it first
                self._check(conn)
                return
            for statement in _statements(_SCHEMA + _TRIGGERS):
                conn.execute(statement)
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("code", _code_version()),
                    ("root", str(self.root.resolve())),
                ],
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _check(self, conn: sqlite3.Connection) -> None:
        """Raise IndexUnusable unless the file is an index of this schema, whole, for this code."""
        conn.execute("PRAGMA journal_mode = WAL")
        # One read transaction: checked piecemeal, the meta before another process's build
        # committed and the brief count after it look "inconsistent", and the index that
        # process just built was deleted as unusable (its bot then served an empty view).
        conn.execute("BEGIN")
        try:
            self._check_read(conn)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    def _check_read(self, conn: sqlite3.Connection) -> None:
        """`_check`'s reads, inside one read transaction."""
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise
            raise IndexUnusable(f"is not a brief index ({exc})") from exc
        version = int(meta.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise IndexUnusable(f"was written by a newer briefbot (schema {version})")
        if version != SCHEMA_VERSION or meta.get("code") != _code_version():
            raise IndexUnusable(f"was written by other code (schema {version})")
        # A truncated file opens fine and fails only where pages are missing: the file must be
        # as long as the database says (the write-ahead log may hold the rest).
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        wal = Path(f"{self.path}-wal")
        on_disk = self.path.stat().st_size
        if on_disk < pages * size and not (wal.exists() and wal.stat().st_size > 0):
            raise IndexUnusable(f"is truncated ({on_disk} of {pages * size} bytes)")
        if meta.get("root") != str(self.root.resolve()):
            raise IndexUnusable(f"is for another briefs folder ({meta.get('root')})")
        count = int(meta.get("briefs", "0"))
        if conn.execute("SELECT count(*) FROM briefs").fetchone()[0] != count:
            raise IndexUnusable("is inconsistent (brief count)")

    def _remove(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()

    def discard(self, reason: str) -> None:
        """Delete a damaged index, with one log line; the next sync builds it again."""
        with self._lock:
            log.warning(
                "brief index %s is corrupt (%s): rebuilding it from the brief files",
                self.path,
                reason,
            )
            self._remove()
            self._discarded = True

    def moved_away(self) -> bool:
        """Whether the index file was deleted or replaced since we opened it."""
        try:
            return self.path.stat().st_ino != self._ino
        except FileNotFoundError:
            return True

    def close(self) -> None:
        """Remove a private index."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def ready(self) -> bool:
        """Open (and check) the index; whether it holds a finished build to serve at once."""
        with self._lock:
            try:
                conn = self._open_checked()
            except sqlite3.OperationalError:
                return False  # locked: the sync waits for it
            try:
                return (
                    conn.execute("SELECT 1 FROM meta WHERE key = 'briefs'").fetchone() is not None
                )
            finally:
                conn.close()

    def quick_check(self) -> Callable[[], bool] | None:
        """Start checking, in two child processes, whether every file is as the index last
        saw it, so that the caller can answer from the index meanwhile; the returned call
        waits and says whether it is (else: sync, and answer again). None where this does not
        pay or cannot be done (a small or unfinished index, threads, a source outside
        `sources/`): sync first."""
        try:
            with self._lock:
                conn = self._open_checked()
                try:
                    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
                finally:
                    conn.close()
        except sqlite3.Error:
            return None  # locked, say: the sync decides
        if (
            int(meta.get("briefs", "0")) < FORK_SCAN_MIN
            or "scan" not in meta
            or meta.get("sources_elsewhere") != "0"
            or not _forking_allowed()
        ):
            return None
        top = str(self.root)
        patch: dict[str, list[int]] = json.loads(meta.get("scan_patch", "{}"))

        def briefs() -> bytes:
            unpatched = _unpatched(_list_folder(top, briefs=True), patch)
            return unpatched.fingerprint() if unpatched is not None else b""

        sources_folder = os.path.join(top, SOURCES_DIR)  # noqa: PTH118
        waits = (
            _in_child(briefs),
            _in_child(lambda: _list_folder(sources_folder, briefs=False).fingerprint()),
        )

        def unchanged() -> bool:
            listed, sources = (wait() for wait in waits)
            try:
                vocabulary = (self.root / VOCABULARY_FILE).read_bytes()
            except OSError:
                vocabulary = b""
            return (
                listed is not None
                and sources is not None
                and meta["scan"] == _fingerprint(listed, sources)
                and meta.get("vocabulary_hash") == hashlib.sha256(vocabulary).hexdigest()
                and not self.moved_away()
            )

        return unchanged

    # -- reading -------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """A read-only, consistent view of the index as it is now."""
        conn = _connect(str(self.path))
        conn.execute("PRAGMA query_only = ON")
        try:
            conn.execute("BEGIN")
            # The snapshot starts at the first read, and lasts until the view is closed.
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if "briefs" not in meta:
                # No finished build to keep consistent: hold no read lock, which in a new
                # file's rollback-journal mode would keep the build itself from committing.
                conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            conn.close()
            if type(exc) is sqlite3.DatabaseError:  # not locked or busy: damaged
                raise IndexDamaged(str(exc)) from exc
            raise
        return Snapshot(conn, meta)

    # -- syncing -------------------------------------------------------------------------------

    def sync(self, *, parallel: bool = True, names: Collection[str] | None = None) -> SyncReport:
        """Bring the index in step with the files; only what changed is parsed.

        `names`: the brief files a watcher saw change (added, edited or gone); only those are
        looked at, unless the vocabulary changed too. None: every file.
        """
        with self._lock:
            rebuilt, self._discarded = self._discarded, False
            if not rebuilt and self._ino is not None and self.moved_away():
                log.warning("brief index %s was removed while running: rebuilding it", self.path)
                rebuilt = True
            try:
                conn = self._open_checked()
            except sqlite3.OperationalError as exc:
                # Held by another process for longer than we wait (its first build, say).
                raise IndexBusy(self._busy(exc)) from exc
            try:
                report = self._sync(conn, parallel, None if rebuilt else names)
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                    conn.close()
                    raise IndexBusy(self._busy(exc)) from exc
                conn.close()
                log.warning("brief index %s is corrupt (%s): rebuilding it", self.path, exc)
                self._remove()
                conn = self._open_checked()
                report = self._sync(conn, parallel)
                rebuilt = True
            finally:
                conn.close()
            if rebuilt:
                return SyncReport(
                    report.added, report.removed, report.updated, report.parsed, rebuilt=True
                )
            return report

    def _busy(self, exc: sqlite3.OperationalError) -> str:
        return (
            f"brief index {self.path} is being written by another process ({exc}, "
            f"{BUSY_TIMEOUT_S:.0f} s waited): try again when it is done"
        )

    def _begin_write(self, conn: sqlite3.Connection) -> None:
        """Take the write lock; if another process holds it, say so (once) and wait for it."""
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            log.info(
                "brief index %s is being written by another process: waiting for it (at most "
                "%.0f s)",
                self.path,
                BUSY_TIMEOUT_S,
            )
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("BEGIN IMMEDIATE")

    def _stat(self, name: str) -> tuple[int, int] | None:
        """(size, mtime_ns) of one brief file, or None if it is gone or not a brief file."""
        if not is_brief_name(name):
            return None
        path = os.path.join(str(self.root), name)  # noqa: PTH118
        try:
            st = os.stat(path)  # noqa: PTH116
        except OSError:
            try:
                st = os.lstat(path)  # a dangling link or a loop: reported by the load
            except OSError:
                return None
        return (st.st_size, st.st_mtime_ns)

    def _scan(self) -> _Listing:
        """Every brief file with its size and mtime: the same files as `brief_files`."""
        try:
            return _list_folder(str(self.root), briefs=True)
        except OSError as exc:
            BriefsFolder(self.root).brief_paths()  # raises FileRefused, worded as the loader's
            raise FileRefused(self.root, f"cannot list the briefs folder: {exc}") from exc

    def _sync(
        self, conn: sqlite3.Connection, parallel: bool, names: Collection[str] | None = None
    ) -> SyncReport:
        if not self.root.is_dir():
            self.folder_errors = (LoadError(self.root, "briefs directory does not exist"),)
            return SyncReport()
        building = conn.execute("SELECT 1 FROM meta WHERE key = 'briefs'").fetchone() is None
        if building:
            # A first build writes the whole index in one transaction: a cache that holds
            # its working set, and no syncing to disk while it runs (a crash meanwhile
            # leaves no finished build: the journal rolls it back, and it starts again).
            conn.execute(f"PRAGMA cache_size = -{BUILD_CACHE_KB}")
            conn.execute("PRAGMA synchronous = OFF")
        # Take the write lock first: a second process waits here, then finds little to do.
        self._begin_write(conn)
        try:
            report = self._sync_locked(conn, parallel, names)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            if building:
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA cache_size = -2000")
        if building:
            # The build on disk before it is served to anyone, then readers beside writers.
            started = time.perf_counter()
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as exc:  # a reader in the way: the next open does it
                log.debug("brief index: WAL mode left to the next open (%s)", exc)
            log.debug("brief index: synced to disk in %.1f s", time.perf_counter() - started)
        if report.parsed > 1000:
            conn.execute("PRAGMA optimize")
        return report

    def _sync_locked(
        self, conn: sqlite3.Connection, parallel: bool, names: Collection[str] | None
    ) -> SyncReport:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        vocabulary, vocabulary_changed = self._vocabulary(conn, meta)
        if vocabulary is None:
            return SyncReport()
        found = self._find(conn, meta, names, vocabulary_changed)
        if found is None:
            return SyncReport()
        scanned, look, gone, known, fingerprint = found
        todo: list[str] = []
        hashes: dict[str, str] = {}
        for name in look:
            size, mtime = scanned[name]
            row = known.get(name)
            if vocabulary_changed or row is None:
                todo.append(name)
                continue
            old_size, old_mtime, old_hash, source, source_stamp, _, _ = row
            if (size, mtime) == (old_size, old_mtime) and self._source_same(source, source_stamp):
                continue
            digest = self._hash(name)
            hashes[name] = digest
            if digest == old_hash and self._source_same(source, source_stamp):
                conn.execute(
                    "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?", (size, mtime, name)
                )
                continue
            todo.append(name)
        changes = _Changes()
        first_build = "briefs" not in meta
        todo = self._renames(conn, known, gone, todo, hashes, scanned, vocabulary_changed)
        for name in gone:
            if (self.root / name).exists():
                continue
            brief_id = known[name][5]
            conn.execute("DELETE FROM files WHERE path = ?", (name,))
            if brief_id is not None and self._delete_brief(conn, brief_id, name, changes):
                changes.removed.add(brief_id)
        parsed = self._parse(conn, todo, vocabulary, known, scanned, changes, parallel, first_build)
        self._refresh_speakers(conn, changes.speakers)
        count = conn.execute("SELECT count(*) FROM briefs").fetchone()[0]
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('briefs', ?)", (str(count),))
        if fingerprint is not None:
            # The files as this check found them, and whether any brief grounds its quotes
            # outside sources/ (such a source is not in the fingerprint).
            elsewhere = conn.execute(
                "SELECT count(*) FROM files WHERE source IS NOT NULL AND NOT "
                "(source GLOB ? AND source NOT GLOB ?)",
                (f"{SOURCES_DIR}/*", f"{SOURCES_DIR}/*/*"),
            ).fetchone()[0]
            conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("scan", fingerprint), ("sources_elsewhere", str(elsewhere))],
            )
            conn.execute("DELETE FROM meta WHERE key = 'scan_patch'")
        added = changes.added - changes.removed
        return SyncReport(
            added=tuple(sorted(added)),
            removed=tuple(sorted(changes.removed - changes.added)),
            updated=tuple(sorted(changes.updated | (changes.added & changes.removed))),
            parsed=parsed,
        )

    def _find(
        self,
        conn: sqlite3.Connection,
        meta: dict[str, str],
        names: Collection[str] | None,
        vocabulary_changed: bool,
    ) -> _Found | None:
        """The files to look at (stamps differ), the indexed files gone, their rows, and the
        fingerprint of a full check; None when there is nothing to do."""
        if names is not None and not vocabulary_changed and "briefs" in meta:
            # Only the files a watcher saw change: the cost of an edit, not of the corpus.
            scanned = {n: s for n in names if (s := self._stat(n)) is not None}
            self._sources = None
            known = self._rows(conn, list(names))
            self._patch_scan(conn, meta, known, scanned)
            look = list(scanned)
            gone = [name for name in known if name not in scanned]
            fingerprint = None
        else:
            # The sources folder is listed meanwhile (in a child process, for a large one):
            # on a shared index this check is most of what `briefbot ask` waits for.
            waiting = _sources_fingerprint(
                os.path.join(str(self.root), SOURCES_DIR),  # noqa: PTH118
                forked=int(meta.get("briefs", "0")) >= FORK_SCAN_MIN,
            )
            try:
                listing = self._scan()
            except FileRefused as exc:
                waiting()
                # An unlistable folder: say so, and keep serving what the index has.
                self.folder_errors = (*self.folder_errors, LoadError(self.root, exc.reason))
                return None
            sources_print, sources = waiting()
            unpatched = _unpatched(listing, json.loads(meta.get("scan_patch", "{}")))
            if (
                not vocabulary_changed
                and "briefs" in meta
                and unpatched is not None
                and meta.get("scan") == _fingerprint(unpatched.fingerprint(), sources_print)
                and meta.get("sources_elsewhere") == "0"
            ):
                # Every name, size and mtime as the last full check left them (an in-place
                # edit changes an mtime): nothing to compare file by file.
                return None
            if sources is None:
                # Stamps of the sources folder, taken once: most briefs ground their quotes
                # there. (Listed again here after a child's listing: what is stored as the
                # files' state is what the rows are compared with.)
                sources = self._scan_sources()
            fingerprint = _fingerprint(
                listing.fingerprint(), sources.fingerprint() if sources is not None else None
            )
            self._sources = (
                None
                if sources is None
                else {
                    name: f"{size}:{mtime}"
                    for name, size, mtime in zip(
                        sources.names, sources.sizes, sources.mtimes, strict=True
                    )
                }
            )
            scanned = listing.stamps()
            look, gone = self._look(conn, scanned, vocabulary_changed)
            known = self._rows(conn, [*look, *gone])
        return scanned, look, gone, known, fingerprint

    def _patch_scan(
        self,
        conn: sqlite3.Connection,
        meta: dict[str, str],
        known: dict[str, tuple[Any, ...]],
        scanned: dict[str, tuple[int, int]],
    ) -> None:
        """Note a watcher's edits and added files beside the last full check's fingerprint,
        so the next full check (`briefbot ask`, say) still needs no row-by-row comparison."""
        patch: dict[str, list[int]] = json.loads(meta.get("scan_patch", "{}"))
        for name, now in scanned.items():
            if len(patch) >= MAX_SCAN_PATCH:
                # Too many: the next full check compares every row.
                conn.execute("DELETE FROM meta WHERE key IN ('scan', 'scan_patch')")
                return
            row = known.get(name)
            # An added file was not there at the last full check: (-1, -1) before.
            before = patch.get(name, [row[0], row[1]] if row is not None else [-1, -1])[:2]
            patch[name] = [*before, *now]
        if any(name not in scanned for name in known):  # a file gone: likewise
            conn.execute("DELETE FROM meta WHERE key IN ('scan', 'scan_patch')")
            return
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('scan_patch', ?)", (json.dumps(patch),))

    def _vocabulary(
        self, conn: sqlite3.Connection, meta: dict[str, str]
    ) -> tuple[Vocabulary | None, bool]:
        """The vocabulary to validate with, and whether it changed since the last sync."""
        path = self.root / VOCABULARY_FILE
        stored = meta.get("vocabulary")
        try:
            raw = path.read_bytes()
        except OSError:
            raw = b""
        digest = hashlib.sha256(raw).hexdigest()
        if stored is not None and meta.get("vocabulary_hash") == digest:
            self.folder_errors = ()
            return Vocabulary.model_validate_json(stored), False
        try:
            vocabulary = load_vocabulary(path)
        except BriefFileError as exc:
            # A broken vocabulary must not take every brief down: keep the last good one.
            note = LoadError(self.root, f"no brief can load until {VOCABULARY_FILE} loads")
            self.folder_errors = (*exc.errors, note)
            return (Vocabulary.model_validate_json(stored) if stored else None), False
        self.folder_errors = ()
        conn.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [("vocabulary", vocabulary.model_dump_json()), ("vocabulary_hash", digest)],
        )
        return vocabulary, stored is not None and stored != vocabulary.model_dump_json()

    def _source_same(self, source: str | None, stamp: str | None) -> bool:
        return source is None or self._source_stamp(source) == stamp

    def _source_stamp(self, source: str) -> str:
        folder, _, name = source.rpartition("/")
        if folder == SOURCES_DIR and self._sources is not None:
            return self._sources.get(name, "-1:-1")
        mtime, size = fast.stat_pair(os.path.join(str(self.root), source))  # noqa: PTH118
        return f"{size}:{mtime}"

    def _scan_sources(self) -> _Listing | None:
        """Every file in the sources folder with its stamp, in one pass (None if unreadable)."""
        try:
            return _list_folder(os.path.join(str(self.root), SOURCES_DIR), briefs=False)  # noqa: PTH118
        except OSError:
            return None

    def _look(
        self,
        conn: sqlite3.Connection,
        scanned: dict[str, tuple[int, int]],
        vocabulary_changed: bool,
    ) -> tuple[list[str], list[str]]:
        """The scanned files whose stamps (or source's) differ from the index, and the indexed
        files no longer there; read compactly (every row of a 100k-file index)."""
        look, gone = [], []
        rows = conn.execute("SELECT path, size, mtime_ns, source, source_stamp FROM files")
        seen = set()
        for name, size, mtime, source, source_stamp in rows:
            stamp = scanned.get(name)
            if stamp is None:
                gone.append(name)
                continue
            seen.add(name)
            if (
                vocabulary_changed
                or stamp != (size, mtime)
                or not self._source_same(source, source_stamp)
            ):
                look.append(name)
        look += [name for name in scanned if name not in seen]
        return look, gone

    def _rows(self, conn: sqlite3.Connection, names: list[str]) -> dict[str, tuple[Any, ...]]:
        """The files rows of these names (hash, source, brief id, errors)."""
        known: dict[str, tuple[Any, ...]] = {}
        for i in range(0, len(names), 500):
            chunk = names[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                "SELECT path, size, mtime_ns, hash, source, source_stamp, brief_id, errors "
                f"FROM files WHERE path IN ({marks})",
                chunk,
            ):
                known[row[0]] = row[1:]
        return known

    def _hash(self, name: str) -> str:
        # The one safe reader: a FIFO, device or link out of the folder is never opened here
        # (the loader reports it, located); such a file hashes as "" and is parsed each time.
        if self._folder is None:
            self._folder = BriefsFolder(self.root)
        return _file_hash(self._folder, os.path.join(str(self.root), name))  # noqa: PTH118

    def _renames(
        self,
        conn: sqlite3.Connection,
        known: dict[str, tuple[Any, ...]],
        gone: list[str],
        todo: list[str],
        hashes: dict[str, str],
        scanned: dict[str, tuple[int, int]],
        vocabulary_changed: bool,
    ) -> list[str]:
        """Move the rows of a renamed file (same content hash) to its new name, unparsed."""
        if not gone or vocabulary_changed:
            return todo
        by_hash = {known[name][2]: name for name in gone if known[name][5] is not None}
        remaining = []
        for name in todo:
            if name in known:
                remaining.append(name)
                continue
            digest = hashes.get(name) or self._hash(name)
            hashes[name] = digest
            old = by_hash.pop(digest, None)
            if old is None or not self._source_same(known[old][3], known[old][4]):
                remaining.append(name)
                continue
            size, mtime = scanned[name]
            conn.execute(
                "UPDATE files SET path = ?, size = ?, mtime_ns = ? WHERE path = ?",
                (name, size, mtime, old),
            )
            conn.execute("UPDATE briefs SET path = ? WHERE path = ?", (name, old))
            gone.remove(old)
            log.info("brief file %s renamed to %s", old, name)
        return remaining

    def _parse(
        self,
        conn: sqlite3.Connection,
        todo: list[str],
        vocabulary: Vocabulary,
        known: dict[str, tuple[Any, ...]],
        scanned: dict[str, tuple[int, int]],
        changes: _Changes,
        parallel: bool,
        first_build: bool,
    ) -> int:
        if not todo:
            return 0
        bulk = len(todo) >= BULK_FILES
        # A bulk load builds full text once at the end; a first build also builds the other
        # indexes once at the end (sorting once beats keeping a B-tree in order row by row).
        deferred = _DEFERRED_INDEXES if bulk and first_build else ()
        if bulk:
            for trigger in ("entries_ai", "entries_ad", "brief_labels_ai", "brief_labels_ad"):
                conn.execute(f"DROP TRIGGER {trigger}")
            for name, _ in deferred:
                conn.execute(f"DROP INDEX {name}")
        try:
            run = _Run.of(self.root, vocabulary, fast.stat_pair(str(self.root / VOCABULARY_FILE)))
            task = functools.partial(_prepare, root=self.root, run=run)
            names = sorted(todo, key=os.path.normcase)
            writer = _Writer(conn, self.root, known, scanned, changes, first_build)
            started = time.perf_counter()
            for outcome in fast.map_in_workers(names, task, parallel=parallel):
                writer.add(outcome, self._source_stamp)
            writer.flush()
            parsed = time.perf_counter()
        finally:
            if bulk:
                for _, statement in deferred:
                    conn.execute(statement)
                for statement in _statements(_TRIGGERS):
                    conn.execute(statement)
        if bulk:
            indexed = time.perf_counter()
            conn.execute("INSERT INTO search(search) VALUES ('rebuild')")
            conn.execute("INSERT INTO label_grams(label_grams) VALUES ('rebuild')")
            log.info(
                "brief index: %d files parsed and written in %.1f s, indexes in %.1f s, "
                "full text in %.1f s",
                len(todo),
                parsed - started,
                indexed - parsed,
                time.perf_counter() - indexed,
            )
        return len(todo)

    def _delete_brief(
        self, conn: sqlite3.Connection, brief_id: str, path: str, changes: _Changes
    ) -> bool:
        return _delete_brief(conn, brief_id, path, changes)

    def _refresh_speakers(self, conn: sqlite3.Connection, names: set[str]) -> None:
        """Recompute the speaker rows (role, quote count, labels) of the people that changed."""
        for name in names:
            rows = conn.execute(
                "SELECT p.aliases, p.role, p.kind FROM people p JOIN briefs b ON b.num = p.num "
                "WHERE p.name = ? ORDER BY b.sort_date DESC, b.id DESC",
                (name,),
            ).fetchall()
            if not rows:
                conn.execute("DELETE FROM speakers WHERE name = ?", (name,))
                continue
            labels: set[str] = set()
            for aliases, kind in {(r[0], r[2]) for r in rows}:
                who = Organisation if kind == "organisation" else Person
                labels |= person_labels(who(name=name, aliases=tuple(json.loads(aliases))))
            quotes = conn.execute(
                "SELECT count(*) FROM entries WHERE speaker = ? AND kind = 'quote'", (name,)
            ).fetchone()[0]
            conn.execute(
                "INSERT OR REPLACE INTO speakers VALUES (?, ?, ?, ?, ?)",
                (name, rows[0][1], quotes, json.dumps(sorted(labels)), rows[0][2]),
            )


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    """One full-text match: the entry, its brief, and the matched text marked \\x02…\\x03."""

    kind: str
    brief_id: str
    title: str
    date: str
    marked: str
    speaker: str | None
    context: str | None
    unnamed: str | None = None  # the source's description of a speaker it does not name


class Hits(list[Hit]):
    """Search hits, best first; `ranked`: RANKED when more than that many matched (the hits
    are then the most recently indexed, not ranked); 0 when every match was ranked.
    `narrowed`: each prefix of the query that starts more words than were searched, as
    (the prefix as typed, the words searched, how many words start with it)."""

    ranked: int = 0
    narrowed: tuple[tuple[str, tuple[str, ...], int], ...] = ()
    stopped: bool = False  # took longer than SEARCH_SECONDS: stopped, nothing found


class Snapshot:
    """A consistent read-only view of the index (one read transaction until closed)."""

    def __init__(self, conn: sqlite3.Connection, meta: dict[str, str]) -> None:
        self._conn = conn
        self.meta = meta
        # A prefix's words, most used first, and how many there are (see _prefix_words).
        self._prefixes: dict[str, tuple[tuple[str, ...], int]] = {}
        self._vocab = False
        self._topic_tags: list[str] | None = None  # sorted, read when first needed
        self._late = False  # whether the running search passed SEARCH_SECONDS
        self.damage: str | None = None  # what a read found damaged (see IndexDamaged)

    def close(self) -> None:
        """End the read transaction (a later reader sees newer data)."""
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            self._raise_damage(exc)
            raise

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        try:
            return self._conn.execute(sql, args).fetchone()
        except sqlite3.DatabaseError as exc:
            self._raise_damage(exc)
            raise

    def _raise_damage(self, exc: sqlite3.DatabaseError) -> None:
        """Raise IndexDamaged (and note it in `damage`) if a read's error is damage: a malformed
        page, not a database; any other (locked, interrupted, FTS5 syntax) is left as it is."""
        if type(exc) is sqlite3.DatabaseError:
            self.damage = str(exc)
            raise IndexDamaged(self.damage) from exc

    def vocabulary(self) -> Vocabulary | None:
        """The vocabulary the briefs were validated with."""
        stored = self.meta.get("vocabulary")
        return Vocabulary.model_validate_json(stored) if stored else None

    def count(self) -> int:
        """How many briefs are live."""
        return int(self._one("SELECT count(*) FROM briefs")[0])

    def errors(self, root: Path) -> list[LoadError]:
        """Every file's current errors (a file with errors may still serve its last good brief)."""
        out = []
        for path, errors in self._all(
            "SELECT path, errors FROM files WHERE errors IS NOT NULL ORDER BY path"
        ):
            for message, fld, line, column in json.loads(errors):
                out.append(LoadError(root / path, message, fld, line, column))
        return out

    def brief_json(self, brief_id: str) -> str | None:
        """The stored brief with this id, as JSON."""
        row = self._one("SELECT json FROM briefs WHERE id = ?", (brief_id,))
        return row[0] if row else None

    def briefs_json(self, offset: int, limit: int) -> list[tuple[str, str]]:
        """(id, json) of briefs in newest-first order."""
        return self._all(
            "SELECT id, json FROM briefs ORDER BY sort_date DESC, id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )

    def heads(self, offset: int, limit: int) -> list[tuple[str, str, str, str, int]]:
        """(id, title, date json, summary, quote count), newest first."""
        return self._all(
            "SELECT id, title, date, summary, quote_count FROM briefs "
            "ORDER BY sort_date DESC, id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )

    def head(self, brief_id: str) -> tuple[str, str, str] | None:
        """(id, title, date json) of one brief."""
        row = self._one("SELECT id, title, date FROM briefs WHERE id = ?", (brief_id,))
        return (row[0], row[1], row[2]) if row else None

    def newest_first(self, ids: Sequence[str]) -> list[str]:
        """The given brief ids that exist, newest first."""
        marks = ",".join("?" * len(ids))
        return [
            r[0]
            for r in self._all(
                f"SELECT id FROM briefs WHERE id IN ({marks}) ORDER BY sort_date DESC, id DESC",
                ids,
            )
        ]

    def position(self, brief_id: str) -> int:
        """Where a brief stands in newest-first order."""
        row = self._one("SELECT sort_date FROM briefs WHERE id = ?", (brief_id,))
        if row is None:
            raise KeyError(brief_id)
        return int(
            self._one(
                "SELECT count(*) FROM briefs WHERE (sort_date, id) > (?, ?)", (row[0], brief_id)
            )[0]
        )

    def first_seen(self, brief_id: str) -> str | None:
        """When the index first saw this brief (ISO, UTC)."""
        row = self._one("SELECT first_seen FROM seen WHERE id = ?", (brief_id,))
        return row[0] if row else None

    # -- labels -------------------------------------------------------------------------------

    def brief_ids_for_label(self, label: str) -> list[str]:
        """Ids of the briefs whose folded id or title is `label`, smallest first."""
        return [
            r[0]
            for r in self._all(
                "SELECT brief_id FROM brief_labels WHERE label = ? ORDER BY brief_id", (label,)
            )
        ]

    def brief_labels_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Folded brief labels starting with `prefix`, in order."""
        return [
            r[0]
            for r in self._all(
                "SELECT DISTINCT label FROM brief_labels WHERE label >= ? AND label < ? "
                "ORDER BY label LIMIT ?",
                (prefix, prefix + _TOP, limit),
            )
        ]

    def brief_labels_containing(self, key: str, limit: int) -> list[str]:
        """Folded brief labels containing `key` (three characters or more)."""
        if len(key) < 3:
            return []
        if "\0" in key:
            return []  # no label holds one, and FTS5 reads a NUL as the end of the query
        phrase = '"' + key.replace('"', '""') + '"'
        return [
            r[0]
            for r in self._all(
                "SELECT DISTINCT label FROM label_grams WHERE label_grams MATCH ? "
                "ORDER BY label LIMIT ?",
                (phrase, limit),
            )
        ]

    def brief_ids_with_prefix(self, prefix: str, limit: int) -> list[tuple[str, str]]:
        """(folded label, brief id) of the first `limit` labels starting with `prefix`, in
        label order: one query, not one per label."""
        return self._all(
            "SELECT label, brief_id FROM brief_labels WHERE label >= ? AND label < ? "
            "ORDER BY label, brief_id LIMIT ?",
            (prefix, prefix + _TOP, limit),
        )

    def brief_ids_containing(self, key: str, limit: int) -> list[tuple[str, str]]:
        """(folded label, brief id) of up to `limit` labels containing `key` (three characters
        or more), the most recently indexed first: FTS5 walks them in that order and stops, so
        a key in every title (a common word) costs no more than a rare one."""
        if len(key) < 3 or "\0" in key:
            return []  # no label holds a NUL, and FTS5 reads one as the end of the query
        # Every three letters of the key are one more list to walk (a whole title: ~30 ms at
        # 100k briefs): a long key is looked up by its start, and checked whole here.
        short = key[:_GRAMS_LOOKED_UP]
        rows = self._all(
            "SELECT l.label, l.brief_id FROM label_grams g "
            "JOIN brief_labels l ON l.rowid = g.rowid WHERE label_grams MATCH ? "
            "ORDER BY g.rowid DESC LIMIT ?",
            (_token(short), limit if short == key else 4 * limit),
        )
        return [row for row in rows if key in row[0]][:limit]

    def brief_labels_like(self, key: str, limit: int) -> list[str]:
        """Brief labels sharing the most three-letter pieces with `key` (a did-you-mean list)."""
        padded = f"  {key}  " if len(key) < 3 else key
        grams = {padded[i : i + 3] for i in range(len(padded) - 2)}
        grams = {g for g in grams if _GRAM.fullmatch(g) and g.strip()}
        if not grams:
            return []
        # Rank by the rarest pieces only: BM25 over every piece first counts, then scores,
        # each label holding any of them (a mistyped title: ~400 ms at 100k briefs). A
        # piece's count is read up to _GRAM_COUNTED labels (a walk that stops there), and
        # past that estimated from how densely its newest labels lie.
        top = self._one("SELECT max(rowid) FROM brief_labels")[0] or 0
        counts: dict[str, float] = {}
        for gram in grams:
            row = self._one(
                "SELECT rowid FROM label_grams WHERE label_grams MATCH ? "
                "ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                (f'"{gram}"', _GRAM_COUNTED),
            )
            if row is not None:
                counts[gram] = _GRAM_COUNTED * top / max(1, top - row[0] + 1)
                continue
            counts[gram] = self._one(
                "SELECT count(*) FROM label_grams WHERE label_grams MATCH ?", (f'"{gram}"',)
            )[0]
        rare = sorted((g for g in grams if counts[g]), key=lambda g: (counts[g], g))
        if not rare:
            return []
        query = " OR ".join(f'"{g}"' for g in rare[:_GRAMS_RANKED])
        return [
            r[0]
            for r in self._all(
                "SELECT label FROM label_grams WHERE label_grams MATCH ? ORDER BY rank LIMIT ?",
                (query, limit),
            )
        ]

    # -- people and topics --------------------------------------------------------------------

    def speakers(self) -> list[tuple[str, str | None, int, list[str], bool]]:
        """(name, role, quote count, labels, is an organisation) of everyone in any brief."""
        return [
            (name, role, count, json.loads(labels), kind == "organisation")
            for name, role, count, labels, kind in self._all(
                "SELECT name, role, quote_count, labels, kind FROM speakers"
            )
        ]

    def topic_usage(self) -> dict[str, int]:
        """How many briefs and key points carry each topic."""
        return dict(self._all("SELECT topic, uses FROM topic_usage"))

    _ENTRY = (
        "SELECT b.id, b.title, b.date, e.kind, e.ord, e.body, e.speaker, e.context, e.extra, "
        "e.topics, e.unnamed FROM {source} JOIN entries e ON e.rowid = {entry} "
        "JOIN briefs b ON b.num = e.num "
    )

    def quotes_by(
        self, name: str, brief_id: str | None = None, limit: int = -1
    ) -> list[tuple[Any, ...]]:
        """The quotes by this speaker (entry rows), newest brief first; the first `limit`
        (-1: all), of one brief if given."""
        where = " AND b.id = ?" if brief_id is not None else ""
        return self._all(
            "SELECT b.id, b.title, b.date, e.kind, e.ord, e.body, e.speaker, e.context, e.extra, "
            "e.topics, e.unnamed FROM entries e JOIN briefs b ON b.num = e.num "
            f"WHERE e.speaker = ? AND e.kind = 'quote'{where} "
            "ORDER BY b.sort_date DESC, b.id DESC, e.ord LIMIT ?",
            (name, *([brief_id] if brief_id is not None else []), limit),
        )

    def count_quotes_by(self, name: str, brief_id: str | None = None) -> int:
        """How many quotes this speaker has (in one brief, if given)."""
        if brief_id is None:
            sql = "SELECT count(*) FROM entries WHERE speaker = ? AND kind = 'quote'"
            return int(self._one(sql, (name,))[0])
        return int(
            self._one(
                "SELECT count(*) FROM entries e JOIN briefs b ON b.num = e.num "
                "WHERE e.speaker = ? AND e.kind = 'quote' AND b.id = ?",
                (name, brief_id),
            )[0]
        )

    def quotes_about(
        self, name: str, brief_id: str | None = None, limit: int = -1
    ) -> list[tuple[Any, ...]]:
        """Quotes by others that name this person (entry rows), newest brief first; the first
        `limit` (-1: all), of one brief if given."""
        where = " AND m.brief_id = ?" if brief_id is not None else ""
        return self._all(
            self._ENTRY.format(source="mentions m", entry="m.entry")
            + f"WHERE m.name = ?{where} ORDER BY m.sort_date DESC, m.brief_id DESC, e.ord LIMIT ?",
            (name, *([brief_id] if brief_id is not None else []), limit),
        )

    def count_quotes_about(self, name: str, brief_id: str | None = None) -> int:
        """How many quotes by others name this person (in one brief, if given)."""
        where = " AND brief_id = ?" if brief_id is not None else ""
        return int(
            self._one(
                f"SELECT count(*) FROM mentions WHERE name = ?{where}",
                (name, *([brief_id] if brief_id is not None else [])),
            )[0]
        )

    def on_topic(self, topic: str, kind: str, limit: int = -1) -> list[tuple[Any, ...]]:
        """Entry rows of one kind (point, quote, claim) filed under a topic, newest first; the
        first `limit` (-1: all)."""
        return self._all(
            self._ENTRY.format(source="topic_entries t", entry="t.entry")
            + "WHERE t.topic = ? AND t.kind = ? "
            "ORDER BY t.sort_date DESC, t.brief_id DESC, e.ord LIMIT ?",
            (topic, kind, limit),
        )

    def count_on_topic(self, topic: str, kind: str) -> int:
        """How many entries of one kind are filed under a topic."""
        return int(
            self._one(
                "SELECT count(*) FROM topic_entries WHERE topic = ? AND kind = ?", (topic, kind)
            )[0]
        )

    def topic_brief_count(self, topic: str) -> int:
        """How many briefs carry a topic."""
        return int(
            self._one(
                "SELECT count(*) FROM topic_entries WHERE topic = ? AND kind = 'brief'", (topic,)
            )[0]
        )

    # -- full text ----------------------------------------------------------------------------

    def search(
        self,
        match: str,
        *,
        speaker: str | None = None,
        topic: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 50,
    ) -> Hits:
        """Entries matching an FTS5 query, best first (BM25); a query FTS5 cannot parse is
        searched as plain words. Past RANKED matches, the most recently indexed are shown
        unranked (`Hits.ranked`)."""
        filters = [f"tags : {_token(speaker_tag(speaker))}"] if speaker is not None else []
        if topic is not None:
            filters.append(f"tags : {_token(topic_tag(topic))}")
        if since is not None or until is not None:
            dates = self._date_tags(since or "", until or _TOP)
            if dates == []:
                return Hits()  # no brief is dated in the range
            if dates is not None:
                filters.append("tags : (" + " OR ".join(dates) + ")")
        # One search may hold the event loop only so long, whatever its shape or the corpus
        # (a long AND or NEAR of common words took seconds at 10,000 briefs): SQLite stops it.
        deadline = time.monotonic() + SEARCH_SECONDS
        self._late = False

        def late() -> bool:
            self._late = self._late or time.monotonic() > deadline
            return self._late

        self._conn.set_progress_handler(late, _PROGRESS_STEPS)
        try:
            return self._search_or_words(match, filters, limit)
        except sqlite3.OperationalError:
            if not self._late:
                raise
            log.info("search stopped after %.1f s: %r", SEARCH_SECONDS, match[:200])
            stopped = Hits()
            stopped.stopped = True
            return stopped
        finally:
            self._conn.set_progress_handler(None, _PROGRESS_STEPS)

    def _search_or_words(self, match: str, filters: list[str], limit: int) -> Hits:
        """The query searched, or its plain words where FTS5 cannot parse it."""
        try:
            return self._search(match, filters, limit)
        except sqlite3.OperationalError as exc:
            if self._late:  # stopped for time (SQLite words it in more than one way)
                raise
            log.debug("search %r is not FTS5 syntax (%s): searching its words", match, exc)
        words = plain_words(match)
        if not words:
            return Hits()
        try:
            return self._search(words, filters, limit)
        except sqlite3.OperationalError as exc:
            if self._late:
                raise
            # Plain words are always FTS5 syntax: a failure here is a bug, answered as
            # nothing found rather than an error trace.
            log.warning("search %r failed as plain words %r (%s)", match[:200], words, exc)
            return Hits()

    def _search(self, match: str, filters: list[str], limit: int) -> Hits:
        if "\0" in match or not _balanced(match):
            # FTS5 reads a NUL as the end; an unbalanced bracket would escape the body filter.
            raise sqlite3.OperationalError("not a query")
        # A prefix is searched as its most used words (FTS5 would merge every word's rows
        # before returning the first, on every statement: ~55 ms for a common one at 100k).
        searched, narrowed = self._expand_prefixes(match)
        # The user's query looks at the body only (a tag is never matched by a word or prefix);
        # the filters are tags, so FTS5 finds and ranks only the rows that pass them.
        expression = " AND ".join([f"{{body}} : ({searched})", *filters])
        # The newest RANKED + 1 matches: FTS5 walks rowids in order without scoring, so this
        # costs little whatever the corpus holds.
        newest = self._all(
            "SELECT rowid FROM search WHERE search MATCH ? ORDER BY rowid DESC LIMIT ?",
            (expression, RANKED + 1),
        )
        broad = len(newest) > RANKED
        if broad:
            # BM25 would first count every row holding each of the query's words and tags
            # (a word in half the entries: ~25 ms at 100,000 briefs), so a query this broad
            # is answered newest first, and the reply says so.
            best = newest[: min(limit, RANKED)]
        else:
            best = [(rowid,) for rowid in self._ranked([r[0] for r in newest], match, limit)]
        if not best:
            empty = Hits()
            empty.narrowed = narrowed
            return empty
        # Snippets only for the rows shown, in one more walk over the matches between them
        # (each MATCH costs its setup: ~2 ms for a prefix, so never one per row). The `+`
        # keeps SQLite from handing FTS5 the IN list as 50 separate lookups.
        ids = [r[0] for r in best]
        marks = ",".join("?" * len(ids))
        rows = {
            row[0]: row[1:]
            for row in self._all(
                "SELECT search.rowid, e.kind, b.id, b.title, b.date, "
                "snippet(search, 0, char(2), char(3), '…', 48), e.speaker, e.context, e.unnamed "
                "FROM search JOIN entries e ON e.rowid = search.rowid "
                "JOIN briefs b ON b.num = e.num WHERE search MATCH ? "
                f"AND search.rowid BETWEEN ? AND ? AND +search.rowid IN ({marks})",
                (expression, min(ids), max(ids), *ids),
            )
        }
        hits = Hits(Hit(*rows[r[0]]) for r in best if r[0] in rows)
        hits.ranked = RANKED if broad else 0
        hits.narrowed = narrowed
        return hits

    def _expand_prefixes(
        self, match: str
    ) -> tuple[str, tuple[tuple[str, tuple[str, ...], int], ...]]:
        """The query with each prefix (`minis*`, `"trade sec"*`) written as an OR of its
        PREFIX_WORDS most used words, which FTS5 walks row by row; and the prefixes that start
        more words than that. A prefix inside NEAR(), after ^ or next to + stays as it is."""
        pieces = _QUERY_PIECE.findall(match)
        out: list[str] = []
        groups: set[int] = set()  # where in `out` a prefix became a bracketed OR
        narrowed: list[tuple[str, tuple[str, ...], int]] = []
        depth, near = 0, -1  # bracket depth, and the depth of an open NEAR( (-1: none)
        i = 0
        while i < len(pieces):
            piece = pieces[i]
            if piece == "(":
                if _last_word(out) == "NEAR" and near < 0:
                    near = depth
                depth += 1
            elif piece == ")":
                depth -= 1
                if depth == near:
                    near = -1
            star = _next_solid(pieces, i)
            if piece[0] not in _SYNTAX and star is not None and pieces[star] == "*":
                after = _next_solid(pieces, star)
                fixed = (
                    near >= 0
                    or _last_solid(out) in ("^", "+")
                    or (after is not None and pieces[after] in ("+", ":"))
                )
                expanded = None if fixed else self._expand(piece)
                if expanded is not None:
                    text, words, total = expanded
                    groups.add(len(out))
                    out.append(text)
                    if total > len(words):
                        narrowed.append((piece + "*", words, total))
                    i = star + 1
                    continue
            out.append(piece)
            i += 1
        return _explicit_and(out, groups), tuple(narrowed)

    def _expand(self, piece: str) -> tuple[str, tuple[str, ...], int] | None:
        """A bareword or "string" that ends in a prefix as an OR of phrases, the words used,
        and how many words have the prefix; None to leave it to FTS5 (no word has it)."""
        inner = piece[1:-1].replace('""', '"') if piece.startswith('"') else piece
        tokens = _tokens(inner)
        if not tokens:
            return None
        words, total = self._prefix_words(tokens[-1])
        if not words:
            return None
        head = " ".join(tokens[:-1])
        phrases = [_token(f"{head} {word}" if head else word) for word in words]
        return "(" + " OR ".join(phrases) + ")", words, total

    def _tag_may_start(self, prefix: str) -> bool:
        """Whether some tag starts with `prefix`: s<hex>, y/m/d<digits>, t<escaped topic id>."""
        first, rest = prefix[0], prefix[1:]
        if first == "s":
            return all(c in "0123456789abcdef" for c in rest)
        if first in "ymd":
            return all(c in "0123456789" for c in rest)
        if first != "t":
            return False
        if self._topic_tags is None:
            vocabulary = self.vocabulary()
            topics = vocabulary.topics if vocabulary is not None else ()
            self._topic_tags = sorted(topic_tag(t.id) for t in topics)
        at = bisect.bisect_left(self._topic_tags, prefix)
        return at < len(self._topic_tags) and self._topic_tags[at].startswith(prefix)

    def _prefix_words(self, prefix: str) -> tuple[tuple[str, ...], int]:
        """The PREFIX_WORDS body words starting with `prefix` that are in the most entries,
        most first, and how many body words start with it (kept for this snapshot)."""
        found = self._prefixes.get(prefix)
        if found is not None:
            return found
        if not self._vocab:
            # Views of FTS5's term list, in this connection's own temp schema (the index file
            # is not changed): the snapshot is query-only, which covers temp tables too.
            self._conn.execute("PRAGMA query_only = OFF")
            try:
                for kind in ("row", "col"):
                    self._conn.execute(
                        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_{kind}s "
                        f"USING fts5vocab(main, search, {kind})"
                    )
            finally:
                self._conn.execute("PRAGMA query_only = ON")
            self._vocab = True
        # FTS5 counts each word's rows as it lists them (as costly as the word is common, but
        # once, and less than the prefix query it replaces). A prefix that a tag may start
        # (tags are words of the tags column) is counted per column (twice the work); any
        # other from the cheaper per-row list, where every word is a word of the text.
        if self._tag_may_start(prefix):
            sql = "SELECT term, doc FROM temp.search_cols WHERE term >= ? AND term < ? "
            sql += "AND col = 'body'"
        else:
            sql = "SELECT term, doc FROM temp.search_rows WHERE term >= ? AND term < ?"
        rows = self._all(sql, (prefix, prefix + _TOP))
        rows.sort(key=lambda row: (-row[1], row[0]))
        found = (tuple(row[0] for row in rows[:PREFIX_WORDS]), len(rows))
        if len(self._prefixes) >= _PREFIXES_KEPT:
            self._prefixes.clear()
        self._prefixes[prefix] = found
        return found

    def _ranked(self, rowids: list[int], match: str, limit: int) -> list[int]:
        """The best `limit` of these matching rows by BM25 (k1 1.2, b 0.75, as FTS5's bm25),
        scored here: FTS5's bm25() first counts every row holding each word of the query
        and each filter tag (~25 ms for a common word at 100,000 briefs); here a word's
        count is read exactly up to _COUNTED rows and estimated past that from how densely
        its newest matches lie, and the rows' own words are read from the rows themselves."""
        phrases = _phrases(match)
        if not phrases or not rowids:
            return rowids[:limit]
        total, average = self._averages()
        weights = []
        for tokens, prefix in phrases:
            # A prefix is not counted (FTS5 merges all its words before the first row, ~30 ms
            # for a common one at 100k): the rows this query matched stand in for its count.
            holding = len(rowids) if prefix else self._row_count(tokens, total)
            weights.append(_idf(total, holding))
        patterns = [_pattern(tokens, prefix) for tokens, prefix in phrases]
        # The body and its length in words as FTS5 counted them (its docsize record).
        rows = self._all(
            "SELECT e.rowid, e.body, d.sz FROM entries e JOIN search_docsize d ON d.id = e.rowid "
            f"WHERE e.rowid IN ({','.join('?' * len(rowids))})",
            rowids,
        )
        scored = []
        for rowid, body, size in rows:
            norm = _K1 * (1 - _B + _B * _varint(bytes(size), 0)[0] / average)
            text = _folded(body)
            score = 0.0
            for pattern, idf in zip(patterns, weights, strict=True):
                tf = _count(pattern, text)
                if tf:
                    score += idf * tf * (_K1 + 1) / (tf + norm)
            scored.append((-score, -rowid))
        scored.sort()
        return [-rowid for _, rowid in scored[:limit]]

    def _row_count(self, tokens: tuple[str, ...], total: int) -> int:
        """How many rows hold a phrase: exact up to _COUNTED, estimated past it."""
        phrase = _token(" ".join(tokens))
        row = self._one(
            "SELECT rowid FROM search WHERE search MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
            (f"{{body}} : {phrase}", _COUNTED),
        )
        if row is None:
            return int(
                self._one(
                    "SELECT count(*) FROM search WHERE search MATCH ?", (f"{{body}} : {phrase}",)
                )[0]
            )
        # _COUNTED + 1 matches among the rows newer than `row`: as dense as that everywhere.
        span = max(1, int(self._one("SELECT max(rowid) FROM entries")[0]) - int(row[0]) + 1)
        return min(total, (_COUNTED + 1) * total // span)

    def _averages(self) -> tuple[int, float]:
        """(rows, average words per body) from FTS5's own totals record."""
        row = self._one("SELECT block FROM search_data WHERE id = 1")
        if row is None:
            return 1, 1.0
        values: list[int] = []
        at = 0
        block = bytes(row[0])
        while at < len(block) and len(values) < 2:
            value, at = _varint(block, at)
            values.append(value)
        rows, words = [*values, 0, 0][:2]
        return max(rows, 1), max(words / max(rows, 1), 1.0)

    def _date_tags(self, since: str, until: str) -> list[str] | None:
        """Date tags that select exactly the briefs dated `since`..`until` (ISO, inclusive):
        None when every brief is in the range, [] when none is.

        Whole years and months where no brief outside the range shares them, days at the
        edges; stretches without briefs (the undated ones count as year 1) are skipped.
        """
        if since > until:
            return []
        low, high = self._one("SELECT min(sort_date), max(sort_date) FROM briefs")
        if low is None:
            return []
        if since <= low and until >= high:
            return None

        def outside(first: str, last: str) -> bool:
            """Whether a brief dated first..last (inclusive) lies outside the range."""
            if first < since:
                row = self._one(
                    "SELECT 1 FROM briefs WHERE sort_date >= ? AND sort_date < ? LIMIT 1",
                    (first, since),
                )
                if row is not None:
                    return True
            if last > until:
                row = self._one(
                    "SELECT 1 FROM briefs WHERE sort_date > ? AND sort_date <= ? LIMIT 1",
                    (until, last),
                )
                if row is not None:
                    return True
            return False

        tags: list[str] = []
        at = self._one("SELECT min(sort_date) FROM briefs WHERE sort_date >= ?", (since,))[0]
        while at is not None and at <= until:
            year, month, _ = at.split("-")
            if not outside(f"{year}-01-01", f"{year}-12-31"):
                tags.append(f"y{year}")
                last = f"{year}-12-31"
            elif not outside(f"{year}-{month}-01", f"{year}-{month}-31"):
                tags.append(f"m{year}{month}")
                last = f"{year}-{month}-31"
            else:
                tags.append("d" + at.replace("-", ""))
                last = at
            at = self._one("SELECT min(sort_date) FROM briefs WHERE sort_date > ?", (last,))[0]
        return tags

    # -- digests and feeds: what they need, asked here, never a walk over every brief ----------

    def seen_rows(self, after: int, limit: int) -> list[tuple[int, str, bool]]:
        """(mark, id, live) of the ids first indexed after the mark `after`, oldest first.

        A mark is the `seen` row's rowid: rows are only ever added, so marks grow with time.
        """
        return [
            (mark, brief_id, bool(live))
            for mark, brief_id, live in self._all(
                "SELECT s.rowid, s.id, EXISTS (SELECT 1 FROM briefs b WHERE b.id = s.id) "
                "FROM seen s WHERE s.rowid > ? ORDER BY s.rowid LIMIT ?",
                (after, limit),
            )
        ]

    def seen_id_at(self, mark: int) -> str | None:
        """The id first indexed at this mark (None if there is no such mark)."""
        row = self._one("SELECT id FROM seen WHERE rowid = ?", (mark,))
        return row[0] if row else None

    def live_ids(self, ids: Collection[str]) -> list[str]:
        """Which of the given brief ids are live."""
        if not ids:
            return []
        return [
            r[0]
            for r in self._all(
                "SELECT id FROM briefs WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(ids)),),
            )
        ]

    @staticmethod
    def _eligible(
        topics: Collection[str],
        after: tuple[str, str] | None,
        exclude: Collection[str],
        include: Collection[str],
    ) -> tuple[str, list[Any]]:
        """SQL for the (sort_date, id) of the briefs a digest may show: ordered after `after`
        (sort date, id), or among `include` (ordered at or before it); never among `exclude`;
        carrying one of `topics` (none: any)."""

        def arm(where: str, args: list[Any]) -> tuple[str, list[Any]]:
            if topics:
                sql = (
                    "SELECT DISTINCT sort_date, brief_id AS id FROM topic_entries "
                    "WHERE kind = 'brief' AND topic IN (SELECT value FROM json_each(?))"
                )
                key, ident, first = "(sort_date, brief_id)", "brief_id", [json.dumps(list(topics))]
            else:
                sql = "SELECT sort_date, id FROM briefs WHERE 1"
                key, ident, first = "(sort_date, id)", "id", []
            sql += where.format(key=key, id=ident)
            if exclude:
                sql += f" AND {ident} NOT IN (SELECT value FROM json_each(?))"
                args = [*args, json.dumps(list(exclude))]
            return sql, [*first, *args]

        if after is None:
            return arm("", [])
        newer, newer_args = arm(" AND {key} > (?, ?)", [*after])
        if not include:
            return newer, newer_args
        late, late_args = arm(
            " AND {id} IN (SELECT value FROM json_each(?)) AND {key} <= (?, ?)",
            [json.dumps(list(include)), *after],
        )
        return f"{newer} UNION ALL {late}", [*newer_args, *late_args]

    def eligible_count(
        self,
        topics: Collection[str],
        after: tuple[str, str] | None,
        exclude: Collection[str],
        include: Collection[str],
    ) -> int:
        """How many briefs a digest may show (`_eligible`)."""
        keys, args = self._eligible(topics, after, exclude, include)
        return int(self._one(f"SELECT count(*) FROM ({keys})", args)[0])

    def eligible_json(
        self,
        topics: Collection[str],
        after: tuple[str, str] | None,
        exclude: Collection[str],
        include: Collection[str],
        offset: int,
        limit: int,
        among: Collection[str] | None = None,
    ) -> list[tuple[str, str]]:
        """(id, json) of the briefs a digest may show, newest first (only those `among`)."""
        keys, args = self._eligible(topics, after, exclude, include)
        where = ""
        if among is not None:
            where = " WHERE k.id IN (SELECT value FROM json_each(?))"
            args = [*args, json.dumps(list(among))]
        return self._all(
            f"SELECT k.id, b.json FROM ({keys}) k JOIN briefs b ON b.id = k.id{where} "
            "ORDER BY k.sort_date DESC, k.id DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )

    def eligible_newer(
        self,
        topics: Collection[str],
        after: tuple[str, str] | None,
        exclude: Collection[str],
        include: Collection[str],
        key: tuple[str, str],
    ) -> int:
        """How many of the briefs a digest may show are ordered after `key` (sort date, id)."""
        keys, args = self._eligible(topics, after, exclude, include)
        return int(
            self._one(
                f"SELECT count(*) FROM ({keys}) WHERE (sort_date, id) > (?, ?)", (*args, *key)
            )[0]
        )

    def published(self, source_key: str) -> bool:
        """Whether a live brief's source link has this key (`bot.briefs.links`)."""
        return self._one("SELECT 1 FROM briefs WHERE source_key = ?", (source_key,)) is not None

    def published_count(self) -> int:
        """How many distinct source link keys the live briefs have."""
        return int(
            self._one("SELECT count(DISTINCT source_key) FROM briefs WHERE source_key IS NOT NULL")[
                0
            ]
        )

    def published_keys(self) -> Iterator[str]:
        """Every distinct source link key of the live briefs, in order."""
        for row in self._conn.execute(
            "SELECT DISTINCT source_key FROM briefs WHERE source_key IS NOT NULL "
            "ORDER BY source_key"
        ):
            yield row[0]

    def brief_ids(self) -> Iterator[str]:
        """Every live brief id, in order."""
        for row in self._conn.execute("SELECT id FROM briefs ORDER BY id"):
            yield row[0]

    def has_brief(self, brief_id: str) -> bool:
        """Whether a brief with this id is live."""
        return self._one("SELECT 1 FROM briefs WHERE id = ?", (brief_id,)) is not None


_K1, _B = 1.2, 0.75
# A phrase's row count is read exactly up to this many rows (a cheap walk), estimated past it.
_COUNTED = 1000
# FTS5 query syntax: "strings" and barewords (with a trailing * for a prefix); operators,
# brackets and column names are not phrases.
_PHRASE = re.compile(r'"((?:[^"]|"")*)"\s*(\*?)|([^\s"(){}:*^+,-]+)\s*(\*?)(\s*:)?')
_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})
# A query in pieces: "strings", barewords, runs of space, and single characters of syntax.
_QUERY_PIECE = re.compile(r'"(?:[^"]|"")*"|[^\s"(){}:*^+,-]+|\s+|.', re.DOTALL)
_SYNTAX = frozenset("(){}:*^+,-") | frozenset(" \t\n\r\f\v")
# A prefix is searched as at most this many words, those in the most entries: an OR of
# common words with a filter costs ~0.7 ms a word at 100k (docs/benchmarks.md).
PREFIX_WORDS = 10
# Prefixes whose words a snapshot keeps (it lives until the next reload).
_PREFIXES_KEPT = 1024


def _explicit_and(pieces: list[str], groups: set[int]) -> str:
    """The pieces joined, with an explicit AND beside each bracketed group (`groups`: their
    indexes) that a phrase stands next to: FTS5 reads `a b` as a AND b but refuses
    `a (b OR c)`. A run of phrases given one is bracketed, as FTS5 reads it: `x NOT a b*`
    stays x NOT (a AND b*), since side by side binds tighter than NOT."""
    if not groups:
        return "".join(pieces)
    joiner = _AndJoiner()
    for at, piece in enumerate(pieces):
        joiner.add(piece, at in groups)
    return joiner.finish()


class _AndJoiner:
    """The state of `_explicit_and` as it walks a query's pieces."""

    def __init__(self) -> None:
        self.out: list[str] = []
        # Per bracket depth: where its current run of side-by-side phrases starts in `out`
        # (-1: none) and whether that run needs brackets; and whether the bracket is NEAR's.
        self.runs: list[list[Any]] = [[-1, False, False]]
        self.braces = False  # inside {a column list}
        self.ended = False  # whether the last solid piece ended a phrase (or a NEAR group)
        self.touched = False  # whether it was a bracketed group
        self.operand = (0, False)  # where the current phrase (with its column) starts in
        # `out`, and whether a phrase ended before it

    def add(self, piece: str, group: bool) -> None:
        """Take the next piece (`group`: a bracketed group that replaced a prefix)."""
        if piece.isspace():
            self.out.append(piece)
            return
        if self.braces or self.runs[-1][2]:  # a column list, or inside NEAR(…): no joining
            self.braces = (self.braces or piece == "{") and piece != "}"
            closes_near = piece == ")" and not self.braces
            if closes_near:
                self.runs.pop()
            self.ended = closes_near
        elif piece in ("AND", "OR", "NOT", ")") or (piece == "(" and not group):
            self._operator(piece)
        else:
            self._phrase(piece, group)
        self.out.append(piece)
        self.touched = group

    def _operator(self, piece: str) -> None:
        near = piece == "(" and _last_solid(self.out) == "NEAR"
        if not near:  # NEAR( … ) is one phrase of the run it stands in
            self._close()
        if piece == "(":
            self.runs.append([-1, False, near])
        elif piece == ")" and len(self.runs) > 1:
            self.runs.pop()
        self.ended = False

    def _phrase(self, piece: str, group: bool) -> None:
        starts = group or piece[0] not in ":}+*,"
        after = _last_solid(self.out)
        if self.ended and starts and (group or self.touched):
            self.out.append(" AND ")
            self.runs[-1][1] = True
        elif group and after == ":" and self.operand[1]:
            # `x col : b*`: the column filter and its group are one operand.
            self.out.insert(self.operand[0], " AND ")
            self.runs[-1][1] = True
        if self.runs[-1][0] < 0:
            self.runs[-1][0] = len(self.out)
        if starts and after not in (":", "-", "^", "+"):
            self.operand = (len(self.out), self.ended)
        self.braces = piece == "{"
        self.ended = group or piece == "*" or piece[0] not in _SYNTAX

    def _close(self) -> None:
        """End the current run, bracketing it if it was given an AND."""
        start, wrap, _ = self.runs[-1]
        if wrap:
            self.out.insert(start, "(")
            self.out.append(")")
        self.runs[-1][:2] = [-1, False]

    def finish(self) -> str:
        """The query, every run closed."""
        del self.runs[1:]  # unbalanced: FTS5 refuses it, and the query is searched as words
        self._close()
        return "".join(self.out)


def _next_solid(pieces: list[str], i: int) -> int | None:
    """The index of the next piece after `i` that is not space."""
    for j in range(i + 1, len(pieces)):
        if not pieces[j].isspace():
            return j
    return None


def _last_solid(out: list[str]) -> str | None:
    """The last piece written that is not space."""
    return next((p for p in reversed(out) if not p.isspace()), None)


def _last_word(out: list[str]) -> str | None:
    """The last piece written that is not space, if it is a bareword."""
    last = _last_solid(out)
    return last if last is not None and last[0] not in _SYNTAX and last[0] != '"' else None


def _folded(text: str) -> str:
    """Text folded as FTS5's unicode61 tokenizer (remove_diacritics 2) folds it, near enough."""
    folded = text.casefold()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    return folded


def _tokens(text: str) -> list[str]:
    """Words as FTS5's unicode61 tokenizer sees them, near enough."""
    return _WORDS.findall(_folded(text))


def _pattern(tokens: tuple[str, ...], prefix: bool) -> re.Pattern[str]:
    """A phrase as a pattern over folded text: its words in order, only separators between.
    It starts with the first word itself (a look-behind would cost the engine its fast
    literal search, 5x slower): `_count` checks what precedes each match."""
    body = r"[\W_]+".join(map(re.escape, tokens))
    return re.compile(body + (r"[^\W_]*" if prefix else r"(?![^\W_])"))


def _count(pattern: re.Pattern[str], text: str) -> int:
    """How many times a phrase pattern matches at the start of a word."""
    return sum(
        1 for m in pattern.finditer(text) if not m.start() or not text[m.start() - 1].isalnum()
    )


_WORDS = re.compile(r"[^\W_]+")


def _phrases(match: str) -> list[tuple[tuple[str, ...], bool]]:
    """The phrases of an FTS5 query as folded words, and whether each ends in a prefix."""
    out = []
    for found in _PHRASE.finditer(match):
        string, star, word, word_star, column = found.groups()
        if word is not None and (word in _OPERATORS or column):
            continue
        tokens = tuple(_tokens(string.replace('""', '"') if string is not None else word))
        if tokens:
            out.append((tokens, bool(star or word_star)))
    return out


def _idf(rows: int, holding: int) -> float:
    """FTS5's bm25 IDF: never below a millionth."""
    holding = min(holding, rows)
    value = math.log((rows - holding + 0.5) / (holding + 0.5))
    return value if value > 0 else 1e-6


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """One SQLite varint (big-endian, 7 bits a byte, the ninth byte whole) and where it ends."""
    value = 0
    for i in range(9):
        byte = data[at + i]
        if i == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at + i + 1
    raise AssertionError("unreachable")


def speaker_tag(name: str) -> str:
    """The full-text tag of a speaker's canonical name (as entries.tags writes it)."""
    return "s" + name.encode().hex()


def topic_tag(topic_id: str) -> str:
    """The full-text tag of a topic id (as entries.tags writes it)."""
    return "t" + topic_id.replace("q", "qq").replace("-", "qx")


def _token(text: str) -> str:
    """A string as one FTS5 string literal."""
    return '"' + text.replace('"', '""') + '"'


def _balanced(query: str) -> bool:
    """Whether every bracket outside a "string" closes, in order."""
    depth, quoted = 0, False
    for char in query:
        if char == '"':
            quoted = not quoted  # a doubled "" inside a string toggles twice: still inside
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not quoted


def plain_words(query: str) -> str:
    """A query as plain words for FTS5: each word quoted, so no character is syntax; an
    operator's own word (AND, OR, NOT, NEAR in capitals) was meant as syntax, and is left out."""
    # A trailing * stays a prefix search: "minera"* finds minerals.
    return " ".join(
        '"' + w.rstrip("*") + '"' + ("*" if w.endswith("*") else "")
        for w in re.findall(r"\w+\*?", query)
        if w not in _OPERATORS
    )
