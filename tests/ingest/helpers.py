"""Shared by the ingest tests: run the rules over a small invented article."""

from __future__ import annotations

from bot.ingest.engine import Analysis, analyse

HEADLINE = "Invented story for a test\n"


def run(body: str) -> Analysis:
    """Analyse an article made of a headline and these paragraphs."""
    return analyse(HEADLINE + "\n".join(line.strip() for line in body.strip().splitlines()))


def said(body: str) -> list[tuple[str, str, str]]:
    """(quotation, speaker kind, speaker name or description) for every quotation found."""
    return [(a.quotation.text, a.speaker.kind, a.speaker.name) for a in run(body).attributions]


def who(body: str) -> list[str]:
    """The speaker's name (or description) of every quotation, in order."""
    return [name for _, _, name in said(body)]
