"""How replies name a brief: its date, honest about inference, and a title · date line."""

from __future__ import annotations

from typing import Protocol

from bot.briefs.models import BriefDate, DateStatus


class Dated(Protocol):
    """Anything that names a brief: a brief, or just its head."""

    @property
    def title(self) -> str:
        """The brief's title."""

    @property
    def date(self) -> BriefDate:
        """The brief's date."""


def brief_date(brief: Dated) -> str:
    """The brief's date as a reader should see it, honest about inference."""
    date = brief.date
    if date.value is None:
        return "date unknown"
    text = date.value.isoformat()
    return f"{text} (inferred)" if date.status is DateStatus.INFERRED else text


def brief_ref(brief: Dated) -> str:
    """A short provenance line: title and date."""
    return f"{brief.title} · {brief_date(brief)}"
