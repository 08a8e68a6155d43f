"""Claims with figures: money, percentages and counts someone asserts, each value verbatim."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from bot.ingest.attribute import UNKNOWN, Attribution, Resolver, Speaker
from bot.ingest.layout import Paragraph, sentence_ends
from bot.ingest.people import Cast, masked

_SCALE = r"(?:\s?(?:million|billion|trillion|thousand|bn|tn|mn|m|k)\b)?"
_NUMBER = r"\d[\d,]*(?:\.\d+)?"
FIGURE = re.compile(
    r"(?:(?:US|A|C|NZ|HK)?\$|£|€|¥|₹|Rs\.?\s?)"
    + _NUMBER
    + r"(?:\s?[-–]\s?"
    + _NUMBER
    + r")?"
    + _SCALE
    + r"(?:-something)?"
    + r"|\b"
    + _NUMBER
    + r"(?:\s?[-–]\s?"
    + _NUMBER
    + r")?\s?(?:%|per\s?cent\b|percent\b)"
    + r"|\b"
    + _NUMBER
    + r"\s(?:million|billion|trillion)\b"
    + r"|\b\d{1,3}(?:,\d{3})+\b"
)


@dataclass(frozen=True, slots=True)
class Claim:
    """A sentence asserting figures, who asserted it, and the figures verbatim."""

    claimant: Speaker
    text: str  # the sentence, verbatim: draft text for the analyst to rewrite
    figures: tuple[str, ...]
    para: int
    cue: str


def claims(paragraphs: list[Paragraph], cast: Cast, attributions: list[Attribution]) -> list[Claim]:
    """Every sentence with a figure that someone asserts, attributed to them."""
    resolver = Resolver(cast, paragraphs)
    quoted = [(a.quotation.span.start, a.quotation.span.end, a.speaker) for a in attributions]
    found: list[Claim] = []
    for paragraph in paragraphs:
        if paragraph.excluded or paragraph.headline or not FIGURE.search(paragraph.text):
            continue
        ends = [0, *sentence_ends(masked(paragraph.text)), len(paragraph.text)]
        for lo, hi in pairwise(ends):
            sentence = paragraph.text[lo:hi]
            figures = [m for m in FIGURE.finditer(sentence)]
            if not figures:
                continue
            start = paragraph.start + lo
            first = figures[0]
            speaker: Speaker | None = None
            cue = ""
            at = start + first.start()
            inside = next((s for a, b, s in quoted if a <= at < b), None)
            if inside is not None:
                speaker, cue = inside, "in a quotation"
            else:
                found_cue = resolver.before(sentence[: first.start()], start) or resolver.after(
                    sentence[first.end() :], start + first.end()
                )
                if found_cue is not None:
                    speaker, cue = found_cue
            if speaker is None or speaker.kind == UNKNOWN:
                continue
            values = tuple(dict.fromkeys(m.group().strip() for m in figures))
            found.append(Claim(speaker, " ".join(sentence.split()), values, paragraph.index, cue))
    return found
