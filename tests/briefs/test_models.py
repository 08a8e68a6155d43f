"""The brief models: what an analyst is told when a brief breaks a rule, and that briefs stay fixed.

Validation runs as the loader runs it: on parsed YAML, with the shared vocabulary in context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot.briefs.library import load_library
from bot.briefs.models import Brief, Vocabulary
from tests.conftest import BRIEF, VOCABULARY


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
        "people (known: Jane Doe, Sam Roe) or organisations; an unnamed speaker is written "
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
