"""Unit tests of the request-body rules: Discord's OpenAPI spec plus the docs' stricter limits."""

from __future__ import annotations

import json
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.fakediscord import FakeDiscord
from tests.fakediscord import spec as rules
from tests.fakediscord.fixtures import require_spec
from tests.fakediscord.spec import chat_input_name_problem, validate_docs

CHANNEL = "/channels/1/messages"
CALLBACK = "/interactions/2/tok/callback"
GUILD_COMMANDS = "/applications/3/guilds/4/commands"


def broken(method: str, path: str, body: Any, **kwargs: Any) -> list[str]:
    """The docs rules a body breaks."""
    return [v.rule for v in validate_docs(method, path, body, **kwargs)]


def option(name: str, **extra: Any) -> dict[str, Any]:
    """A string option."""
    return {"type": 3, "name": name, "description": f"The {name}", **extra}


def command(name: str = "quotes", **extra: Any) -> dict[str, Any]:
    """A CHAT_INPUT command."""
    return {"type": 1, "name": name, "description": "Quotes by a speaker", **extra}


def test_message_content_and_embed_limits() -> None:
    assert broken("POST", CHANNEL, {"content": "x" * 2000}) == []
    assert broken("POST", CHANNEL, {"content": "x" * 2001}) == ["content-length"]
    embeds = [{"description": "x" * 3000}, {"description": "x" * 2990, "title": "y" * 11}]
    assert broken("POST", CHANNEL, {"embeds": embeds}) == ["embed-total"]
    assert rules.embed_total(embeds) == 6001
    assert broken("PATCH", "/webhooks/3/tok/messages/@original", {"content": "x" * 2001}) == [
        "content-length"
    ]


def test_message_needs_something_to_show() -> None:
    assert broken("POST", CHANNEL, {"content": ""}) == ["empty-message"]
    assert broken("POST", CHANNEL, {"content": ""}, has_files=True) == []
    forward = {"message_reference": {"type": 1, "message_id": "5", "channel_id": "1"}}
    assert broken("POST", CHANNEL, forward) == []
    assert broken("POST", "/webhooks/3/tok", {"embeds": []}) == ["empty-message"]
    assert broken("PATCH", f"{CHANNEL}/5", {"content": ""}) == []  # edits may clear content


def test_message_flags_and_mentions() -> None:
    assert broken("POST", CHANNEL, {"content": "x", "flags": 4096}) == []
    assert broken("POST", CHANNEL, {"content": "x", "flags": 64}) == ["flags"]  # ephemeral
    assert broken("POST", "/webhooks/3/tok", {"content": "x", "flags": 64}) == []
    v2 = {"content": "x", "flags": 1 << 15, "components": [{"type": 10, "content": "y"}]}
    assert broken("POST", CHANNEL, v2) == ["components-v2"]
    mentions = {"content": "x", "allowed_mentions": {"parse": ["users"], "users": ["1"]}}
    assert broken("POST", CHANNEL, mentions) == ["allowed-mentions"]


def test_callback_types_fit_the_interaction() -> None:
    autocomplete = {"type": 8, "data": {"choices": []}}
    assert broken("POST", CALLBACK, autocomplete, interaction_type=4) == []
    assert broken("POST", CALLBACK, autocomplete, interaction_type=2) == ["callback-type"]
    reply = {"type": 4, "data": {"content": "hi"}}
    assert broken("POST", CALLBACK, reply, interaction_type=4) == ["callback-type"]
    assert broken("POST", CALLBACK, {"type": 7, "data": {}}, interaction_type=2) == [
        "callback-type"
    ]
    assert broken("POST", CALLBACK, {"type": 5, "data": {"flags": 64}}, interaction_type=2) == []
    assert broken("POST", CALLBACK, {"type": 5, "data": {"flags": 4}}) == ["flags"]
    assert broken("POST", CALLBACK, {"type": 4, "data": {"content": "x" * 2001}}) == [
        "content-length"
    ]
    assert broken("POST", CALLBACK, {"type": 4}) == ["empty-message"]
    long_value = {"type": 8, "data": {"choices": [{"name": "n", "value": "v" * 101}]}}
    assert broken("POST", CALLBACK, long_value) == ["choice-value"]


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("quotes", True),
        ("only_smol", True),
        ("don't-stop", True),
        ("ñandú", True),
        ("日本語", True),
        ("नमस्ते", True),  # Devanagari vowel signs are marks, allowed by \p{sc=Deva}
        ("สวัสดี", True),
        ("Quotes", False),
        ("two words", False),
        ("slash/name", False),
        ("", False),
        ("x" * 33, False),
    ],
)
def test_chat_input_names(name: str, ok: bool) -> None:
    assert (chat_input_name_problem(name) is None) is ok


def test_command_rules() -> None:
    assert (
        broken("PUT", GUILD_COMMANDS, [command(options=[option("speaker", required=True)])]) == []
    )
    assert broken("PUT", GUILD_COMMANDS, [command("Quotes")]) == ["name"]
    assert broken("PUT", GUILD_COMMANDS, [command(description="")]) == ["description"]
    out_of_order = [option("brief"), option("speaker", required=True)]
    assert broken("PUT", GUILD_COMMANDS, [command(options=out_of_order)]) == ["option-order"]
    twice = [option("speaker"), option("speaker")]
    assert broken("PUT", GUILD_COMMANDS, [command(options=twice)]) == ["option-unique"]
    both = option("topic", autocomplete=True, choices=[{"name": "A", "value": "a"}])
    assert broken("PUT", GUILD_COMMANDS, [command(options=[both])]) == ["autocomplete-choices"]
    long_choice = option("topic", choices=[{"name": "A", "value": "a" * 101}])
    assert broken("PUT", GUILD_COMMANDS, [command(options=[long_choice])]) == ["choice-value"]
    assert broken("PUT", GUILD_COMMANDS, [command(), command()]) == ["command-unique"]
    user_command = {"type": 2, "name": "Quote this user", "options": [option("x")]}
    assert broken("PUT", GUILD_COMMANDS, [user_command]) == ["options"]
    assert broken("PUT", GUILD_COMMANDS, [{"type": 2, "name": "Quote this user"}]) == []
    many = [command(f"c{i}") for i in range(101)]
    assert broken("PUT", GUILD_COMMANDS, many) == ["command-count"]


def test_command_nesting_and_size() -> None:
    sub = {"type": 1, "name": "subscribe", "description": "Subscribe", "options": [option("time")]}
    assert broken("PUT", GUILD_COMMANDS, [command("digest", options=[sub])]) == []
    assert broken("PUT", GUILD_COMMANDS, [command("digest", options=[sub, option("x")])]) == [
        "option-nesting"
    ]
    group = {"type": 2, "name": "admin", "description": "Admin", "options": [option("x")]}
    assert "option-nesting" in broken("PUT", GUILD_COMMANDS, [command("bot", options=[group])])
    choices = [{"name": "n" * 100, "value": "v" * 100} for _ in range(25)]
    big = command(options=[option("a", choices=choices), option("b", choices=choices)])
    assert rules.command_size(big) > rules.COMMAND_SIZE_LIMIT
    assert broken("PUT", GUILD_COMMANDS, [big]) == ["command-size"]


def test_discord_py_command_payloads_pass() -> None:
    @app_commands.command(name="topic", description="Points on a topic")
    @app_commands.describe(name="Topic name or alias", limit="How many")
    @app_commands.default_permissions(manage_guild=True)
    async def topic(
        interaction: discord.Interaction,
        name: str,
        limit: app_commands.Range[int, 1, 25] = 10,
        channel: discord.TextChannel | None = None,
    ) -> None:
        """A command as discord.py serialises it."""

    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    payload = topic.to_dict(tree)
    assert broken("PUT", GUILD_COMMANDS, [payload]) == []
    validator = require_spec()
    assert validator.validate("PUT", GUILD_COMMANDS, [payload]) == []


def test_spec_catches_what_the_spec_knows() -> None:
    validator = require_spec()
    found = validator.validate("POST", CHANNEL, {"embeds": [{"title": "t" * 257}]})
    assert [(v.source, v.rule, v.pointer) for v in found] == [
        ("spec", "maxLength", "/embeds/0/title")
    ]
    found = validator.validate("POST", CALLBACK, {"type": 4, "data": {"embeds": [{"url": "x"}]}})
    assert [(v.rule, v.pointer) for v in found] == [("format", "/data/embeds/0/url")]
    found = validator.validate("POST", CHANNEL, {"content": "x", "nonce": "n" * 26})
    assert [(v.rule, v.pointer) for v in found] == [("maxLength", "/nonce")]
    assert validator.validate("POST", CALLBACK, None) == [
        rules.Violation(
            "spec",
            "requestBody",
            "POST",
            CALLBACK,
            "",
            "request body is required",
            "/interactions/{interaction_id}/{interaction_token}/callback",
        )
    ]


def test_known_spec_discrepancies_are_accepted() -> None:
    validator = require_spec()
    for permissions in ("32", 32, None):
        body = [command(default_member_permissions=permissions)]
        assert validator.validate("PUT", GUILD_COMMANDS, body) == []
    assert validator.validate("PUT", GUILD_COMMANDS, [command(default_member_permissions="x")])
    mentions = {"content": "x", "allowed_mentions": {"users": [42, "43"]}}
    assert validator.validate("POST", CHANNEL, mentions) == []
    assert validator.validate("POST", CALLBACK, {"type": 8, "data": {"choices": []}}) == []


def test_docs_examples_pass() -> None:
    validator = require_spec()
    examples = rules.default_spec_path().parent / "examples"
    blep = json.loads((examples / "slash_command_definition_blep.json").read_text())
    assert validator.validate("PUT", GUILD_COMMANDS, [blep]) == []
    result = json.loads(
        (examples / "derived" / "interaction_response_autocomplete_result.json").read_text()
    )
    assert validator.validate("POST", CALLBACK, result, interaction_type=4) == []


def test_routes_prefer_literal_segments() -> None:
    validator = require_spec()
    assert validator.route_for("PATCH", "/webhooks/1/tok/messages/@original") == (
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
    )
    assert validator.route_for("PATCH", "/webhooks/1/tok/messages/9") == (
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
    )
    assert validator.route_for("GET", "/users/@me") == "/users/@me"
    assert rules.get_validator() is validator  # loaded once per process


def test_missing_spec_switches_validation_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv(rules.SPEC_ENV_VAR, str(tmp_path / "absent.json"))
    assert rules.get_validator() is None
    assert FakeDiscord().spec_active is False
    assert FakeDiscord(validate=False).spec_active is False


def test_every_constraint_row_is_covered() -> None:
    path = rules.default_spec_path().parent / "constraints.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    rows = {row["topic"]: row for row in json.loads(path.read_text(encoding="utf-8"))}
    assert set(rows) == set(rules.CONSTRAINT_COVERAGE)
    # Where the docs are stricter than the spec, the docs rule enforces the docs' number.
    enforced = {
        "create_message content length": rules.CONTENT_LIMIT,
        "choice string value length": rules.CHOICE_STRING_VALUE_LIMIT,
        "embed total characters (all embeds in one message)": rules.EMBED_TOTAL_LIMIT,
        "per-command combined characters": rules.COMMAND_SIZE_LIMIT,
        "command description max": rules.COMMAND_DESCRIPTION_LIMIT,
    }
    for topic, value in enforced.items():
        assert rows[topic]["docs_value"] == value, topic
