"""Wording shared by the replies: honest dates, and summaries shortened at a sentence end."""

from __future__ import annotations

from bot.briefs.library import Library
from bot.briefs.models import BriefDate, DateStatus
from bot.queries.format import brief_date, brief_ref, first_sentences, plural


def test_dates_say_when_they_are_inferred_or_unknown(library: Library) -> None:
    inferred, stated = library.get("transit-plan"), library.get("council-budget")
    assert inferred is not None and stated is not None
    assert brief_date(inferred) == "2026-04-01 (inferred)"
    assert brief_date(stated) == "2026-03-05"
    undated = stated.model_copy(update={"date": BriefDate(status=DateStatus.UNKNOWN)})
    assert brief_date(undated) == "date unknown"
    assert brief_ref(inferred) == "Transit plan unveiled · 2026-04-01 (inferred)"


def test_text_within_the_limit_is_kept_whole() -> None:
    assert first_sentences("One. Two.", 240) == "One. Two."
    text = "x" * 240
    assert first_sentences(text, 240) == text


def test_long_text_ends_at_the_last_whole_sentence_that_fits() -> None:
    sentence = "This sentence has thirty-two ch. "
    text = "A first sentence, long enough. " + sentence * 10
    cut = first_sentences(text, 100)
    assert cut.endswith(".") and len(cut) <= 100
    assert text.startswith(cut)
    assert len(cut) + len(sentence) > 100  # one more sentence would not have fitted


def test_text_without_an_early_sentence_end_is_clipped_with_an_ellipsis() -> None:
    # The only sentence end is too near the start to make a useful summary.
    text = "No. " + "word " * 100
    cut = first_sentences(text, 100)
    assert len(cut) <= 100 and cut.endswith("…")
    assert cut.startswith("No. word word") and not cut.endswith(" …")


def test_counts_read_as_english() -> None:
    assert [plural(n, "claim") for n in (0, 1, 2)] == ["0 claims", "1 claim", "2 claims"]
    assert plural(1, "person", "people") == "1 person"
    assert plural(3, "person", "people") == "3 people"
