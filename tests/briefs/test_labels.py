"""The one label index behind briefs, speakers and topics: exact, prefix, substring, fuzzy."""

from __future__ import annotations

from bot.briefs.labels import LabelIndex

PAIRS = [
    ("ishaq dar", "Ishaq Dar"),
    ("dar", "Ishaq Dar"),
    ("dar", "Omar Dar"),
    ("omar dar", "Omar Dar"),
    ("marco rubio", "Marco Rubio"),
    ("rubio", "Marco Rubio"),
    ("rubio", "Marco Rubio"),  # a repeat adds nothing
]


def test_a_label_names_every_value_given_for_it_in_order() -> None:
    index = LabelIndex(PAIRS)
    assert index.get("dar") == ("Ishaq Dar", "Omar Dar")
    assert index.get("rubio") == ("Marco Rubio",)
    assert index.get("nobody") == ()
    assert index.labels == ["dar", "ishaq dar", "marco rubio", "omar dar", "rubio"]


def test_prefix_and_substring_find_labels_in_sorted_order() -> None:
    index = LabelIndex(PAIRS)
    assert list(index.with_prefix("dar")) == ["dar"]
    assert list(index.with_prefix("ma")) == ["marco rubio"]
    assert list(index.with_prefix("")) == sorted({label for label, _ in PAIRS})
    assert list(index.containing("dar")) == ["dar", "ishaq dar", "omar dar"]
    assert list(index.containing("zzz")) == []


def test_did_you_mean_finds_a_misspelt_label() -> None:
    index = LabelIndex(PAIRS)
    assert index.like("rubioo", 3)[0] == "rubio"
    assert index.like("xyzzy", 3) == []
