"""Autocomplete: at most 25 choices, best first, for what a user has typed so far."""

from __future__ import annotations

from pathlib import Path

from bot.briefs.library import Library, load_library
from bot.queries import complete
from tests.conftest import write_briefs
from tests.queries.conftest import LATER

# Leela Smith is quoted twice, Lee not at all.
NAMESAKES = """\
id: namesakes
title: Two namesakes
date: {value: 2026-04-02, status: stated}
source: {outlet: null}
summary: Two people whose names start alike.
key_points:
  - text: Leela Smith spoke twice.
people:
  - name: Leela Smith
    role: Reporter
  - name: Lee
    role: Photographer
quotes:
  - speaker: Leela Smith
    text: First words.
    context: Interview
  - speaker: Leela Smith
    text: Second words.
    context: Interview
topics: [housing]
"""


def test_autocomplete_speakers(library: Library) -> None:
    everyone = complete.speakers(library, "")
    assert [c.value for c in everyone][:1] == ["Jane Doe"]  # most quoted first
    assert [c.value for c in complete.speakers(library, "ro")] == ["Sam Roe"]
    assert [c.value for c in complete.speakers(library, "doe")] == ["Jane Doe", "John Doe"]
    assert complete.speakers(library, "mayor")[0].name == "Jane Doe — Mayor"
    assert complete.speakers(library, "zzz") == []


def test_autocomplete_topics_and_briefs(library: Library) -> None:
    assert [c.value for c in complete.topics(library, "")][:2] == ["budget", "transport"]
    assert [c.value for c in complete.topics(library, "bus")] == ["transport"]
    assert [c.value for c in complete.briefs(library, "")] == ["transit-plan", "council-budget"]
    assert [c.value for c in complete.briefs(library, "council")] == ["council-budget"]
    assert (
        complete.briefs(library, "trans")[0].name == "Transit plan unveiled (2026-04-01 (inferred))"
    )


def test_autocomplete_caps_at_25_and_100_characters(tmp_path: Path) -> None:
    people = "\n".join(
        f"  - name: Person{i:02d} {'X' * 90}\n    role: {'Role ' * 40}" for i in range(40)
    )
    text = LATER.replace("people:\n", f"people:\n{people}\n", 1)
    lib = load_library(write_briefs(tmp_path / "b", **{"later.yaml": text}))
    assert lib.errors == ()
    for prefix in ("", "p", "person"):
        choices = complete.speakers(lib, prefix)
        assert len(choices) == 25
        assert all(1 <= len(c.name) <= 100 and len(c.value) <= 100 for c in choices)


def test_three_letters_inside_a_name_find_it(library: Library) -> None:
    assert [c.value for c in complete.briefs(library, "approves")] == ["council-budget"]
    assert [c.value for c in complete.speakers(library, "ayor")] == ["Jane Doe"]  # Mayor Doe
    assert [(c.name, c.value) for c in complete.topics(library, "ains")] == [
        ("Transport (transport)", "transport")  # trains
    ]
    # Two letters match only at the start: "ap" and "ai" start nothing.
    assert complete.briefs(library, "ap") == []
    assert complete.topics(library, "ai") == []


def test_a_name_typed_in_full_comes_before_more_quoted_longer_names(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b", **{"later.yaml": LATER, "namesakes.yaml": NAMESAKES})
    library = load_library(root)
    assert library.errors == ()
    assert [c.value for c in complete.speakers(library, "le")] == ["Leela Smith", "Lee"]
    assert [c.value for c in complete.speakers(library, "LEE")] == ["Lee", "Leela Smith"]
