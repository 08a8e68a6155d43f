"""Turning typed names into a brief, speaker or topic; did-you-mean, or what exists, on failure."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.briefs.library import Library
from bot.briefs.models import Brief
from bot.queries import briefs, quotes, topics
from bot.queries.resolve import resolve_brief, resolve_speaker, resolve_topic
from bot.reply import Reply, Status


def test_unknown_brief_suggests_close_ids(library: Library) -> None:
    reply = briefs.summary(library, "council-budgt")
    assert reply.status is Status.NOT_FOUND and reply.private
    assert reply.suggestions == ("council-budget",)


def test_surname_shared_by_two_people_asks_which(library: Library) -> None:
    reply = quotes.quotes(library, "doe")
    assert reply.status is Status.INVALID
    assert reply.suggestions == ("Jane Doe", "John Doe")


def test_surname_alone_finds_unique_person(library: Library) -> None:
    assert quotes.quotes(library, "roe").title == "Quotes by Sam Roe"


def test_misspelled_speaker_gets_did_you_mean(library: Library) -> None:
    reply = quotes.quotes(library, "Jnae Doe")
    assert reply.status is Status.NOT_FOUND
    assert reply.suggestions[0] == "Jane Doe"
    assert reply.description == "No one called 'Jnae Doe' appears in any brief."


def test_overlong_input_is_clipped_in_the_reply(library: Library) -> None:
    reply = quotes.quotes(library, "x" * 6000)
    assert reply.status is Status.NOT_FOUND
    assert len(reply.description or "") < 200


def test_unknown_topic_suggests(library: Library) -> None:
    reply = topics.topic(library, "transprot")
    assert reply.status is Status.NOT_FOUND
    assert reply.suggestions[0] == "transport"


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_no_brief_named_means_the_latest(library: Library, typed: str | None) -> None:
    found = resolve_brief(library, typed)
    assert isinstance(found, Brief) and found.id == "transit-plan"


RESOLVERS: dict[str, Callable[[Library, str], object]] = {
    "brief": resolve_brief,
    "topic": resolve_topic,
    "speaker": resolve_speaker,
}


@pytest.mark.parametrize(
    ("kind", "heading", "listed"),
    [
        ("brief", "Latest briefs", ["transit-plan", "council-budget"]),  # newest first
        ("topic", "Topics in use", ["budget", "transport", "housing"]),  # most used first
        ("speaker", "Most quoted", ["Jane Doe", "John Doe", "Sam Roe"]),  # most quoted first
    ],
)
def test_nothing_close_lists_what_there_is_instead(
    library: Library, kind: str, heading: str, listed: list[str]
) -> None:
    reply = RESOLVERS[kind](library, "qqqqqqqq")
    assert isinstance(reply, Reply)
    assert reply.status is Status.NOT_FOUND and reply.private
    (section,) = reply.sections
    assert section.heading == heading
    assert [i.text for i in section.items] == listed
    assert list(reply.suggestions) == listed


def test_ambiguous_name_lists_the_people_to_choose_from(library: Library) -> None:
    reply = resolve_speaker(library, "DOE")
    assert isinstance(reply, Reply)
    assert reply.description == "'DOE' could mean more than one person."
    (section,) = reply.sections
    assert section.heading == "Choose one"
    assert [i.text for i in section.items] == ["Jane Doe", "John Doe"]


def test_typed_text_is_echoed_on_one_line(library: Library) -> None:
    reply = resolve_topic(library, "night\n\n  buses\t")
    assert isinstance(reply, Reply)
    assert reply.description == "No topic is called 'night buses'."
