"""Embeds built from replies stay within Discord's documented limits and lose nothing."""

from __future__ import annotations

import random
import re
import unicodedata

import discord
import pytest

from bot import limits
from bot.adapters.discord.embeds import _CONTROL, clean, render_pages
from bot.reply import Item, Reply, Section, Status
from tests.shared import discord_limit


@pytest.mark.parametrize(
    ("constant", "topic"),
    [
        (limits.CONTENT, "create_message content length"),
        (limits.EMBED_TITLE, "embed title"),
        (limits.EMBED_DESCRIPTION, "embed description"),
        (limits.EMBED_FIELDS, "embed fields count"),
        (limits.FIELD_NAME, "embed field name"),
        (limits.FIELD_VALUE, "embed field value"),
        (limits.FOOTER_TEXT, "embed footer text"),
        (limits.EMBED_TOTAL, "embed total characters (all embeds in one message)"),
        (limits.AUTOCOMPLETE_CHOICES, "autocomplete choices count (string)"),
        (limits.CHOICE_NAME, "choice name length (max)"),
        (limits.CHOICE_VALUE, "choice string value length"),
        (limits.COMMAND_NAME, "command name length max"),
        (limits.COMMAND_DESCRIPTION, "command description max"),
    ],
)
def test_limits_match_discord_docs(constant: int, topic: str) -> None:
    assert constant == discord_limit(topic)


def assert_within_limits(embed_dict: dict[str, object], size: int) -> None:
    assert len(str(embed_dict.get("title", ""))) <= limits.EMBED_TITLE
    assert len(str(embed_dict.get("description", "") or "")) <= limits.EMBED_DESCRIPTION
    fields = embed_dict.get("fields", [])
    assert isinstance(fields, list)
    assert len(fields) <= limits.EMBED_FIELDS
    for field in fields:
        assert 1 <= len(field["name"]) <= limits.FIELD_NAME
        assert 1 <= len(field["value"]) <= limits.FIELD_VALUE
    footer = embed_dict.get("footer", {})
    assert isinstance(footer, dict)
    assert len(footer.get("text", "")) <= limits.FOOTER_TEXT
    assert size <= limits.EMBED_TOTAL


def huge_reply() -> Reply:
    words = " ".join(f"word{i}" for i in range(2000))
    return Reply(
        title="T" * 400,
        description=words,
        sections=(
            Section("Body", body=words),
            Section(
                "Quotes " * 60,
                tuple(
                    Item(f"quote {i} " + "q" * 1500, label="L" * 300, detail="D" * 300)
                    for i in range(40)
                ),
            ),
        ),
        footer="F" * 3000,
    )


def test_any_reply_renders_within_limits() -> None:
    pages = render_pages(huge_reply())
    assert len(pages) > 1
    for page in pages:
        assert_within_limits(page.to_dict(), len(page))  # type: ignore[arg-type]


def test_long_content_is_paged_not_lost() -> None:
    reply = huge_reply()
    pages = render_pages(reply)
    shown = " ".join(
        " ".join([p.description or "", *(f.value or "" for f in p.fields)]) for p in pages
    )
    flat = re.sub(r"\s+", " ", shown)
    for i in range(2000):
        assert f"word{i}" in flat
    for i in range(40):
        assert f"quote {i} " in flat
    # Every page says where it stands.
    assert pages[0].footer.text and pages[0].footer.text.endswith(f"Page 1/{len(pages)}")
    assert pages[-1].footer.text and pages[-1].footer.text.endswith(
        f"Page {len(pages)}/{len(pages)}"
    )


def test_short_reply_is_one_page_without_counter() -> None:
    reply = Reply(
        "Title", description="Hello", footer="foot", sections=(Section("S", (Item("x"),)),)
    )
    pages = render_pages(reply)
    assert len(pages) == 1
    assert pages[0].footer.text == "foot"
    assert pages[0].fields[0].value == "x"


def test_not_found_shows_suggestions_in_warning_colour() -> None:
    reply = Reply("Speaker not found", Status.NOT_FOUND, suggestions=("Ishaq Dar",))
    page = render_pages(reply)[0]
    assert page.colour is not None and page.colour.value == 0xE67E22
    assert [(f.name, f.value) for f in page.fields] == [("Suggestions", "Ishaq Dar")]


@pytest.mark.parametrize(
    ("hostile", "expected"),
    [
        ("@everyone", "@\u200beveryone"),
        ("@here", "@\u200bhere"),
        ("<@&123456789012345678>", "<@\u200b&123456789012345678>"),
        ("<@123456789012345678>", "<@\u200b123456789012345678>"),
        ("**bold**", "\\*\\*bold\\*\\*"),
        ("a\u202eb\x07c", "abc"),  # right-to-left override and control characters dropped
    ],
)
def test_user_text_is_made_inert(hostile: str, expected: str) -> None:
    assert clean(hostile) == expected


def test_plain_text_shortcut_escapes_exactly_what_discord_py_would() -> None:
    # clean() skips discord.py's escaping for text with nothing to escape; on any text, the
    # result must equal the full escaping (else a mention or markdown could slip through).
    rng = random.Random(20261126)
    alphabet = "ab -_*~|`@>[]()#\\\n:/.\u202e\u0301" + "everyone" + "here" + "0123456789&!<"
    samples = ["@everyone", " - item", "x\n  - y", "[a](https://e.com/a_b)", "# h", "> q"]
    samples += ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(3000)]
    for text in samples:
        expected = _CONTROL.sub("", unicodedata.normalize("NFC", text))
        expected = discord.utils.escape_mentions(discord.utils.escape_markdown(expected))
        assert clean(text) == expected, repr(text)


def test_only_the_roles_a_reply_names_itself_show_as_roles() -> None:
    ours, theirs = 123456789012345678, 876543210987654321
    text = f"Mentions <@&{ours}>. A quote: <@&{theirs}> @everyone"
    reply = Reply("Digest", description=text, sections=(Section("S", body=text),), roles=(ours,))
    (page,) = render_pages(reply)
    for shown in (page.description, page.fields[0].value):
        assert shown is not None
        assert f"Mentions <@&{ours}>." in shown
        assert f"<@\u200b&{theirs}>" in shown and "@\u200beveryone" in shown
