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
        ("/quotes spaker:Dar", "/quotes has no option 'spaker'; valid options: speaker, brief"),
        ("/quotes speaker:Dar speaker:Rubio", "option 'speaker' given twice"),
        ("/briefs extra", "/briefs takes no options"),
        ('/quotes speaker:"Dar', "cannot read the command line"),
        ("", "empty command"),
    ],
)
def test_bad_lines_say_what_is_valid(line: str, message: str) -> None:
    with pytest.raises(ParseError, match="^" + message.replace("/", "/").replace("(", r"\(")):
        parse_command_line(line)
