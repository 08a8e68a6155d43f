"""An article's layout: paragraphs with their offsets, lines that are not the story, sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lines that are not the story (links to other stories, captions, bylines, prompts). Each is
# written into the draft's `exclude_lines` when it matches, so the patterns stay plain
# (anchored, no look-arounds) for the loader's regular-expression engine.
EXCLUDE_RULES: tuple[str, ...] = (
    r"^Also Read\b",
    r"^ALSO READ\b",
    r"^Read [Aa]lso\b",
    r"^Read [Mm]ore\b",
    r"^READ MORE\b",
    r"^Related\b",
    r"^RELATED\b",
    r"^See also\b",
    r"^More:",
    r"^MORE:",
    r"^Recommended\b",
    r"^Don't miss\b",
    r"^Don’t miss\b",
    r"^Sign up\b",
    r"^Subscribe\b",
    r"^Newsletter\b",
    r"^Follow (?:us|@|[A-Z]\w* on)\b",
    r"^Click here\b",
    r"^Watch:",
    r"^WATCH:",
    r"^Video:",
    r"^VIDEO:",
    r"^Listen:",
    r"^Photo:",
    r"^Photograph:",
    r"^Image:",
    r"^Picture:",
    r"^Caption:",
    r"^Advertisement$",
    r"^Share this\b",
    r"^Copyright\b",
    r"^©",
    r"^By [A-Z][\w'’-]+(?: (?:[A-Z][\w.'’-]+|and)){1,5}$",
    r"\((?:Getty Images|AFP|AP|Reuters|EPA)[^)]*\)$",
    r"Photograph: [^.]*$",
    r"(?:Photo|Image|Credit): [^.]*$",
)
_COMPILED = tuple(re.compile(rule) for rule in EXCLUDE_RULES)

# Words whose full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr st jr sr prof gen sen rep gov lt col capt sgt maj adm rev fr vs etc inc co corp
    ltd no nos jan feb mar apr jun jul aug sep sept oct nov dec mt ft ave blvd dept est approx
    """.split()
)
_END = re.compile(r"[.?!…]+[\"”’')\]]*(?=\s+[\"“‘'(\[]?[A-Z0-9])")


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One line of the article text, and where it stands."""

    index: int
    start: int  # offset of its first character in the article text
    text: str
    excluded: str | None  # the rule that marks it as not the story, if any
    headline: bool = False

    @property
    def end(self) -> int:
        """Offset just past its last character."""
        return self.start + len(self.text)


def paragraphs(text: str) -> list[Paragraph]:
    """The article's lines as paragraphs; the first is the headline."""
    found: list[Paragraph] = []
    offset = 0
    for i, line in enumerate(text.split("\n")):
        found.append(Paragraph(i, offset, line, excluded_by(line), headline=i == 0))
        offset += len(line) + 1
    return found


def excluded_by(line: str) -> str | None:
    """The exclusion rule a line matches (it is then not part of the story), or None."""
    stripped = line.strip()
    for rule, pattern in zip(EXCLUDE_RULES, _COMPILED, strict=True):
        if pattern.search(stripped):
            return rule
    return None


def sentence_ends(text: str) -> list[int]:
    """Offsets just past each sentence-ending mark in a paragraph (not after abbreviations)."""
    ends: list[int] = []
    for match in _END.finditer(text):
        if match.group().startswith("."):
            word = re.search(r"([A-Za-z]+)$", text[: match.start()])
            if word is not None:
                token = word.group(1)
                # "Mr.", "Jan.", and initials ("D.A.", "J.") do not end a sentence.
                if token.casefold() in _ABBREVIATIONS or len(token) == 1:
                    continue
        ends.append(match.end())
    return ends
