"""The brief models: what an analyst is told when a brief breaks a rule, and that briefs stay fixed.

Validation runs as the loader runs it: on parsed YAML, with the shared vocabulary in context.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot.briefs.library import load_library
from bot.briefs.models import Brief, Vocabulary
from tests.conftest import BRIEF, REPO, VOCABULARY, write_briefs


def validate(data: dict[str, Any]) -> Brief:
    vocabulary = Vocabulary.model_validate(yaml.safe_load(VOCABULARY))
    return Brief.model_validate(data, context={"vocabulary": vocabulary})


def council() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(BRIEF)
    return data


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Each error as (field path, message)."""
    with pytest.raises(ValidationError) as info:
        validate(data)
    return [(".".join(map(str, e["loc"])), e["msg"]) for e in info.value.errors()]


def test_the_council_brief_is_valid() -> None:
    assert validate(council()).id == "council-budget"


@pytest.mark.parametrize("good", ["a", "x-1", "2026-budget", "a" * 80])
def test_ids_may_be_short_lowercase_words_and_digits(good: str) -> None:
    assert validate({**council(), "id": good}).id == good


@pytest.mark.parametrize("bad", ["Council-Budget", "council budget", "-lead", "a_b", "a" * 81, ""])
def test_ids_that_are_not_lowercase_dashed_words_are_refused(bad: str) -> None:
    ((where, message),) = problems({**council(), "id": bad})
    assert where == "id"
    assert "should match pattern" in message


def test_misspelt_field_is_refused_not_ignored() -> None:
    data = council()
    data["sumary"] = data.pop("summary")
    assert set(problems(data)) == {
        ("summary", "Field required"),
        ("sumary", "Extra inputs are not permitted"),
    }


def test_blank_quote_text_is_refused() -> None:
    data = council()
    data["quotes"][0]["text"] = "   "
    assert problems(data) == [("quotes.0.text", "String should have at least 1 character")]


def test_unknown_topic_far_from_every_topic_lists_the_vocabulary() -> None:
    data = council()
    data["key_points"][0]["topics"] = ["zoology"]
    assert problems(data) == [
        (
            "key_points.0.topics.0",
            "Value error, unknown topic 'zoology'; add it to topics.yaml or use one of: "
            "budget, transport, housing",
        )
    ]


def test_name_or_alias_used_by_two_people_is_refused_whatever_the_case() -> None:
    data = council()
    data["people"][1]["aliases"] = ["mayor DOE"]
    ((_, message),) = problems(data)
    assert message == "Value error, name or alias 'mayor DOE' is used twice in people"


def test_claimant_must_be_someone_in_people() -> None:
    data = council()
    data["claims"][0]["claimant"] = "Sam Row"
    ((_, message),) = problems(data)
    assert message == (
        "Value error, claims.0.claimant: 'Sam Row' is not the canonical name of anyone in "
        "people (known: Sam Roe, Jane Doe) or organisations; an unnamed speaker is written "
        "{unnamed: …}"
    )


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ({"value": "2026-03-05", "status": "unknown"}, "must not have a value"),
        ({"status": "stated"}, "a date with status 'stated' needs a value"),
    ],
)
def test_date_value_must_agree_with_its_status(date: dict[str, str], message: str) -> None:
    ((where, text),) = problems({**council(), "date": date})
    assert where == "date" and message in text


@pytest.mark.parametrize("url", ["javascript:alert(1)", "example.org/budget", "https://a b"])
def test_source_link_must_be_a_web_address(url: str) -> None:
    data = council()
    data["source"]["url"] = url
    ((where, _),) = problems(data)
    assert where == "source.url"


def test_models_are_immutable(briefs_dir: Path) -> None:
    brief = load_library(briefs_dir).briefs[0]
    with pytest.raises(Exception, match="frozen"):
        brief.title = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        (("title",), "Council \x1b[31mapproves", "\\x1b (character 9)"),
        (("summary",), "\x9b2J cleared", "\\x9b (character 1)"),
        (("quotes", 0, "context"), "Speech\rOverwritten", "\\x0d (character 7)"),
        (("people", 0, "name"), "Jane\x07Doe", "\\x07 (character 5)"),
        (("source", "url"), "https://example.org/\x1b]8;;x", None),
    ],
)
def test_control_characters_in_brief_text_are_refused_and_named(
    field: tuple[str | int, ...], value: str, shown: str | None
) -> None:
    data = council()
    target: Any = data
    for part in field[:-1]:
        target = target[part]
    target[field[-1]] = value
    found = dict(problems(data))
    where = ".".join(map(str, field))
    assert where in found, found
    if shown is not None:
        # The raw message is pydantic's; the loader words it (tested through the loader below).
        assert "should match pattern" in found[where]


def test_a_control_character_is_reported_escaped_with_its_place(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    text = BRIEF.replace("title: Council approves budget", 'title: "Council \\e[2Japproves"')
    (root / "council.yaml").write_text(text, encoding="utf-8")
    [error] = [str(e) for e in load_library(root).errors]
    assert error == (
        f"{root / 'council.yaml'}:2: title: contains the control character \\x1b "
        "(character 9); brief text must be plain text"
    )


def test_tabs_and_newlines_in_text_are_fine() -> None:
    data = council()
    data["summary"] = "First line.\n\tSecond line."
    assert validate(data).summary == "First line.\n\tSecond line."


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(a)\1", "invalid escape sequence: \\1"),
        (r"(?=x)y", "invalid perl operator: (?="),
        (r"(?<!x)y", "invalid perl operator: (?<"),
        (r"([a-z]+", "missing ): ([a-z]+"),
    ],
)
def test_exclude_lines_re2_cannot_run_are_refused_naming_the_pattern(
    pattern: str, why: str
) -> None:
    data = council()
    data["source"]["exclude_lines"] = ["^Also Read", pattern]
    ((where, message),) = problems(data)
    assert where == "source.exclude_lines.1"
    assert message.startswith(f"Value error, regular expression '{pattern}' cannot be used: {why}")
    assert "RE2 syntax" in message and "no backreferences, lookahead or lookbehind" in message


def test_exclude_lines_too_complex_are_refused_alone_and_together() -> None:
    data = council()
    data["source"]["exclude_lines"] = ["(.*a){60}"]
    ((where, message),) = problems(data)
    assert where == "source.exclude_lines.0" and "is too complex" in message
    data["source"]["exclude_lines"] = ["(.*a){15}", "(.*b){15}"]  # each fine, not together
    ((where, message),) = problems(data)
    assert where == "source.exclude_lines"
    assert "these 2 patterns are too complex together" in message


def test_exclude_lines_are_bounded_in_number_and_length() -> None:
    data = council()
    data["source"]["exclude_lines"] = [f"^x{i}$" for i in range(51)]
    ((where, message),) = problems(data)
    assert where == "source.exclude_lines" and "at most 50 items" in message
    data["source"]["exclude_lines"] = ["a" * 501]
    ((where, message),) = problems(data)
    assert where == "source.exclude_lines.0" and "at most 500 characters" in message


_CATASTROPHIC_SCRIPT = """
import json, sys
from pathlib import Path
from bot.briefs.library import load_library
from tests.conftest import BRIEF, SOURCE, write_briefs
root = write_briefs(Path(sys.argv[1]))
lines = ["a" * 5000 + "!", "x" * 5000, ("a" * 3000 + "b") * 3, "aa" * 4000 + "!"] * 20
(root / "sources" / "council.txt").write_text(SOURCE + "\\n".join(lines) + "\\n")
patterns = json.loads(sys.argv[2])
old = "exclude_lines: ['^Also Read \\\\|']"
brief = BRIEF.replace(old, "exclude_lines: " + json.dumps(patterns))
assert brief != BRIEF
(root / "council.yaml").write_text(brief)
library = load_library(root)
print(json.dumps([[b.id for b in library.briefs], [str(e) for e in library.errors]]))
"""


def test_catastrophic_exclude_lines_filter_a_source_in_bounded_time(tmp_path: Path) -> None:
    """Patterns that backtrack forever in Python's engine run in linear time (RE2) here.

    In a subprocess with a time limit: a hang fails the test rather than stalling the suite.
    """
    patterns = ["^Also Read \\|", "^(a+)+$", "(x+x+)+y", "(a|aa)+$", "(.*a){20}"]
    result = subprocess.run(
        [sys.executable, "-c", _CATASTROPHIC_SCRIPT, str(tmp_path / "b"), json.dumps(patterns)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        cwd=REPO,
    )
    assert json.loads(result.stdout) == [["council-budget"], []]
