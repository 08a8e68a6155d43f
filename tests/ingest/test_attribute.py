"""Who said it, pattern by pattern, on small invented paragraphs."""

from __future__ import annotations

import pytest

from tests.ingest.helpers import run, said, who


@pytest.mark.parametrize(
    "paragraph",
    [
        "“The bridge will open in May,” Ana Silva said.",
        "“The bridge will open in May,” said Ana Silva.",
        "“The bridge will open in May,” said Ana Silva, the city's mayor.",
        "Ana Silva said: “The bridge will open in May.”",
        "Ana Silva told reporters on Monday: “The bridge will open in May.”",
        "In a statement, Ana Silva said: “The bridge will open in May.”",
        "Ana Silva wrote on X: “The bridge will open in May.”",
        "“The bridge will open in May,” Ana Silva wrote on Twitter.",
        "According to Ana Silva, “the bridge will open in May”.",
        "“The bridge will open in May,” according to Ana Silva.",
        "Ana Silva, who has been mayor since 2019, said “the bridge will open in May”.",
    ],
)
def test_named_speaker_cues(paragraph: str) -> None:
    assert said(paragraph) == [
        (said(paragraph)[0][0], "person", "Ana Silva"),
    ]


def test_surname_and_title_with_surname_find_the_full_name() -> None:
    body = """
    Mayor Ana Silva and councillor Ben Ortiz met on Monday.
    “We agreed on the budget,” Silva said.
    “We agreed on nothing,” said Mr Ortiz.
    """
    assert who(body) == ["Ana Silva", "Ben Ortiz"]


def test_pronoun_chain_follows_gender_and_recency() -> None:
    body = """
    Mayor Ana Silva met councillor Ben Ortiz on Monday. Mr Ortiz arrived late.
    “The budget is a disgrace,” he said.
    “It is the best budget in years,” she said.
    Ortiz shook his head. “I will vote against it,” he added.
    """
    assert who(body) == ["Ben Ortiz", "Ana Silva", "Ben Ortiz"]


def test_an_ambiguous_pronoun_is_recorded_as_uncertain() -> None:
    body = """
    Ben Ortiz, a councillor, and Tom Reyes, a trader, argued for an hour.
    “This will not stand,” he said.
    """
    (attribution,) = run(body).attributions
    assert attribution.uncertain is not None
    assert "'he' has 2 male candidates" in attribution.uncertain
    assert "Tom Reyes" in attribution.uncertain and "Ben Ortiz" in attribution.uncertain


def test_a_spokespersons_readout_is_the_spokespersons_words() -> None:
    body = """
    Foreign minister Omar Haddad met Secretary of State Karen Lowe in Geneva.
    “Secretary Lowe welcomed Minister Haddad and stressed the value of the ceasefire,” said \
    State Department spokesperson Paul Ferris.
    “The Secretary also raised the detained journalists,” added Ferris.
    """
    assert who(body) == ["Paul Ferris", "Paul Ferris"]


def test_title_only_mentions_find_the_person() -> None:
    body = """
    Foreign Minister Omar Haddad arrived in Geneva on Monday.
    “We came to listen,” the minister said.
    """
    assert who(body) == ["Omar Haddad"]


def test_an_unnamed_spokesman_stays_unnamed() -> None:
    body = """
    Google said the outage was fixed. Sundar Pichai did not comment.
    “We are looking into the cause,” a Singapore-based spokesman for Google said.
    “Users were not affected,” said a company spokeswoman.
    """
    assert said(body)[0][1:] == ("unnamed", "a Singapore-based spokesman for Google")
    assert said(body)[1][1:] == ("unnamed", "a company spokeswoman")


def test_an_organisation_can_speak() -> None:
    body = """
    The Transport Ministry said in a statement that trains would run.
    “Services will resume on Friday,” the ministry said.
    The Riverton Gazette wrote in an editorial that the plan “will not survive the winter”.
    """
    assert said(body) == [
        ("Services will resume on Friday,", "organisation", "Transport Ministry"),
        ("will not survive the winter", "organisation", "Riverton Gazette"),
    ]


def test_a_quotation_across_paragraphs_keeps_its_speaker() -> None:
    body = """
    “The river is rising faster than any year I remember,” said Ana Silva, the mayor.
    “We have sandbags for a week.
    “After that, we need help.”
    The council meets on Friday.
    """
    assert who(body) == ["Ana Silva", "Ana Silva", "Ana Silva"]


def test_a_paragraph_quote_without_a_cue_after_reported_speech() -> None:
    body = """
    Ben Ortiz, a councillor, said the plan was rushed and the money was short.
    “We have not seen the numbers. Nobody has.”
    """
    (attribution,) = run(body).attributions
    assert attribution.speaker.name == "Ben Ortiz"
    assert attribution.uncertain is not None  # no cue of its own: the analyst checks it


def test_no_cue_at_all_gives_no_speaker() -> None:
    body = """
    The weather was bad all week.
    “Nobody expected this.”
    """
    (attribution,) = run(body).attributions
    assert attribution.speaker.kind == "unknown"


def test_quotes_of_two_speakers_in_one_paragraph() -> None:
    body = """
    “We won,” said Ana Silva, the mayor, but councillor Ben Ortiz disagreed: “Nobody won.”
    """
    assert who(body) == ["Ana Silva", "Ben Ortiz"]


def test_a_spokesman_named_after_a_comma_is_named() -> None:
    body = "“We have no comment,” said a State Department spokesman, Jeff Rathke."
    assert said(body)[0][1:] == ("person", "Jeff Rathke")


def test_a_run_on_quotation_takes_the_speaker_named_in_its_continuation() -> None:
    body = """
    The council met on Friday.
    “The river is rising and the walls are old.
    “We need the money now,” said Ana Silva, the mayor.
    """
    assert who(body) == ["Ana Silva", "Ana Silva"]


def test_an_age_stands_for_the_last_person_named() -> None:
    body = """
    Rescuers found Tom Reyes, a fisherman, on the rocks.
    “I thought it was over,” the 52-year-old said.
    """
    assert who(body) == ["Tom Reyes"]


def test_someones_spokesman_is_not_that_someone() -> None:
    body = """
    Senator Mary Cole faces a vote on Friday.
    “The senator will not resign,” Cole's spokesman said.
    “We expect to win,” said Mary Cole.
    """
    assert said(body)[0][1:] == ("unnamed", "Cole's spokesman")
    assert said(body)[1][1:] == ("person", "Mary Cole")


def test_quoted_as_saying() -> None:
    body = "“We will appeal,” the Riverton Gazette quoted Ana Silva, the mayor, as saying."
    assert who(body) == ["Ana Silva"]


@pytest.mark.parametrize(
    "paragraph",
    [
        # The subject of a passive framing verb is what was described, never who spoke.
        "Earlier this year, a mass stranding that was described as “unprecedented” left the "
        "tribe scrambling.",
        "The plan was called “a disaster” and shelved.",
        "The new bridge has been described as “an eyesore” for months.",
    ],
)
def test_what_was_described_is_not_a_speaker(paragraph: str) -> None:
    assert [kind for _, kind, _ in said(paragraph)] in ([], ["unknown"])


def test_it_said_is_the_body_the_sentence_is_about_not_one_it_mentions_last() -> None:
    # "it" is the agency (the sentence's subject), not the chemical named at its end.
    body = """
    Police said the pills were believed to contain a solvent known as TCX.
    The Riverton Health Agency warned shoppers to stay away from pills that contained TCX.
    “Do not take any tablets containing TCX, as it is not fit for human consumption,” it said.
    """
    assert said(body) == [
        (
            "Do not take any tablets containing TCX, as it is not fit for human consumption,",
            "organisation",
            "Riverton Health Agency",
        )
    ]


@pytest.mark.parametrize(
    ("paragraph", "speaker"),
    [
        (
            "Mayor Ana Silva's office issued a warning about leaflets from the Harbour Party, "
            "which tried to rally support by saying that voters were “coming out in droves.”",
            ("organisation", "Harbour Party"),
        ),
        (
            "Ana Silva met Ben Ortiz, who opened the meeting by saying that the ferry "
            "“will never be built.”",
            ("person", "Ben Ortiz"),
        ),
        (
            "Ana Silva, who chairs the board, opened the meeting by saying that the ferry "
            "“will never be built.”",
            ("person", "Ana Silva"),
        ),
    ],
)
def test_by_saying_in_a_relative_clause_is_the_clauses_subject(
    paragraph: str, speaker: tuple[str, str]
) -> None:
    # Not the sentence's first name: the one the ", which/who … saying" clause is about.
    [(_, kind, name)] = said(paragraph)
    assert (kind, name) == speaker


def test_a_relative_clause_names_its_speaker_through_what_it_is_or_nobody() -> None:
    # "the Harbour Union party, which … by saying": the party; and a noun like "warning"
    # earlier in the sentence never hands the quotation to the sentence's subject instead.
    body = (
        "Mayor Ana Silva's office came with a tough warning about rhetoric from the Harbour "
        "Workers Union party, which tried to rally support by saying that voters were "
        "“coming out in droves.”"
    )
    [(_, kind, name)] = said(body)
    assert (kind, name) == ("organisation", "Harbour Workers Union")
    body = (
        "Mayor Ana Silva came with a tough warning about rhetoric from the harbour crowd, "
        "which tried to rally support by saying that voters were “coming out in droves.”"
    )
    [attribution] = run(body).attributions
    assert attribution.speaker.name != "Ana Silva" or attribution.uncertain is not None
