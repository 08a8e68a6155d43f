"""The daily digest's content: what a subscribed channel reads, and what it is owed next."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.briefs.library import load_library
from bot.briefs.models import order_key
from bot.digest.content import build_digest, lead
from bot.reply import Reply
from tests.digest.helpers import make_brief, newest_first

DAY = dt.date(2026, 3, 8)


def labels(reply: Reply) -> list[str | None]:
    return [item.label for item in reply.sections[0].items]


def more(reply: Reply) -> str:
    bodies = [s.body for s in reply.sections if s.heading == "More"]
    assert len(bodies) == 1, reply.sections
    assert bodies[0] is not None
    return bodies[0]


def test_items_are_newest_first_with_title_date_lead_and_topics() -> None:
    briefs = [
        make_brief(
            "late",
            dt.date(2026, 3, 7),
            ("budget", "housing"),
            title="Late story",
            summary="First sentence here. Second one. Third one is left out.",
        ),
        make_brief("early", dt.date(2026, 3, 1), title="Early story"),
    ]
    digest = build_digest(
        briefs, {"old"}, (), day=DAY, topic_labels={"budget": "Budget", "housing": "Housing"}
    )
    assert digest is not None
    reply = digest.reply
    assert reply.title == "Digest — 2026-03-08"
    assert labels(reply) == ["Late story", "Early story"]
    item = reply.sections[0].items[0]
    assert item.text == "First sentence here. Second one."
    assert item.detail is not None
    assert "2026-03-07" in item.detail and "Budget, Housing" in item.detail
    assert "/summary brief:late" in item.detail
    assert reply.description == "2 new briefs since the last digest."
    assert digest.shown_ids == ("late", "early")
    assert not digest.first and digest.cutoff is None  # only a first digest sets a cutoff


def test_brief_without_a_date_says_so() -> None:
    digest = build_digest([make_brief("undated", None)], {"x"}, ())
    assert digest is not None
    detail = digest.reply.sections[0].items[0].detail
    assert detail is not None and "date unknown" in detail


def test_already_sent_briefs_are_left_out() -> None:
    digest = build_digest(newest_first(3), {"b2", "b0"}, ())
    assert digest is not None
    assert digest.shown_ids == ("b1",)


def test_topic_filter_matches_any_subscribed_topic_and_empty_means_all() -> None:
    briefs = [
        make_brief("a", topics=("budget",)),
        make_brief("b", topics=("transport", "housing")),
        make_brief("c", topics=("minerals",)),
    ]
    only = build_digest(briefs, {"x"}, ("housing", "budget"))
    assert only is not None and only.shown_ids == ("a", "b")
    assert "on housing, budget" in (only.reply.description or "")
    assert only.reply.footer is not None and only.reply.footer.startswith("Topics: housing, budget")
    every = build_digest(briefs, {"x"}, ())
    assert every is not None and every.shown_ids == ("a", "b", "c")
    assert every.reply.footer is not None and every.reply.footer.startswith("All topics")
    assert build_digest(briefs, {"x"}, ("security",)) is None


def test_nothing_new_is_no_digest() -> None:
    briefs = newest_first(2)
    assert build_digest(briefs, {"b0", "b1"}, ()) is None
    assert build_digest([], set(), ()) is None


def test_cap_says_how_many_more_and_the_rest_come_next_time() -> None:
    briefs = newest_first(13)
    digest = build_digest(briefs, {"older"}, (), cap=10)
    assert digest is not None
    assert digest.shown_ids == tuple(f"b{n}" for n in range(12, 2, -1))
    # Only what was shown is delivered; the three oldest are still owed.
    assert digest.cutoff is None and digest.older == 0
    assert digest.waiting == 3
    text = more(digest.reply)
    assert "3 more" in text and "next digest" in text and "/briefs" in text
    following = build_digest(briefs, {"older", *digest.shown_ids}, (), cap=10)
    assert following is not None and following.shown_ids == ("b2", "b1", "b0")
    assert not [s for s in following.reply.sections if s.heading == "More"]


def test_first_digest_shows_the_latest_and_does_not_drip_the_archive() -> None:
    briefs = newest_first(15)
    digest = build_digest(briefs, set(), (), cap=10, day=DAY)
    assert digest is not None and digest.first
    assert digest.shown_ids == tuple(f"b{n}" for n in range(14, 4, -1))
    # The 5 older ones are the archive: everything ordered at or before the oldest shown.
    assert digest.cutoff == order_key(briefs[9]) == (dt.date(2026, 1, 6), "b5")
    assert (digest.waiting, digest.older) == (0, 5)
    assert "first daily digest" in (digest.reply.description or "")
    assert "5 older briefs" in more(digest.reply) and "/briefs" in more(digest.reply)
    # The next day, with nothing new, nothing is posted.
    assert build_digest(briefs, set(digest.shown_ids), (), cutoff=digest.cutoff) is None


def test_order_key_is_the_librarys_newest_first_order(tmp_path: Path) -> None:
    briefs = [
        make_brief("undated", None),
        make_brief("a-same-day", dt.date(2026, 3, 1)),
        make_brief("z-same-day", dt.date(2026, 3, 1)),
        make_brief("later", dt.date(2026, 3, 2)),
    ]
    (tmp_path / "topics.yaml").write_text("topics: [{id: budget, label: Budget}]\n")
    for brief in briefs:
        data = brief.model_dump(mode="json", exclude_defaults=True)
        (tmp_path / f"{brief.id}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    library = load_library(tmp_path)
    assert [b.id for b in library.briefs] == ["later", "z-same-day", "a-same-day", "undated"]
    assert order_key(briefs[0]) < order_key(briefs[1]) < order_key(briefs[2]) < order_key(briefs[3])


def test_after_the_first_digest_only_briefs_ordered_after_the_cutoff_come() -> None:
    briefs = newest_first(15)  # b14 (2026-01-15) … b0 (2026-01-01)
    first = build_digest(briefs, set(), (), cap=10)
    assert first is not None and first.cutoff == (dt.date(2026, 1, 6), "b5")
    sent = set(first.shown_ids)
    # Added to disk after the first digest: dated after the cutoff (even before the newest
    # brief shown, or on the cutoff's date with a greater id) they come; dated before it,
    # on its date with a smaller id, or undated, they are archive.
    late = [
        make_brief("fresh", dt.date(2026, 3, 9)),
        make_brief("late-after", dt.date(2026, 1, 10)),
        make_brief("b5x-same-day", dt.date(2026, 1, 6)),
        make_brief("a-same-day", dt.date(2026, 1, 6)),
        make_brief("late-before", dt.date(2026, 1, 3)),
        make_brief("undated", None),
    ]
    library = sorted([*briefs, *late], key=order_key, reverse=True)
    digest = build_digest(library, sent, (), cap=10, cutoff=first.cutoff)
    assert digest is not None and not digest.first and digest.cutoff is None
    assert digest.shown_ids == ("fresh", "late-after", "b5x-same-day")
    assert (digest.waiting, digest.older) == (0, 0)
    assert not [s for s in digest.reply.sections if s.heading == "More"]
    following = build_digest(library, {*sent, *digest.shown_ids}, (), cutoff=first.cutoff)
    assert following is None


def test_the_cutoff_holds_whatever_the_topics() -> None:
    briefs = [
        make_brief("new-housing", dt.date(2026, 2, 1), ("housing",)),
        *newest_first(3, topics=("budget",)),
        make_brief("old-housing", dt.date(2025, 12, 1), ("housing",)),
    ]
    first = build_digest(briefs, set(), ("budget",), cap=2)
    assert first is not None and first.shown_ids == ("b2", "b1")
    assert first.older == 1  # b0; the housing briefs are not counted, not being subscribed
    # Housing added to the subscription: the housing brief after the cutoff comes, the one
    # before it stays archive.
    digest = build_digest(briefs, set(first.shown_ids), ("budget", "housing"), cutoff=first.cutoff)
    assert digest is not None and digest.shown_ids == ("new-housing",)


def test_history_without_a_cutoff_is_not_a_first_digest() -> None:
    # A channel from before the archive cutoff existed: a row per brief it had, no cutoff.
    briefs = newest_first(15)
    digest = build_digest(briefs, {f"b{n}" for n in range(12)}, (), cap=10)
    assert digest is not None and not digest.first and digest.cutoff is None
    assert digest.shown_ids == ("b14", "b13", "b12")


def test_first_digest_of_a_small_library_has_no_more_line() -> None:
    digest = build_digest(newest_first(1), set(), ())
    assert digest is not None
    assert "the latest brief" in (digest.reply.description or "")
    assert [s.heading for s in digest.reply.sections] == ["Latest briefs"]


def test_pinned_recreates_the_interrupted_digest() -> None:
    briefs = [make_brief("newer"), *newest_first(3)]
    digest = build_digest(briefs, {"x"}, (), pinned=("b2", "b0"))
    assert digest is not None
    assert digest.shown_ids == ("b2", "b0")
    assert digest.cutoff is None
    assert "2 more" in more(digest.reply)
    # Pinned briefs that no longer exist fall back to an ordinary digest.
    fallback = build_digest(briefs, {"x"}, (), pinned=("gone",))
    assert fallback is not None and fallback.shown_ids[0] == "newer"


def test_pinned_first_digest_leaves_a_brief_that_arrived_meanwhile_for_next_time() -> None:
    briefs = [make_brief("breaking"), *newest_first(12)]
    original = ("b11", "b10", "b9", "b8", "b7", "b6", "b5", "b4", "b3", "b2")
    digest = build_digest(briefs, set(), (), pinned=original)
    assert digest is not None and digest.first
    assert digest.shown_ids == original
    assert digest.cutoff == order_key(briefs[10])  # b2: b1 and b0 are archive, "breaking" not
    assert (digest.waiting, digest.older) == (1, 2)
    text = more(digest.reply)
    assert "1 more: they come in the next digest" in text and "2 older briefs" in text
    following = build_digest(briefs, set(original), (), cutoff=digest.cutoff)
    assert following is not None and not following.first
    assert following.shown_ids == ("breaking",)


def test_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="cap"):
        build_digest(newest_first(1), set(), (), cap=0)


def test_lead_takes_one_or_two_sentences_within_the_limit() -> None:
    assert lead("One. Two. Three.") == "One. Two."
    assert lead("One is long enough. Two.", limit=20) == "One is long enough."
    long = "word " * 100
    cut = lead(long, limit=50)
    assert len(cut) <= 50 and cut.endswith("…")
