"""The fast paths change speed only: same data, same errors, same briefs as the full path."""

from __future__ import annotations

import datetime as dt
import gc
import math
import multiprocessing
import random
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.briefs import fast
from bot.briefs.errors import BriefFileError, parse_located
from bot.briefs.fast import Fallback, gc_paused, parse_fast
from bot.briefs.library import load_library
from bot.briefs.models import Brief, Vocabulary
from tests.conftest import BRIEF, VOCABULARY, write_briefs


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (True is not 1, 1.0 is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def check(text: str) -> bool:
    """Fast-path data equals the full path's; returns whether the fast path took the file."""
    try:
        fast = parse_fast(text)
    except Fallback:
        return False
    data, _ = parse_located(Path("x.yaml"), text)  # must not raise: the fast path vouched
    assert same(fast, data), (text, fast, data)
    return True


TAKEN = [
    BRIEF,
    "a: 1\nb: 1.5\nc: true\nd: ~\ne:\nf: 2026-03-05\ng: 2026-03-05T10:00:00Z\nh: '1'\n",
    "a: [yes, No, on, OFF, 0x1F, 0o17, 1_000, 1:30, .inf, -.Inf, .nan, 1e3, +1]\n",
    "a: {b: {c: [d, {e: f}]}}\n",
    "'<<': quoted merge key is a plain string\n",
    "a: \"=\"\nb: '!'\nc: \"*\"\nd: '&'\n",
    "--- \na: b\n...\n",
    "\ufeffa: b\n",
    "a: b\r\nc: d\r\n",
    "a: |\n  block\n  text\nb: >\n  folded\n  text\n",
    "a: ''\nb: \"\"\n",
    "k" + ": [" + ", ".join(["x"] * 1000) + "]\n",
]

REFUSED = [
    "a: &x 1\nb: *x\n",  # anchors and aliases
    "a: !!str 1\n",  # explicit tags
    "a: !custom x\n",
    "a: !!python/object/apply:os.system [echo]\n",
    "base: &b {x: 1}\nc:\n  <<: *b\n",  # merge keys
    "a: 1\na: 2\n",  # duplicate keys
    "'a': 1\na: 2\n",
    "1: a\n'1': b\n",  # a non-string key
    "null: a\n",
    "? [a, b]\n: c\n",  # a collection as a key
    "a: =\n",  # the 'value' tag
    "a: b\n---\nc: d\n",  # two documents
    "",  # no document
    "just text\n",  # not a mapping
    "- a\n",
    "a: " + "[" * 39 + "]" * 39 + "\n",  # deep nesting (the full path decides)
    "a: [" + ",".join(["x"] * 100_001) + "]\n",  # too many nodes
    "a: [unclosed\n",  # syntax errors
]


@pytest.mark.parametrize("text", TAKEN)
def test_fast_path_takes_plain_files_and_builds_the_same_data(text: str) -> None:
    assert check(text)


@pytest.mark.parametrize("text", REFUSED)
def test_fast_path_leaves_everything_unusual_to_the_full_path(text: str) -> None:
    with pytest.raises(Fallback):
        parse_fast(text)


def random_document(rng: random.Random, depth: int = 0) -> str:
    """Random YAML-ish text: plain, quoted and special scalars, flow and block collections."""
    scalars = [
        "word", "two words", "Yes", "no", "NULL", "~", "", "12", "-3", "0x1f", "1_000", "3.5",
        "1e5", ".NaN", "2026-01-02", "2026-01-02 10:00:00", "1:20", "'quoted'", '"dq\\n"',
        "<<", "=", "!", "*", "&", "'a: b'", "café", "“curly”", "a#b", "-", "?", "true",
    ]  # fmt: skip
    keys = ["a", "b", "c", "Yes", "1", "'1'", "null", "<<", "'<<'", "x y", '"a"']
    if depth > 3 or rng.random() < 0.3:
        return rng.choice(scalars)
    if rng.random() < 0.5:
        items = [random_document(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        return "[" + ", ".join(items) + "]"
    pairs = [
        f"{rng.choice(keys)}: {random_document(rng, depth + 1)}" for _ in range(rng.randint(1, 4))
    ]
    return "{" + ", ".join(pairs) + "}"


def test_random_documents_agree_with_the_full_path() -> None:
    rng = random.Random(20260305)
    taken = 0
    for _ in range(3000):
        text = "root: " + random_document(rng) + "\nother: " + random_document(rng) + "\n"
        try:
            taken += check(text)
        except BriefFileError:
            raise AssertionError(f"fast path took a file the full path refuses: {text!r}") from None
        except yaml.YAMLError:
            raise AssertionError(f"fast path took a file PyYAML cannot read: {text!r}") from None
    assert taken > 300  # the comparison was not vacuous


def test_dates_and_nulls_come_out_typed() -> None:
    data = parse_fast("a: 2026-03-05\nb: null\nc: '2026-03-05'\n")
    assert data == {"a": dt.date(2026, 3, 5), "b": None, "c": "2026-03-05"}


@pytest.mark.parametrize(
    "topics",
    [
        ["budget", "housing"],
        ["Budget", "HOUSING", "  transport  "],
        ["finance", "spending", "budget", "Finance"],
        ["Trains", "buses"],
        ["housng"],
        [],
        ["budget", 5],
        ["budget", ["housing"]],
        ["budget", None],
        ["", "budget"],
        "budget",
        ("budget", "transport"),
    ],
)
def test_topic_fast_path_matches_the_per_item_path(topics: Any) -> None:
    vocabulary = Vocabulary.model_validate(yaml.safe_load(VOCABULARY))
    data = yaml.safe_load(BRIEF)
    data["topics"] = topics

    def outcome(context: dict[str, Any]) -> object:
        try:
            return Brief.model_validate(data, context=context).topics
        except Exception as exc:  # noqa: BLE001 - the errors are what is compared
            return [(e["loc"], e["msg"]) for e in exc.errors()]  # type: ignore[attr-defined]

    fast = outcome({"vocabulary": vocabulary, "topic_ids": vocabulary.exact_names()})
    slow = outcome({"vocabulary": vocabulary, "topic_ids": {}})  # every name misses: per item
    only_vocabulary = outcome({"vocabulary": vocabulary})
    assert fast == slow == only_vocabulary


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_worker_processes_load_exactly_what_one_process_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"b{i}.yaml": BRIEF.replace("id: council-budget", f"id: brief-{i}") for i in range(12)}
    files["broken.yaml"] = "id: x\ntitle: [unclosed\n"
    files["dup.yaml"] = BRIEF
    files["ungrounded.yaml"] = BRIEF.replace("id: council-budget", "id: u").replace(
        "a missed chance", "a missed opportunity"
    )
    root = write_briefs(tmp_path / "b", **files)
    serial = load_library(root)
    pools: list[object] = []

    class Pool(ProcessPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            pools.append(self)

    monkeypatch.setattr(fast, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(fast, "_cores", lambda: 2)
    monkeypatch.setattr(fast, "_fork_context", lambda: multiprocessing.get_context("fork"))
    monkeypatch.setattr(fast, "ProcessPoolExecutor", Pool)
    parallel = load_library(root)
    assert len(pools) == 1
    assert [str(e) for e in parallel.errors] == [str(e) for e in serial.errors]
    assert [b.model_dump() for b in parallel.briefs] == [b.model_dump() for b in serial.briefs]


def test_no_workers_while_other_threads_run() -> None:
    done = threading.Event()
    thread = threading.Thread(target=done.wait)
    thread.start()
    try:
        assert fast._fork_context() is None
    finally:
        done.set()
        thread.join()


@pytest.mark.parametrize("enabled", [True, False])
def test_gc_pause_restores_the_collector(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with gc_paused():
            assert not gc.isenabled()
            with gc_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        assert gc.get_freeze_count() == 0
    finally:
        (gc.enable if was else gc.disable)()


def test_an_impossible_date_is_a_located_error_not_a_crash(tmp_path: Path) -> None:
    bad = BRIEF.replace("id: council-budget", "id: bad-date").replace("2026-03-05", "2026-02-30")
    root = write_briefs(tmp_path / "b", **{"bad.yaml": bad})
    library = load_library(root)
    assert [b.id for b in library.briefs] == ["council-budget"]
    assert [str(e) for e in library.errors] == [
        f"{root / 'bad.yaml'}:3: (file): YAML error: '2026-02-30' is not a valid value "
        "(day is out of range for month)"
    ]


def test_a_source_symlink_loop_is_a_located_error_not_a_crash(tmp_path: Path) -> None:
    looped = BRIEF.replace("id: council-budget", "id: looped").replace(
        "sources/council.txt", "sources/loop.txt"
    )
    root = write_briefs(tmp_path / "b", **{"looped.yaml": looped})
    (root / "sources" / "loop.txt").symlink_to("loop.txt")
    library = load_library(root)
    assert [b.id for b in library.briefs] == ["council-budget"]
    [error] = [str(e) for e in library.errors]
    assert error.startswith(
        f"{root / 'looped.yaml'}:7: source.text: cannot read source text sources/loop.txt: "
        "symbolic link loop"
    )


def test_a_nul_in_the_source_name_is_a_located_error_not_a_crash(tmp_path: Path) -> None:
    nul = BRIEF.replace("id: council-budget", "id: nul").replace(
        "text: sources/council.txt", 'text: "sources/a\\0b.txt"'
    )
    root = write_briefs(tmp_path / "b", **{"nul.yaml": nul})
    library = load_library(root)
    assert [b.id for b in library.briefs] == ["council-budget"]
    [error] = [str(e) for e in library.errors]
    # Refused as text before any path is built from it.
    assert "nul.yaml:7: source.text: contains the control character \\x00" in error
