"""Plain-text helpers every layer shares: fold for matching, clip with "…", English counts."""

from __future__ import annotations

ELLIPSIS = "…"


def fold(text: str) -> str:
    """Case- and whitespace-insensitive key for names and labels."""
    return " ".join(text.split()).casefold()


def clip(text: str, limit: int) -> str:
    """Text cut to at most `limit` characters, ending in a visible ellipsis when cut."""
    # No space before the ellipsis: "a long…", not "a long …".
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def plural(count: int, word: str, many: str | None = None) -> str:
    """`count` and the word, singular or plural: "1 claim", "2 claims", "1 person"."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def first_sentences(text: str, limit: int = 240) -> str:
    """The opening of a text, cut at a sentence end when one comes early enough."""
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    return text[: cut + 1] if cut > limit // 3 else clip(text, limit)
