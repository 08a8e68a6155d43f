"""Which double-quoted stretches are somebody's words, and exactly which words."""

from __future__ import annotations

from tests.ingest.helpers import run


def texts(body: str) -> list[str]:
    return [a.quotation.text for a in run(body).attributions]


def kinds(body: str) -> list[str]:
    return ["partial" if a.quotation.partial else "full" for a in run(body).attributions]


def test_curly_and_straight_marks_give_the_words_inside() -> None:
    body = """
    “We will build it,” said Ana Silva, the mayor.
    "It will be late," said Ben Ortiz, a councillor.
    """
    assert texts(body) == ["We will build it,", "It will be late,"]


def test_a_quotation_split_by_its_attribution_is_two_quotations() -> None:
    body = "“We will go,” said Ana Silva, the mayor, “and we will go soon.”"
    assert texts(body) == ["We will go,", "and we will go soon."]


def test_a_quotation_running_on_into_the_next_paragraph() -> None:
    body = """
    Ana Silva, the mayor, spoke for an hour. “The river is rising and the walls are old.
    “We need the money now, not next year.”
    """
    assert texts(body) == [
        "The river is rising and the walls are old.",
        "We need the money now, not next year.",
    ]
    assert [a.speaker.name for a in run(body).attributions] == ["Ana Silva", "Ana Silva"]


def test_a_broken_pair_closes_at_the_next_opening_mark() -> None:
    body = "“The plan is dead. “We start again tomorrow,” said Ana Silva, the mayor."
    assert texts(body) == ["The plan is dead.", "We start again tomorrow,"]


def test_scare_quotes_terms_titles_and_nicknames_are_not_quotations() -> None:
    body = """
    The so-called “reform” passed after a string of “wins” for the coalition.
    Residents call the bridge “The Iron Lady” and the film “Storm Over Riverton” opens soon.
    Dubbed “the Butcher” by critics, the general left office.
    Ana Silva, the mayor, said the budget was “a good start for the city”.
    """
    assert texts(body) == ["a good start for the city"]


def test_a_short_fragment_is_a_quotation_when_a_speech_verb_frames_it() -> None:
    body = """
    Ana Silva, the mayor, called the plan “reckless” on Monday.
    The council spent weeks on “freeze-thaw” damage.
    """
    assert texts(body) == ["reckless"]
    assert kinds(body) == ["partial"]


def test_full_and_partial() -> None:
    body = """
    Ana Silva, the mayor, said the river was “higher than ever”.
    “We are ready,” she said.
    """
    assert kinds(body) == ["partial", "full"]


def test_lines_that_are_not_the_story_are_excluded() -> None:
    body = """
    Ana Silva, the mayor, said: “The walls will hold.”
    Also Read | Riverton FC “ready for promotion”, says coach
    Related: “We were robbed,” says fan
    READ MORE: Mayor “shocked” by floods
    """
    analysis = run(body)
    assert [a.quotation.text for a in analysis.attributions] == ["The walls will hold."]
    assert analysis.excluded_rules == [r"^Also Read\b", r"^Related\b", r"^READ MORE\b"]


def test_the_headline_is_not_quoted() -> None:
    analysis = run("Ana Silva, the mayor, said the plan was fine.")
    assert analysis.attributions == []
