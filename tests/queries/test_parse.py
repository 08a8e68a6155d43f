"""Reading a command line the way a user types it in Discord."""

from __future__ import annotations

import pytest

from bot.queries.parse import ParseError, parse_command_line


@pytest.mark.parametrize(
    ("line", "name", "options"),
    [
        ("/quotes speaker:Dar", "quotes", {"speaker": "Dar"}),
        ('/quotes speaker:"Ishaq Dar"', "quotes", {"speaker": "Ishaq Dar"}),
        ("/quotes speaker:Ishaq Dar", "quotes", {"speaker": "Ishaq Dar"}),
        ("/quotes speaker:Dar brief:some-id", "quotes", {"speaker": "Dar", "brief": "some-id"}),
        ("/topic minerals", "topic", {"name": "minerals"}),
        ("/topic critical minerals", "topic", {"name": "critical minerals"}),
        ("/topic name:minerals", "topic", {"name": "minerals"}),
        ("summary", "summary", {}),
        ("/SUMMARY brief:x", "summary", {"brief": "x"}),
        ("/briefs", "briefs", {}),
        # Apostrophes inside names need no quoting; a quoted name may hold one too.
        ("/quotes speaker:O'Brien", "quotes", {"speaker": "O'Brien"}),
        (
            "/quotes speaker:Conan O'Brien brief:x",
            "quotes",
            {"speaker": "Conan O'Brien", "brief": "x"},
        ),
        ('/quotes speaker:"Conan O\'Brien"', "quotes", {"speaker": "Conan O'Brien"}),
        ("/quotes speaker:'Ishaq Dar'", "quotes", {"speaker": "Ishaq Dar"}),
        ("/quotes speaker:“Ishaq Dar” brief:x", "quotes", {"speaker": "Ishaq Dar", "brief": "x"}),
        ("/quotes speaker:Dar's", "quotes", {"speaker": "Dar's"}),
        # Option names in any case, as Discord matches them.
        ("/quotes SPEAKER:dar", "quotes", {"speaker": "dar"}),
        ("/quotes Speaker:Dar Brief:x", "quotes", {"speaker": "Dar", "brief": "x"}),
        # A colon inside a quoted value is text, not an option.
        ('/quotes speaker:"Dar colour:red"', "quotes", {"speaker": "Dar colour:red"}),
        ('/quotes speaker:Dar "colour:red"', "quotes", {"speaker": "Dar colour:red"}),
        # A link is a value, not an option called https.
        ("/summary brief:https://example.org/x", "summary", {"brief": "https://example.org/x"}),
    ],
)
def test_parses_what_users_type(line: str, name: str, options: dict[str, str]) -> None:
    parsed = parse_command_line(line)
    assert (parsed.name, parsed.options) == (name, options)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "/quote speaker:Dar",
            "unknown command '/quote'; valid commands: /summary, /quotes, /topic, /briefs",
        ),
        (
            "/quotes spaker:Dar",
            "/quotes has no option 'spaker' (did you mean 'speaker'?); "
            "valid options: speaker, brief",
        ),
        # An unknown option is flagged wherever it appears, not swallowed into a value.
        (
            "/quotes speaker:Dar colour:red",
            "/quotes has no option 'colour'; valid options: speaker, brief",
        ),
        (
            "/quotes speaker:Dar Breif:x",
            "/quotes has no option 'Breif' (did you mean 'brief'?); valid options: speaker, brief",
        ),
        ("/topic minerals subject:x", "/topic has no option 'subject'; valid options: name"),
        ("/briefs sort:new", "/briefs has no option 'sort'; valid options: none"),
        ("/quotes speaker:Dar SPEAKER:Rubio", "option 'speaker' given twice"),
        ("/quotes speaker:Dar speaker:Rubio", "option 'speaker' given twice"),
        ("/briefs extra", "/briefs takes no options"),
        ('/quotes speaker:"Dar', "cannot read the command line: no closing quotation mark"),
        ('/quotes speaker:"Ishaq"Dar', "cannot read the command line: no closing quotation mark"),
        ("", "empty command"),
    ],
)
def test_bad_lines_say_what_is_valid(line: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_command_line(line)
    assert str(caught.value).startswith(message)
