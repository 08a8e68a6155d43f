"""/search: words, phrases, prefixes, bad syntax as plain words, filters, bold that stays bold."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.discord.embeds import render_pages
from bot.adapters.text import render
from bot.briefs.library import Library, load_library
from bot.queries import dispatch, search, topics
from bot.queries.quotes import quotes
from bot.reply import Status
from tests.conftest import write_briefs
from tests.queries.conftest import LATER, texts


def test_plain_words_find_quotes_points_and_claims(library: Library) -> None:
    reply = search.search(library, "budget")
    assert reply.ok
    details = [i.detail or "" for s in reply.sections for i in s.items]
    kinds = {d.split(" · ")[0] for d in details}
    assert {"Quote", "Key point", "Title"} <= kinds
    quote = next(i for s in reply.sections for i in s.items if i.label == "Jane Doe")
    assert quote.text.startswith("“This **budget**".replace("**", ""))
    assert "Council approves budget · 2026-03-05" in (quote.detail or "")


def test_the_match_is_marked(library: Library) -> None:
    reply = search.search(library, "libraries")
    (item,) = reply.sections[0].items
    ((start, end),) = item.marks
    assert item.text[start:end] == "libraries"
    assert "**libraries**" in render(reply)


def test_phrase_and_prefix(library: Library) -> None:
    assert sorted(texts(search.search(library, '"night buses"'))) == [
        "A new transit plan adds night buses.",
        "Night buses start in May.",
        "“Night buses are the start, not the end.”",
    ]
    # Words apart are not the phrase.
    assert search.search(library, '"buses night"').status is Status.NOT_FOUND
    assert "“This budget keeps the buses running and the libraries open.”" in texts(
        search.search(library, "librar*")
    )


@pytest.mark.parametrize(
    "query",
    ['"unclosed', "budget AND", "budget)", "(", "*", "NEAR(", "NEAR( budget", "budget NOT"],
)
def test_bad_syntax_is_searched_as_plain_words(library: Library, query: str) -> None:
    reply = search.search(library, query)
    assert reply.status in (Status.OK, Status.NOT_FOUND)
    if "budget" in query:
        # Its words, less the operators that were meant as syntax: as if "budget" was typed.
        assert reply.ok
        assert texts(reply) == texts(search.search(library, "budget"))


def test_filters_narrow_the_hits(library: Library) -> None:
    by_roe = search.search(library, "chance OR budget", speaker="roe")
    assert [i.label for s in by_roe.sections for i in s.items] == ["Sam Roe"]
    on_transport = texts(search.search(library, "night", topic="transport"))
    assert sorted(on_transport) == [
        "A new transit plan adds night buses.",  # the summary: the brief is on transport
        "Night buses start in May.",
        "“Night buses are the start, not the end.”",
    ]
    assert texts(search.search(library, "reserve", topic="transport")) == []
    assert texts(search.search(library, "budget", since="2026-03-10")) == [
        "The plan is funded from the budget reserve."
    ]
    until = texts(search.search(library, "budget", until="2026-03-05"))
    assert until and "The plan is funded from the budget reserve." not in until


def test_bad_filters_get_a_clear_private_answer(library: Library) -> None:
    bad_date = search.search(library, "budget", since="last week")
    assert bad_date.status is Status.INVALID and bad_date.private
    assert "YYYY-MM-DD" in (bad_date.description or "")
    assert search.search(library, "budget", speaker="Nobody Atall").status is Status.NOT_FOUND


def test_nothing_found_says_so_privately(library: Library) -> None:
    reply = search.search(library, "zeppelin")
    assert reply.status is Status.NOT_FOUND and reply.private
    assert "'zeppelin'" in (reply.description or "")


def test_bold_is_escaped_so_text_cannot_break_it(tmp_path: Path) -> None:
    brief = LATER.replace("Night buses start in May.", "Night *buses* start_now in May.")
    library = load_library(write_briefs(tmp_path / "b", **{"later.yaml": brief}))
    reply = search.search(library, "start_now")
    value = render_pages(reply)[0].to_dict()["fields"][0]["value"]
    assert "**start\\_now**" in value
    assert "\\*buses\\*" in value


def test_dispatch_and_console_answer_search(library: Library) -> None:
    reply = dispatch.run(library, "search", {"query": "ceasefire OR libraries"})
    assert reply == search.search(library, "ceasefire OR libraries")
    assert dispatch.option_choices(library, "search", "speaker", "jan")[0].value == "Jane Doe"
    assert dispatch.option_choices(library, "search", "since", "2026-04")[0].value == "2026-04-01"


def test_a_unique_prefix_or_whole_word_names_a_topic_or_speaker(library: Library) -> None:
    assert topics.topic(library, "transp").title == "Topic: Transport"
    # "Doe" is the surname of two people: still a choice; "Jan" starts only Jane Doe.
    assert quotes(library, "jan").title == "Quotes by Jane Doe"
    assert quotes(library, "doe").title == "Which person?"
    # "ohn" is inside a word, not a prefix or a word: did-you-mean as before.
    assert quotes(library, "ohn").status is Status.NOT_FOUND


def test_a_whole_word_of_a_topic_label(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    vocabulary = (root / "topics.yaml").read_text("utf-8")
    (root / "topics.yaml").write_text(
        vocabulary + "  - id: india-pakistan\n    label: India–Pakistan relations\n"
    )
    library = load_library(root)
    assert topics.topic(library, "india").title == "Topic: India–Pakistan relations"
    assert topics.topic(library, "pakistan").title == "Topic: India–Pakistan relations"
    # A word two topics share is no name.
    (root / "topics.yaml").write_text(
        vocabulary
        + "  - id: india-pakistan\n    label: India–Pakistan relations\n"
        + "  - id: us-pakistan\n    label: US–Pakistan relations\n"
    )
    assert load_library(root).topic("pakistan") is None
    assert topics.topic(load_library(root), "pakistan").status is Status.NOT_FOUND


def test_organisations_and_unnamed_speakers_in_search_and_a_second_view(tmp_path: Path) -> None:
    from tests.queries.test_speaker_kinds import BRIEF, SOURCE

    root = write_briefs(tmp_path / "b", **{"night.yaml": BRIEF})
    (root / "sources" / "night.txt").write_text(SOURCE, encoding="utf-8")
    index = tmp_path / "data" / "briefs.index.sqlite3"
    lib = load_library(root, index)
    assert lib.errors == ()
    # An unnamed speaker is shown under the source's description, marked as not named.
    hiring = search.search(lib, "hiring")
    labels = {i.label for s in hiring.sections for i in s.items}
    assert labels == {"a spokesman for the bus operator (not named in the source)"}
    # An organisation narrows a search like a person, by name or alias.
    by_ministry = search.search(lib, "buses OR million", speaker="MoT")
    assert by_ministry.ok
    assert {i.label for s in by_ministry.sections for i in s.items} == {"Transport Ministry"}
    # The same answers from the index as stored, by another process's view of it.
    again = load_library(root, index)
    assert quotes(again, "the ministry").title == "Quotes by Transport Ministry"
    assert quotes(again, "a spokesman for the bus operator").status is Status.NOT_FOUND
    names = [s.name for s in again.speakers_ranked]
    assert "Transport Ministry" in names and not any("spokesman" in n for n in names)


def test_past_the_ranked_bound_the_newest_matches_are_shown_and_the_reply_says_so(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.briefs.index

    everything = search.search(library, "budget OR buses")
    assert "too many to rank" not in (everything.description or "")
    assert "best first" in (everything.description or "")
    monkeypatch.setattr(bot.briefs.index, "RANKED", 2)
    hits = library.search("budget OR buses")
    assert len(hits) == 2 and hits.ranked == 2
    reply = search.search(library, "budget OR buses")
    assert "More than 2 entries match, too many to rank" in (reply.description or "")
    assert "the most recently added first" in (reply.description or "")
    # A query with few matches is ranked whole, and says nothing of a bound.
    assert library.search("libraries").ranked == 0


def test_a_query_of_too_many_words_gets_a_clear_private_answer(library: Library) -> None:
    pasted = "budget " * 800  # 5,600 characters
    reply = search.search(library, pasted)
    assert reply.status is Status.INVALID and reply.private
    assert f"at most {search.MAX_WORDS} words" in (reply.description or "")
    assert "has 800" in (reply.description or "")
    assert len(reply.description or "") < 300  # the query is echoed clipped
    # Operators are not words; the most words allowed are searched.
    assert search.search(library, " OR ".join(["budget"] * search.MAX_WORDS)).ok
    assert search.search(library, " ".join(["budget"] * search.MAX_WORDS)).ok


def test_a_search_that_runs_too_long_is_stopped_and_says_so(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.briefs.index

    monkeypatch.setattr(bot.briefs.index, "SEARCH_SECONDS", -1.0)
    monkeypatch.setattr(bot.briefs.index, "_PROGRESS_STEPS", 1)
    for query in ("budget", "librar* budget", '"budget'):
        reply = search.search(library, query)
        assert reply.status is Status.INVALID and reply.private, query
        assert "took too long and was stopped" in (reply.description or "")
    # The next search has its own time: the stop does not linger on the library.
    monkeypatch.setattr(bot.briefs.index, "SEARCH_SECONDS", 1.0)
    assert search.search(library, "librar* budget").ok
