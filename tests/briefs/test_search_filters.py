"""Filtered full-text search returns exactly the entries a plain reading of the briefs finds.

A small synthetic corpus (bench.corpus) is given dates spread over years, months and days (and
undated briefs), topic ids that need escaping (q, -), and speakers with non-ASCII names; every
filter combination is checked against a brute-force reading of the validated briefs.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Iterator

import pytest
import yaml

from bench.corpus import WORDS, generate
from bot.briefs.library import Library, load_library
from bot.briefs.models import NO_DATE, Brief

# Topic ids whose escaped forms would collide under a naive encoding (q and - both rewritten).
TOPIC_IDS = ["q-x", "qx", "qqx", "x-q", "iraq", "india-pakistan", "a", "b-b-b"]
# Speaker surnames put in place of the generator's, so some names are not ASCII.
SURNAMES = {"Speaker00000": "Ångström", "Speaker00001": "Øre-Zoë", "Speaker00002": "Dar"}
BRIEFS = 48


def _dates(rng: random.Random) -> Iterator[dt.date | None]:
    """Dates over three years, clustered in some months and days; every seventh undated."""
    for i in range(BRIEFS):
        if i % 7 == 3:
            yield None
        elif i % 5 == 0:
            yield dt.date(2024, 2, 28) + dt.timedelta(days=i % 3)  # 28 Feb, 29 Feb, 1 Mar
        else:
            yield dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(3 * 365))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Library, list[Brief]]]:
    root = tmp_path_factory.mktemp("corpus")
    generate(root, BRIEFS, speakers=12, topics=len(TOPIC_IDS), seed=3)
    rng = random.Random(5)
    for path in root.rglob("*"):
        if path.is_file():
            text = path.read_text("utf-8")
            for i, topic in enumerate(TOPIC_IDS):
                text = text.replace(f"topic-{i:04d}", topic)
            for old, new in SURNAMES.items():
                text = text.replace(old, new)
            path.write_text(text, "utf-8")
    for path, date in zip(sorted(root.glob("brief-*.yaml")), _dates(rng), strict=True):
        data = yaml.safe_load(path.read_text("utf-8"))
        data["date"] = (
            {"value": date.isoformat(), "status": "stated"} if date else {"status": "unknown"}
        )
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    library = load_library(root)
    assert not library.errors, library.errors[:3]
    briefs = list(library.briefs)
    assert len(briefs) == BRIEFS
    yield library, briefs
    library.close()


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def _expected(
    briefs: list[Brief],
    word: str,
    speaker: str | None = None,
    topic: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> set[tuple[str, str, str]]:
    """(brief id, kind, text) of every entry a plain reading finds."""
    found = set()
    for brief in briefs:
        date = brief.date.value or NO_DATE
        if (since and date < since) or (until and date > until):
            continue
        entries: list[tuple[str, str, str | None, tuple[str, ...]]] = [
            ("title", brief.title, None, brief.topics),
            ("summary", brief.summary, None, brief.topics),
        ]
        entries += [("point", p.text, None, p.topics) for p in brief.key_points]
        entries += [("quote", q.text, q.speaker_name, q.topics) for q in brief.quotes]
        entries += [("claim", c.text, c.claimant_name, c.topics) for c in brief.claims]
        for kind, text, who, topics in entries:
            if word not in _words(text):
                continue
            if speaker is not None and who != speaker:
                continue
            if topic is not None and topic not in topics:
                continue
            found.add((brief.id, kind, text))
    return found


def _entry(library: Library, brief_id: str, marked: str) -> str:
    """The whole text of the entry a hit's snippet (cut with …) was taken from."""
    brief = library.get(brief_id)
    assert brief is not None
    snippet = marked.replace("\x02", "").replace("\x03", "")
    pieces = [p for p in snippet.split("…") if p]
    bodies = [brief.title, brief.summary, *(x.text for x in brief.key_points)]
    bodies += [q.text for q in brief.quotes] + [c.text for c in brief.claims]
    full = [b for b in bodies if all(p in b for p in pieces)]
    assert full, snippet
    return full[0]


def _found(library: Library, word: str, **filters: object) -> set[tuple[str, str, str]]:
    """(brief id, kind, text) of every hit."""
    hits = library.search(word, limit=10_000, **filters)  # type: ignore[arg-type]
    assert hits.ranked == 0
    out = {(head.id, hit.kind, _entry(library, head.id, hit.marked)) for head, hit in hits}
    assert len(out) == len(hits)  # no entry twice
    return out


def test_every_filter_combination_returns_exactly_the_right_entries(
    corpus: tuple[Library, list[Brief]],
) -> None:
    library, briefs = corpus
    rng = random.Random(11)
    speakers = sorted(library.speakers)
    assert any(not s.isascii() for s in speakers)
    dates = sorted({b.date.value for b in briefs if b.date.value})
    bounds = [None, NO_DATE, *rng.sample(dates, 6), dt.date(2024, 2, 29), dt.date(2024, 3, 1)]
    bounds += [dt.date(2023, 1, 1), dt.date(2023, 12, 31), dt.date(2026, 6, 1), dt.date(2019, 1, 1)]
    checked = 0
    for _ in range(300):
        word = rng.choice(WORDS)
        filters = {
            "speaker": rng.choice([None, None, *speakers]),
            "topic": rng.choice([None, None, *TOPIC_IDS]),
            "since": rng.choice(bounds),
            "until": rng.choice(bounds),
        }
        expected = _expected(briefs, word, **filters)  # type: ignore[arg-type]
        assert _found(library, word, **filters) == expected, (word, filters)
        checked += bool(expected)
    assert checked > 100  # most combinations find something: the test is not vacuous


def test_date_edges_are_exact(corpus: tuple[Library, list[Brief]]) -> None:
    library, briefs = corpus
    for since, until in [
        (dt.date(2024, 2, 29), dt.date(2024, 2, 29)),  # one day
        (dt.date(2024, 2, 29), None),
        (None, dt.date(2024, 2, 28)),  # undated briefs count as the oldest: included
        (dt.date(2024, 3, 1), dt.date(2024, 2, 28)),  # an empty range
        (dt.date(1999, 1, 1), dt.date(2099, 1, 1)),  # everything
    ]:
        for word in ("minister", "trade"):
            expected = _expected(briefs, word, since=since, until=until)
            assert _found(library, word, since=since, until=until) == expected
    undated = {b.id for b in briefs if b.date.value is None}
    before = {i for i, _, _ in _found(library, "minister", until=dt.date(2023, 6, 1))}
    assert undated & before == {i for i, _, _ in _expected(briefs, "minister") if i in undated}
    after = {i for i, _, _ in _found(library, "minister", since=dt.date(2023, 6, 1))}
    assert not undated & after


def test_topics_that_escape_alike_stay_apart(corpus: tuple[Library, list[Brief]]) -> None:
    library, briefs = corpus
    for topic in TOPIC_IDS:
        expected = _expected(briefs, "said", topic=topic)
        assert expected, topic
        assert _found(library, "said", topic=topic) == expected
    assert _found(library, "said", topic="no-such-topic") == set()


def test_a_word_never_matches_a_filter_tag(corpus: tuple[Library, list[Brief]]) -> None:
    library, _ = corpus
    # Tags are s<hex>, t<topic>, y/m/d<date>; no word of the bodies starts like these.
    queries = ["tiraq", "tqqx", "y2024", "m202402", "d20240229", "y2*", "m2*", "d2*", "s4*"]
    for query in (*queries, "s5*", "tq*", "ti*", "tags: tiraq", "tags: y*"):
        assert list(library.search(query)) == [], query


def test_phrases_prefixes_and_bad_syntax_with_filters(
    corpus: tuple[Library, list[Brief]],
) -> None:
    library, briefs = corpus
    speaker = max(library.speakers.values(), key=lambda s: s.quote_count).name
    by = {(i, k) for i, k, _ in _found(library, "minis*", speaker=speaker)}
    assert by == {(i, k) for i, k, _ in _expected(briefs, "minister", speaker=speaker)}
    # A phrase: the words next to each other (punctuation between them does not count).
    phrase = _found(library, '"trade security"', topic="iraq")
    near = {
        (i, k, t)
        for i, k, t in _expected(briefs, "trade", topic="iraq")
        if " trade security " in " " + " ".join(re.findall(r"\w+", t.casefold())) + " "
    }
    assert phrase == near and phrase
    # Not FTS5 syntax: searched as its words, filters kept.
    for query in ("minister)", "(minister", '"minister', "minister (", ")minister("):
        got = _found(library, query, speaker=speaker)
        assert got == _expected(briefs, "minister", speaker=speaker), query


def _bm25(text: str, words: tuple[str, ...], average: float) -> float:
    """BM25 (k1 1.2, b 0.75) of one entry for single-word phrases of equal weight."""
    tokens = re.findall(r"[^\W_]+", text.casefold())
    norm = 1.2 * (0.25 + 0.75 * len(tokens) / average)
    return sum(tf * 2.2 / (tf + norm) for w in words if (tf := tokens.count(w)))


def test_hits_come_best_first_by_bm25(corpus: tuple[Library, list[Brief]]) -> None:
    library, briefs = corpus
    bodies = [
        text
        for b in briefs
        for text in (
            b.title,
            b.summary,
            *(p.text for p in b.key_points),
            *(q.text for q in b.quotes),
            *(c.text for c in b.claims),
        )
    ]
    average = sum(len(re.findall(r"[^\W_]+", t)) for t in bodies) / len(bodies)
    checked = 0
    for word in ("minister", "trade", "summit"):
        for topic in TOPIC_IDS[:4]:
            hits = library.search(word, topic=topic, limit=10_000)
            assert len(hits) > 2
            texts = [_entry(library, head.id, hit.marked) for head, hit in hits]
            scores = [_bm25(text, (word,), average) for text in texts]
            assert scores == sorted(scores, reverse=True), (word, topic, scores)
            checked += len(set(scores)) > 1
    assert checked >= 6  # the order is not vacuous: scores differ
