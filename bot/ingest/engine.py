"""One pass over an article's text: layout, quotations, people, speakers, claims, topics."""

from __future__ import annotations

from dataclasses import dataclass

from bot.ingest.attribute import Attribution, attribute
from bot.ingest.claims import Claim, claims
from bot.ingest.layout import Paragraph, paragraphs
from bot.ingest.people import Cast, cast
from bot.ingest.quotes import Quotation, quotations


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the rules found in one article's text."""

    text: str
    paragraphs: list[Paragraph]
    cast: Cast
    attributions: list[Attribution]
    claims: list[Claim]

    @property
    def excluded_rules(self) -> list[str]:
        """The exclusion patterns that matched a line, in first-match order."""
        return list(dict.fromkeys(p.excluded for p in self.paragraphs if p.excluded))


def analyse(text: str) -> Analysis:
    """Run every rule over an article's text (headline on the first line)."""
    layout = paragraphs(text)
    found: dict[int, list[Quotation]] = {}
    for paragraph in layout:
        spans = quotations(paragraph)
        if spans:
            found[paragraph.index] = spans
    people = cast(layout)
    attributions = attribute(layout, found, people)
    return Analysis(text, layout, people, attributions, claims(layout, people, attributions))
