"""Plain-text helpers: summaries shortened at a sentence end, clipping, English counts."""

from __future__ import annotations

from bot.text import clip, first_sentences, fold, plural


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


def test_clip_keeps_short_text_and_marks_a_cut_with_an_ellipsis() -> None:
    assert clip("short", 5) == "short"
    assert clip("abcdefgh", 5) == "abcd…"
    assert clip("abc defgh", 5) == "abc…"  # no space before the ellipsis


def test_fold_ignores_case_and_runs_of_whitespace() -> None:
    assert fold("  Ishaq\t DAR ") == "ishaq dar"
