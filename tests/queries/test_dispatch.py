"""Running a command by name with typed options, as the console does; mistakes get usage help."""

from __future__ import annotations

from bot.briefs.library import Library
from bot.queries import briefs, dispatch, quotes
from bot.queries.spec import COMMANDS
from bot.reply import Status


def test_dispatch_reports_unknown_and_missing_options(library: Library) -> None:
    reply = dispatch.run(library, "quotes", {"brief": "x"})
    assert reply.status is Status.INVALID
    assert "missing required option 'speaker'" in reply.title
    assert "Usage: /quotes speaker:<speaker> [brief:<brief>]" in (reply.description or "")
    assert dispatch.run(library, "nope", {}).suggestions == (
        "/summary",
        "/quotes",
        "/topic",
        "/briefs",
        "/search",
    )


def test_command_name_may_have_a_slash_and_any_case(library: Library) -> None:
    assert dispatch.run(library, "/QUOTES", {"speaker": "roe"}) == quotes.quotes(library, "roe")
    assert dispatch.run(library, "Briefs", {}) == briefs.list_briefs(library)


def test_unknown_option_is_named_with_the_valid_ones(library: Library) -> None:
    reply = dispatch.run(library, "topic", {"subject": "minerals"})
    assert reply.status is Status.INVALID and reply.private
    assert reply.title == "/topic: unknown option 'subject'; missing required option 'name'"
    assert reply.description == "Usage: /topic name:<name>\nValid options: name."
    assert reply.suggestions == ("name",)
    assert dispatch.run(library, "briefs", {"x": "1"}).description == (
        "Usage: /briefs\nValid options: none."
    )


def test_unknown_command_lists_every_command_with_its_usage(library: Library) -> None:
    reply = dispatch.run(library, "quote", {"speaker": "Jane Doe"})
    assert reply.title == "Unknown command" and reply.private
    assert reply.description == "There is no command 'quote'."
    (section,) = reply.sections
    assert [(i.label, i.text) for i in section.items] == [
        ("/summary [brief:<brief>]", COMMANDS[0].description),
        ("/quotes speaker:<speaker> [brief:<brief>]", COMMANDS[1].description),
        ("/topic name:<name>", COMMANDS[2].description),
        ("/briefs", COMMANDS[3].description),
        (
            "/search query:<query> [speaker:<speaker>] [topic:<topic>] [since:<since>] "
            "[until:<until>]",
            COMMANDS[4].description,
        ),
    ]
