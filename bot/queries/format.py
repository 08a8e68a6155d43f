"""Small wording helpers shared by the query modules."""

from __future__ import annotations

from bot.briefs.models import Brief, DateStatus


def brief_date(brief: Brief) -> str:
    """The brief's date as a reader should see it, honest about inference."""
    date = brief.date
    if date.value is None:
        return "date unknown"
    text = date.value.isoformat()
    return f"{text} (inferred)" if date.status is DateStatus.INFERRED else text


def brief_ref(brief: Brief) -> str:
    """A short provenance line: title and date."""
    return f"{brief.title} · {brief_date(brief)}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """`count` and the word, singular or plural: "1 claim", "2 claims", "1 person"."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def first_sentences(text: str, limit: int = 240) -> str:
    """The opening of a text, cut at a sentence end when one comes early enough."""
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    return text[: cut + 1] if cut > limit // 3 else text[: limit - 1].rstrip() + "…"
