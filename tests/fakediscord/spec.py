"""Check request bodies against Discord's OpenAPI spec and the docs' stricter rules.

Two layers, both reported as :class:`Violation`:

* ``source="spec"``: the request body schema of the matching operation in Discord's
  OpenAPI 3.1 spec (``../shared/discord-api/openapi.json``, or ``$BRIEFBOT_DISCORD_SPEC``),
  validated with ``jsonschema`` Draft 2020-12.
* ``source="docs"``: rules the developer docs state and the spec lacks or gets wrong
  (``constraints.json`` / ``SOURCE.md`` next to the spec): 2000-character content, the
  6000-character embed total, command naming, option ordering, 8000-character commands,
  100-character choice values, callback types per interaction type, allowed flags, ...

Known spec/docs discrepancies are resolved the way the docs (and Discord) behave, so
discord.py's normal bodies never produce false failures:

* ``SnowflakeType`` is a string in the spec, but discord.py sends some ids as integers
  (``allowed_mentions.users``, ``message_reference.message_id``); Discord accepts both.
* ``default_member_permissions`` is an integer in the spec, a string in the docs and in
  discord.py; the API accepts int-parseable strings (spec README).
* ``x-discord-union: oneOf`` unions are validated as ``anyOf``: an empty autocomplete
  ``choices`` list matches all three variants, which is valid for Discord.
* Create Message ``content`` (spec 4000) and string choice values (spec 6000) get the
  docs' limits (2000 and 100) as docs rules; modal components keep the spec's 1..40.

The spec is 1.2 MB: it is loaded and compiled once per process (:func:`get_validator`).
"""

from __future__ import annotations

import datetime
import functools
import json
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

log = logging.getLogger(__name__)

SPEC_ENV_VAR = "BRIEFBOT_DISCORD_SPEC"
REPO_ROOT = Path(__file__).resolve().parents[2]
_SPEC_URI = "urn:discord:openapi"

# Docs limits (developers/resources/message.mdx, interactions/*.mdx); see CONSTRAINT_COVERAGE.
CONTENT_LIMIT = 2000
EMBED_TOTAL_LIMIT = 6000
CHOICE_STRING_VALUE_LIMIT = 100
COMMAND_SIZE_LIMIT = 8000
COMMAND_DESCRIPTION_LIMIT = 100
COMMANDS_PER_TYPE = {1: 100, 2: 15, 3: 15, 4: 1}

# Message flags (developers/resources/message.mdx, "Message Flags").
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_VOICE_MESSAGE = 1 << 13
IS_COMPONENTS_V2 = 1 << 15

# Which flags each kind of message body may set, per the docs tables.
_ALLOWED_FLAGS = {
    "create": SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_VOICE_MESSAGE | IS_COMPONENTS_V2,
    "callback": SUPPRESS_EMBEDS
    | EPHEMERAL
    | IS_COMPONENTS_V2
    | IS_VOICE_MESSAGE
    | SUPPRESS_NOTIFICATIONS,
    "deferred": EPHEMERAL,
    "followup": SUPPRESS_EMBEDS | EPHEMERAL | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2,
}

# Callback types each interaction type accepts (receiving-and-responding.mdx):
# 6/7 only for component-based interactions, 8 only (and only 8) for autocomplete,
# 9 not for MODAL_SUBMIT or PING. 12 (LAUNCH_ACTIVITY) is allowed where Discord allows it.
ALLOWED_CALLBACK_TYPES = {
    1: {1},
    2: {4, 5, 9, 12},
    3: {4, 5, 6, 7, 9, 12},
    4: {8},
    5: {4, 5, 6, 7, 12},
}

# How each row of constraints.json is covered; test_spec.py fails when a new row appears.
CONSTRAINT_COVERAGE: dict[str, str] = {
    "create_message content length": "docs: CONTENT_LIMIT",
    "interaction callback (type 4/5) content length": "spec + docs: CONTENT_LIMIT",
    "followup / execute webhook content length": "spec + docs: CONTENT_LIMIT",
    "edit original / edit followup content length": "spec + docs: CONTENT_LIMIT",
    "embeds per message (MessageCreateRequest)": "spec",
    "top-level components per message (MessageCreateRequest)": "spec",
    "embeds per message (IncomingWebhookInteractionRequest)": "spec",
    "top-level components per message (IncomingWebhookInteractionRequest)": "spec",
    "embeds per message (IncomingWebhookRequestPartial)": "spec",
    "top-level components per message (IncomingWebhookRequestPartial)": "spec",
    "embeds per message (IncomingWebhookUpdateRequestPartial)": "spec",
    "top-level components per message (IncomingWebhookUpdateRequestPartial)": "spec",
    "embed title": "spec",
    "embed description": "spec",
    "embed fields count": "spec",
    "embed field name": "spec",
    "embed field value": "spec",
    "embed field required keys": "spec",
    "embed footer text": "spec",
    "embed author name": "spec",
    "embed url": "spec (format uri checked)",
    "embed color max": "spec",
    "embed timestamp format": "spec (format date-time checked)",
    "embed total characters (all embeds in one message)": "docs: EMBED_TOTAL_LIMIT",
    "allowed_mentions.users count": "spec",
    "allowed_mentions.roles count": "spec",
    "create_message sticker_ids": "spec",
    "create_message nonce string": "spec",
    "attachments per message": "spec",
    "interaction callback type enum (message)": "spec + docs: ALLOWED_CALLBACK_TYPES",
    "interaction callback type enum (update message)": "spec + docs: ALLOWED_CALLBACK_TYPES",
    "interaction callback type enum (autocomplete)": "spec + docs: ALLOWED_CALLBACK_TYPES",
    "interaction callback type enum (modal)": "spec + docs: ALLOWED_CALLBACK_TYPES",
    "interaction callback type enum (pong)": "spec + docs: ALLOWED_CALLBACK_TYPES",
    "autocomplete choices count (string)": "spec",
    "autocomplete choices count (integer)": "spec",
    "autocomplete choices count (number)": "spec",
    "choice name length (max)": "spec",
    "choice name length (min)": "spec",
    "choice string value length": "docs: CHOICE_STRING_VALUE_LIMIT",
    "choice integer value range": "spec",
    "modal custom_id": "spec",
    "modal title": "spec",
    "modal components": "spec (1..40, as SOURCE.md's oracle)",
    "bulk overwrite: commands per request": "spec + docs: COMMANDS_PER_TYPE",
    "bulk overwrite guild: commands per request": "spec + docs: COMMANDS_PER_TYPE",
    "command name length max": "spec + docs: name rule",
    "command name length min": "spec + docs: name rule",
    "CHAT_INPUT command/option name pattern": "docs: name rule (lowercase, pattern)",
    "command description max": "spec + docs: COMMAND_DESCRIPTION_LIMIT (1..100 for CHAT_INPUT)",
    "command options count": "spec",
    "command name_localizations entries": "spec",
    "default_member_permissions type": "spec, patched to accept int-parseable strings",
    "command type values": "spec",
    "option name max": "spec + docs: name rule",
    "option description min": "spec + docs",
    "option description max": "spec + docs",
    "option choices count": "spec",
    "string option min_length max": "spec",
    "string option max_length max": "spec",
    "subcommand options count": "spec",
    "subcommand group options count": "spec",
    "per-command combined characters": "docs: COMMAND_SIZE_LIMIT",
    "required options before optional; option names unique; autocomplete not with choices": (
        "docs: option rules"
    ),
    "snowflake pattern (ids in paths/bodies)": "spec, patched to accept integers",
    "interaction/webhook token param": "n/a: path parameter, not a body",
    "initial interaction response deadline": "server: FakeDiscord(callback_deadline=3.0)",
    "interaction token validity (followups/edits)": "server: FakeDiscord(token_lifetime=900.0)",
    "followups per interaction for user-installed app not in server": (
        "n/a: the fake's interactions are guild installs"
    ),
    "global HTTP rate limit": "server: FakeDiscord.enable_rate_limits()",
    "invalid request limit": "n/a: tests never send 10,000 bad requests",
    "gateway send limit": "server: gateway frames counted per connection",
    "IDENTIFY limit": "n/a: one IDENTIFY per test client",
    "command creates": "n/a: bulk overwrites in tests stay far below 200/day",
}


@dataclass(frozen=True)
class Violation:
    """One broken rule in one request body."""

    source: str  # "spec", "docs" or "server"
    rule: str
    method: str
    path: str
    pointer: str
    message: str
    route: str = ""

    def __str__(self) -> str:
        where = f"{self.method} {self.route or self.path} {self.pointer or '/'}"
        return f"[{self.source}:{self.rule}] {where}: {self.message}"


@dataclass
class _Report:
    """Collects violations for one request."""

    method: str
    path: str
    route: str = ""
    found: list[Violation] = field(default_factory=list)

    def add(self, rule: str, pointer: str, message: str, source: str = "docs") -> None:
        self.found.append(
            Violation(source, rule, self.method, self.path, pointer, message, self.route)
        )


# --------------------------------------------------------------------------- spec loading


def default_spec_path() -> Path:
    """Where the spec lives: ``$BRIEFBOT_DISCORD_SPEC`` or ``<repo>/../shared/discord-api``."""
    override = os.environ.get(SPEC_ENV_VAR)
    if override:
        return Path(override)
    return REPO_ROOT.parent / "shared" / "discord-api" / "openapi.json"


def get_validator(path: Path | None = None) -> SpecValidator | None:
    """The process-wide validator for ``path`` (default location), or None if the file is absent."""
    return _load_validator((path or default_spec_path()).resolve())


@functools.cache
def _load_validator(path: Path) -> SpecValidator | None:
    if not path.is_file():
        log.info("Discord OpenAPI spec not found at %s; request validation is off", path)
        return None
    spec = json.loads(path.read_text(encoding="utf-8"))
    return SpecValidator(spec)


def _patch_known_discrepancies(spec: dict[str, Any]) -> None:
    """Align the in-memory spec with what the docs and Discord accept (see module docstring)."""
    schemas = spec["components"]["schemas"]
    snowflake = schemas["SnowflakeType"]
    schemas["SnowflakeType"] = {"anyOf": [snowflake, {"type": "integer", "minimum": 0}]}

    int_string = {"type": "string", "pattern": "^[0-9]+$"}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict) and "default_member_permissions" in props:
                original = props["default_member_permissions"]
                props["default_member_permissions"] = {"anyOf": [original, int_string]}
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(spec)


def _check_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _check_uri(value: object) -> bool:
    # A scheme is what Discord insists on ("Not a well formed URL"); attachment:// counts.
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


def _format_checker() -> jsonschema.FormatChecker:
    # jsonschema only checks date-time/uri with optional packages; these need none.
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(_check_date_time)
    checker.checks("uri")(_check_uri)
    return checker


@dataclass(frozen=True)
class _Operation:
    method: str
    template: str
    regex: re.Pattern[str]
    literals: int
    pointer: str | None  # JSON pointer of the application/json request schema
    required: bool


def _escape_pointer(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class SpecValidator:
    """Matches requests to spec operations and validates their JSON bodies."""

    def __init__(self, spec: dict[str, Any]) -> None:
        _patch_known_discrepancies(spec)
        self.spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
        self._format_checker = _format_checker()
        self._validators: dict[str, jsonschema.protocols.Validator] = {}
        self._operations = sorted(
            self._index(spec), key=lambda op: (-op.literals, op.template.count("/"))
        )

    @staticmethod
    def _index(spec: Mapping[str, Any]) -> Iterator[_Operation]:
        for template, item in spec["paths"].items():
            parts = template.strip("/").split("/")
            pattern = "/".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
            regex = re.compile(f"^/{pattern}/?$")
            literals = sum(not p.startswith("{") for p in parts)
            for method, op in item.items():
                if method == "parameters" or not isinstance(op, dict):
                    continue
                body = op.get("requestBody") or {}
                content = body.get("content") or {}
                pointer = None
                if "application/json" in content:
                    pointer = "/".join(
                        [
                            "#/paths",
                            _escape_pointer(template),
                            method,
                            "requestBody/content/application~1json/schema",
                        ]
                    )
                yield _Operation(
                    method.upper(), template, regex, literals, pointer, bool(body.get("required"))
                )

    def match(self, method: str, path: str) -> _Operation | None:
        """The spec operation for ``method path`` (path relative to ``/api/v10``)."""
        path = path.split("?", 1)[0]
        for op in self._operations:
            if op.method == method.upper() and op.regex.match(path):
                return op
        return None

    def route_for(self, method: str, path: str) -> str:
        """The spec's path template for a request, or "" when the spec has none."""
        op = self.match(method, path)
        return op.template if op else ""

    def _validator(self, pointer: str) -> jsonschema.protocols.Validator:
        try:
            return self._validators[pointer]
        except KeyError:
            validator = jsonschema.Draft202012Validator(
                {"$ref": _SPEC_URI + pointer},
                registry=self._registry,
                format_checker=self._format_checker,
            )
            self._validators[pointer] = validator
            return validator

    def validate_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Errors of a response body against the operation's documented response (self-checks)."""
        op = self.match(method, path)
        if op is None:
            return []
        responses = self.spec["paths"][op.template][op.method.lower()].get("responses", {})
        content = (responses.get(str(status)) or {}).get("content") or {}
        if "application/json" not in content:
            return []
        pointer = "/".join(
            [
                "#/paths",
                _escape_pointer(op.template),
                op.method.lower(),
                "responses",
                str(status),
                "content/application~1json/schema",
            ]
        )
        return [
            f"{_pointer(leaf.absolute_path) or '/'}: {_describe(leaf)}"
            for err in self._validator(pointer).iter_errors(body)
            for leaf in _leaves(err)
        ]

    def validate_schema(self, name: str, instance: Any) -> list[str]:
        """Errors of ``instance`` against ``#/components/schemas/<name>`` (for tests and probes)."""
        validator = self._validator(f"#/components/schemas/{_escape_pointer(name)}")
        return [_describe(leaf) for err in validator.iter_errors(instance) for leaf in _leaves(err)]

    def validate(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        has_files: bool = False,
        interaction_type: int | None = None,
    ) -> list[Violation]:
        """Spec and docs violations of one request body (``body`` None means no body)."""
        op = self.match(method, path)
        report = _Report(method.upper(), path.split("?", 1)[0], op.template if op else "")
        if op is not None and op.pointer is not None:
            if body is None:
                if op.required and not has_files:
                    report.add("requestBody", "", "request body is required", source="spec")
            else:
                self._schema_violations(op.pointer, body, report)
        docs_rules(report, body, has_files=has_files, interaction_type=interaction_type)
        return report.found

    def _schema_violations(self, pointer: str, body: Any, report: _Report) -> None:
        seen: set[tuple[str, str]] = set()
        for error in self._validator(pointer).iter_errors(body):
            for leaf in _leaves(error):
                where = _pointer(leaf.absolute_path)
                message = _describe(leaf)
                if (where, message) not in seen:
                    seen.add((where, message))
                    report.add(str(leaf.validator), where, message, source="spec")


def _pointer(parts: Iterable[Any]) -> str:
    return "".join(f"/{p}" for p in parts)


def _is_mismatched_branch(errors: list[ValidationError]) -> bool:
    """Whether a union branch failed because the instance is of another kind altogether."""
    for err in errors:
        rel = list(err.relative_path)
        if err.validator == "type" and not rel:
            return True
        # A wrong discriminator ({"type": 4} against the autocomplete variant) rules it out.
        if err.validator in ("enum", "const") and rel == ["type"]:
            return True
    return False


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The most specific errors behind ``error``, looking inside oneOf/anyOf branches."""
    if not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    plausible = [errs for errs in branches.values() if not _is_mismatched_branch(errs)]
    if not plausible:
        return [error]
    return [leaf for errs in plausible for sub in errs for leaf in _leaves(sub)]


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(error: ValidationError) -> str:
    """A readable message that never dumps a 6000-character instance."""
    kind, limit, instance = error.validator, error.validator_value, error.instance
    if kind in ("maxLength", "minLength") and isinstance(instance, str):
        return f"length {len(instance)} violates {kind} {limit} ({_short(instance)})"
    if kind in ("maxItems", "minItems") and isinstance(instance, list):
        return f"{len(instance)} items violates {kind} {limit}"
    if kind == "required":
        return str(error.message)
    if kind in ("oneOf", "anyOf"):
        return f"{_short(instance)} matches none of the allowed shapes"
    return f"{_short(instance)}: {error.message.split(' is ', 1)[-1][:200]}"


# --------------------------------------------------------------------------- docs rules

_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/channels/\d+/messages$"), "create_message"),
    ("POST", re.compile(r"^/channels/\d+/threads$"), "create_thread"),
    ("PATCH", re.compile(r"^/channels/\d+/messages/\d+$"), "edit_message"),
    ("POST", re.compile(r"^/interactions/\d+/[^/]+/callback$"), "callback"),
    ("POST", re.compile(r"^/webhooks/\d+/[^/]+$"), "followup"),
    ("PATCH", re.compile(r"^/webhooks/\d+/[^/]+/messages/[^/]+$"), "edit_message"),
    ("PUT", re.compile(r"^/applications/\d+/commands$"), "bulk_global"),
    ("PUT", re.compile(r"^/applications/\d+/guilds/\d+/commands$"), "bulk_guild"),
    ("POST", re.compile(r"^/applications/\d+/commands$"), "create_command"),
    ("POST", re.compile(r"^/applications/\d+/guilds/\d+/commands$"), "create_command"),
    ("PATCH", re.compile(r"^/applications/\d+/commands/\d+$"), "edit_command"),
    ("PATCH", re.compile(r"^/applications/\d+/guilds/\d+/commands/\d+$"), "edit_command"),
]


def docs_kind(method: str, path: str) -> str | None:
    """Which family of docs rules applies to a request, if any."""
    path = path.split("?", 1)[0]
    for route_method, regex, kind in _ROUTES:
        if route_method == method.upper() and regex.match(path):
            return kind
    return None


def docs_rules(
    report: _Report, body: Any, *, has_files: bool = False, interaction_type: int | None = None
) -> None:
    """Apply the docs rules for the report's route to ``body``."""
    kind = docs_kind(report.method, report.path)
    if kind is None or body is None:
        return
    checks: dict[str, Callable[[], None]] = {
        "create_message": lambda: _check_message(report, body, "", "create", has_files),
        "create_thread": lambda: _check_thread(report, body, has_files),
        "edit_message": lambda: _check_message(report, body, "", "edit", has_files),
        "followup": lambda: _check_message(report, body, "", "followup", has_files),
        "callback": lambda: _check_callback(report, body, has_files, interaction_type),
        "bulk_global": lambda: _check_bulk(report, body, guild=False),
        "bulk_guild": lambda: _check_bulk(report, body, guild=True),
        "create_command": lambda: _check_command(report, body, "", partial=False),
        "edit_command": lambda: _check_command(report, body, "", partial=True),
    }
    if not isinstance(body, (dict, list)):
        report.add("body", "", f"expected a JSON object or array, got {_short(body)}")
        return
    checks[kind]()


def validate_docs(
    method: str,
    path: str,
    body: Any,
    *,
    has_files: bool = False,
    interaction_type: int | None = None,
) -> list[Violation]:
    """Docs-only violations of a request body (usable without the spec file)."""
    report = _Report(method.upper(), path.split("?", 1)[0])
    docs_rules(report, body, has_files=has_files, interaction_type=interaction_type)
    return report.found


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def embed_total(embeds: Any) -> int:
    """Characters counted towards the 6000 limit across all of a message's embeds."""
    total = 0
    for embed in embeds if isinstance(embeds, list) else []:
        if not isinstance(embed, dict):
            continue
        total += len(_text(embed.get("title"))) + len(_text(embed.get("description")))
        for item in embed.get("fields") or []:
            if isinstance(item, dict):
                total += len(_text(item.get("name"))) + len(_text(item.get("value")))
        total += len(_text((embed.get("footer") or {}).get("text")))
        total += len(_text((embed.get("author") or {}).get("name")))
    return total


def _present(body: Mapping[str, Any], key: str) -> bool:
    value = body.get(key)
    return value not in (None, "", [], {})


def _check_message(report: _Report, body: Any, at: str, kind: str, has_files: bool) -> None:
    """Message body rules shared by channel messages, callbacks, followups and edits."""
    if not isinstance(body, dict):
        return
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_LIMIT:
        report.add(
            "content-length",
            f"{at}/content",
            f"{len(content)} characters; the docs allow up to {CONTENT_LIMIT}",
        )
    total = embed_total(body.get("embeds"))
    if total > EMBED_TOTAL_LIMIT:
        report.add(
            "embed-total",
            f"{at}/embeds",
            f"embeds hold {total} characters in total; the docs allow up to {EMBED_TOTAL_LIMIT}",
        )
    flags = body.get("flags")
    allowed = _ALLOWED_FLAGS.get(kind)
    if isinstance(flags, int) and allowed is not None and flags & ~allowed:
        report.add(
            "flags",
            f"{at}/flags",
            f"flags {flags} set bits {flags & ~allowed} that a {kind} body may not set",
        )
    if isinstance(flags, int) and flags & IS_COMPONENTS_V2:
        clashing = [k for k in ("content", "embeds", "sticker_ids", "poll") if _present(body, k)]
        if clashing:
            report.add(
                "components-v2",
                at or "/",
                f"IS_COMPONENTS_V2 messages may only hold components, not {clashing}",
            )
    if kind in ("create", "followup", "callback"):
        carriers = ("content", "embeds", "sticker_ids", "components", "poll", "shared_client_theme")
        forward = kind == "create" and _present(body, "message_reference")
        if not has_files and not forward and not any(_present(body, k) for k in carriers):
            report.add(
                "empty-message",
                at or "/",
                "needs at least one of content, embeds, sticker_ids, components, files or poll",
            )
    mentions = body.get("allowed_mentions")
    if isinstance(mentions, dict):
        parse = mentions.get("parse") or []
        for key in ("users", "roles"):
            if key in parse and mentions.get(key):
                report.add(
                    "allowed-mentions",
                    f"{at}/allowed_mentions",
                    f"parse includes {key!r} and {key} lists ids; the docs make them exclusive",
                )


def _check_thread(report: _Report, body: Any, has_files: bool) -> None:
    """A forum post's first message follows the Create Message rules."""
    if isinstance(body, dict) and isinstance(body.get("message"), dict):
        _check_message(report, body["message"], "/message", "create", has_files)


def _check_callback(
    report: _Report, body: Any, has_files: bool, interaction_type: int | None
) -> None:
    """Interaction callback rules: per-type data rules and which types fit the interaction."""
    if not isinstance(body, dict):
        return
    callback_type = body.get("type")
    data = body.get("data")
    if interaction_type is not None and isinstance(callback_type, int):
        allowed = ALLOWED_CALLBACK_TYPES.get(interaction_type)
        if allowed is not None and callback_type not in allowed:
            report.add(
                "callback-type",
                "/type",
                f"callback type {callback_type} is not valid for interaction type "
                f"{interaction_type} (allowed: {sorted(allowed)})",
            )
    if callback_type == 4:
        _check_message(
            report, data if isinstance(data, dict) else {}, "/data", "callback", has_files
        )
    elif callback_type == 5 and isinstance(data, dict):
        _check_message(report, data, "/data", "deferred", has_files)
    elif callback_type == 7 and isinstance(data, dict):
        _check_message(report, data, "/data", "edit", has_files)
    elif callback_type == 8 and isinstance(data, dict):
        for index, choice in enumerate(data.get("choices") or []):
            _check_choice(report, choice, f"/data/choices/{index}")


def _check_choice(report: _Report, choice: Any, at: str) -> None:
    if not isinstance(choice, dict):
        return
    value = choice.get("value")
    if isinstance(value, str) and len(value) > CHOICE_STRING_VALUE_LIMIT:
        report.add(
            "choice-value",
            f"{at}/value",
            f"string choice value of {len(value)} characters; the docs allow up to "
            f"{CHOICE_STRING_VALUE_LIMIT}",
        )


def _name_char_ok(char: str) -> bool:
    # Approximates \p{L}, \p{N}, \p{sc=Deva} and \p{sc=Thai} of the docs' regex.
    if char in "-_'" or char.isalnum():
        return True
    code = ord(char)
    in_script = 0x0900 <= code <= 0x097F or 0xA8E0 <= code <= 0xA8FF or 0x0E00 <= code <= 0x0E7F
    return in_script or unicodedata.category(char).startswith(("L", "N"))


def chat_input_name_problem(name: Any) -> str | None:
    """Why ``name`` breaks the docs' CHAT_INPUT naming rule, or None if it is fine."""
    if not isinstance(name, str):
        return f"name must be a string, got {_short(name)}"
    if not 1 <= len(name) <= 32:
        return f"name {name!r} must be 1-32 characters"
    bad = sorted({c for c in name if not _name_char_ok(c)})
    if bad:
        return f"name {name!r} has characters outside ^[-_'\\p{{L}}\\p{{N}}]{{1,32}}$: {bad}"
    if name != name.lower():
        return f"name {name!r} must use lowercase letters"
    return None


def _longest(value: Any, localizations: Any) -> int:
    lengths = [len(_text(value))]
    if isinstance(localizations, dict):
        lengths += [len(_text(v)) for v in localizations.values()]
    return max(lengths)


def command_size(command: Mapping[str, Any]) -> int:
    """Characters counted towards the 8000 limit (longest localization of each field)."""

    def option_size(option: Mapping[str, Any]) -> int:
        size = _longest(option.get("name"), option.get("name_localizations"))
        size += _longest(option.get("description"), option.get("description_localizations"))
        for choice in option.get("choices") or []:
            if isinstance(choice, dict):
                size += _longest(choice.get("name"), choice.get("name_localizations"))
                size += len(str(choice.get("value", "")))
        return size + sum(
            option_size(o) for o in option.get("options") or [] if isinstance(o, dict)
        )

    return option_size(command)


def _check_bulk(report: _Report, body: Any, *, guild: bool) -> None:
    """Bulk overwrite rules: per-type counts, unique names per type, then each command."""
    if not isinstance(body, list):
        return
    counts: dict[int, int] = {}
    names: dict[tuple[int, str], int] = {}
    for index, command in enumerate(body):
        if not isinstance(command, dict):
            continue
        kind = command.get("type") or 1
        counts[kind] = counts.get(kind, 0) + 1
        key = (kind, str(command.get("name")))
        if key in names:
            report.add(
                "command-unique",
                f"/{index}/name",
                f"duplicate type {kind} command name {key[1]!r} (also at /{names[key]})",
            )
        names.setdefault(key, index)
        if guild and kind == 4:
            report.add(
                "entry-point", f"/{index}/type", "PRIMARY_ENTRY_POINT cannot be a guild command"
            )
        _check_command(report, command, f"/{index}", partial=False)
    for kind, count in sorted(counts.items()):
        limit = COMMANDS_PER_TYPE.get(kind)
        if limit is not None and count > limit:
            report.add(
                "command-count", "", f"{count} commands of type {kind}; the limit is {limit}"
            )


def _check_command(report: _Report, command: Any, at: str, *, partial: bool) -> None:
    """One command definition: naming, description, options and total size."""
    if not isinstance(command, dict):
        return
    kind = command.get("type") or 1
    if kind == 1:
        if "name" in command or not partial:
            _check_name(report, command, at)
        if "description" in command or not partial:
            _check_description(report, command.get("description"), f"{at}/description")
    elif command.get("options"):
        report.add("options", f"{at}/options", "only CHAT_INPUT commands may have options")
    options = command.get("options") or []
    if isinstance(options, list):
        _check_options(report, options, f"{at}/options", level=0)
    size = command_size(command)
    if size > COMMAND_SIZE_LIMIT:
        report.add(
            "command-size",
            at or "/",
            f"{size} characters in names, descriptions and values; the limit is "
            f"{COMMAND_SIZE_LIMIT}",
        )


def _check_name(report: _Report, item: Mapping[str, Any], at: str) -> None:
    problem = chat_input_name_problem(item.get("name"))
    if problem:
        report.add("name", f"{at}/name", problem)
    localized = item.get("name_localizations")
    if isinstance(localized, dict):
        for locale, name in localized.items():
            problem = chat_input_name_problem(name)
            if problem:
                report.add("name", f"{at}/name_localizations/{locale}", problem)


def _check_description(report: _Report, description: Any, at: str) -> None:
    if not isinstance(description, str) or not 1 <= len(description) <= COMMAND_DESCRIPTION_LIMIT:
        length = len(description) if isinstance(description, str) else None
        report.add(
            "description",
            at,
            f"description must be 1-{COMMAND_DESCRIPTION_LIMIT} characters (got "
            f"{'none' if length is None else length})",
        )


def _check_options(report: _Report, options: list[Any], at: str, *, level: int) -> None:
    """Option rules: names, descriptions, order, uniqueness, nesting and choices."""
    seen: set[str] = set()
    optional_seen = False
    kinds = {o.get("type") for o in options if isinstance(o, dict)}
    if kinds & {1, 2} and kinds - {1, 2}:
        report.add("option-nesting", at, "subcommands and groups cannot sit beside other options")
    for index, option in enumerate(options):
        if not isinstance(option, dict):
            continue
        here = f"{at}/{index}"
        kind = option.get("type")
        _check_name(report, option, here)
        _check_description(report, option.get("description"), f"{here}/description")
        name = str(option.get("name"))
        if name in seen:
            report.add("option-unique", f"{here}/name", f"duplicate option name {name!r}")
        seen.add(name)
        if kind in (1, 2):
            allowed_levels = {1: (0, 1), 2: (0,)}[kind]
            if level not in allowed_levels:
                report.add("option-nesting", f"{here}/type", f"option type {kind} cannot nest here")
            nested = option.get("options") or []
            if isinstance(nested, list):
                if kind == 2 and any(isinstance(o, dict) and o.get("type") != 1 for o in nested):
                    report.add(
                        "option-nesting", f"{here}/options", "groups may only hold subcommands"
                    )
                _check_options(report, nested, f"{here}/options", level=level + 1)
            continue
        if option.get("required"):
            if optional_seen:
                report.add(
                    "option-order",
                    f"{here}/required",
                    f"required option {name!r} comes after an optional one",
                )
        else:
            optional_seen = True
        choices = option.get("choices") or []
        if choices and kind not in (3, 4, 10):
            report.add("choices", f"{here}/choices", f"option type {kind} cannot have choices")
        if option.get("autocomplete") and choices:
            report.add(
                "autocomplete-choices", f"{here}/autocomplete", "autocomplete cannot have choices"
            )
        for c_index, choice in enumerate(choices if isinstance(choices, list) else []):
            _check_choice(report, choice, f"{here}/choices/{c_index}")
