"""How replies name a brief: its date, honest about inference, and a title · date line."""

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
