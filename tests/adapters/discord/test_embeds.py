"""Embeds built from replies stay within Discord's documented limits and lose nothing."""

from __future__ import annotations

import random
import re
import unicodedata

import discord
import pytest

from bot import limits
from bot.adapters.discord.embeds import (
    _CONTROL,
    _plain,
    _section_fields,
    clean,
    paginate,
    render_pages,
)
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


def test_a_section_checked_whole_shows_exactly_what_cleaning_each_piece_shows() -> None:
    # A section's text is checked in one go and, if nothing in it needs cleaning, shown as it
    # is: the fields must equal those of cleaning every label, text and detail on its own.
    rng = random.Random(20261129)
    plain = [*"abc de fgh ij", " 2025-06-22 ", "·", "“quoted”", " — ", "\u00e9t\u00e9", ".\n"]
    hostile = ["- ", "\n- ", "# ", "\n> ", "[a](https://e.com/x)", "@everyone", "<@&12>", "e\u0301"]
    hostile += [*"_*~|`\\[>#@\t"] + [c for c in map(chr, range(0x2070)) if _CONTROL.match(c)]
    seen_plain = seen_hostile = 0
    for _ in range(2000):
        # At most one kind of trouble per section, so each is the only reason to clean.
        trouble = rng.choice(hostile) if rng.random() < 0.7 else ""
        alphabet = [*plain * 6, trouble] if trouble else plain

        def text(low: int, high: int, alphabet: list[str] = alphabet) -> str:
            return "".join(rng.choices(alphabet, k=rng.randint(low, high)))

        items = tuple(
            Item(
                text(1, 100),
                label=text(0, 10) or None,
                detail=text(0, 15) or None,
                marks=((0, 1),) if rng.random() < 0.1 else (),
            )
            for _ in range(rng.randint(1, 12))
        )
        lead = trouble if rng.random() < 0.2 else ""  # trouble at the very start
        section = Section(text(1, 8), items, body=lead + text(0, 60) or None)
        whole = [x for i in items for x in (i.label or "", i.detail or "", i.text)]
        if _plain("\n".join([section.body or "", *whole])):
            seen_plain += 1
        else:
            seen_hostile += 1
        assert _section_fields(section) == _section_fields(section, batch=False), section
    assert seen_plain > 300 and seen_hostile > 300  # both paths were taken


def test_pages_are_drawn_when_asked_and_match_the_whole_rendering() -> None:
    reply = huge_reply()
    pages = paginate(reply)
    every = render_pages(reply)
    assert len(pages) == len(every) > 2
    assert pages[-1].to_dict() == every[-1].to_dict()
    assert [p.to_dict() for p in pages] == [p.to_dict() for p in every]
    with pytest.raises(IndexError):
        pages[len(every)]


def test_only_the_roles_a_reply_names_itself_show_as_roles() -> None:
    ours, theirs = 123456789012345678, 876543210987654321
    text = f"Mentions <@&{ours}>. A quote: <@&{theirs}> @everyone"
    reply = Reply("Digest", description=text, sections=(Section("S", body=text),), roles=(ours,))
    (page,) = render_pages(reply)
    for shown in (page.description, page.fields[0].value):
        assert shown is not None
        assert f"Mentions <@&{ours}>." in shown
        assert f"<@\u200b&{theirs}>" in shown and "@\u200beveryone" in shown
