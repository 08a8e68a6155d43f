"""Quotation spans: double marks paired (straight, curly, broken), run-ons, not scare quotes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.ingest import lexicon
from bot.ingest.layout import Paragraph, sentence_ends

OPENERS = frozenset("“„‟«")
CLOSERS = frozenset("”»")
STRAIGHT = '"'
MARKS = OPENERS | CLOSERS | {STRAIGHT}
_BEFORE_OPEN = frozenset(" \t([{—–-/:;")
_AFTER_CLOSE = frozenset(" \t,.;:!?)]}—–-…")
_WORD = re.compile(r"[A-Za-z0-9][\w'’\-]*")
_SMALL_WORDS = frozenset(
    "a an and as at but by for from in into of on or the to with vs via nor is are be".split()
)
_PERSONAL = frozenset(
    "i i'm i’m i've i’ve i'd i’d i'll i’ll me my we we're we’re our us you your".split()
)
_PRONOUN_STARTS = frozenset("it it's it’s he she they this that there".split())
# Words right before a quotation that make it a term, not somebody's words.
_TERM_CUES = re.compile(
    r"(?:so-called|so called|the (?:word|words|term|phrase|label|slogan|hashtag|motto)|"
    r"known as|referred to as|nicknamed|dubbed|titled|entitled|headlined|marked)\s*$",
    re.IGNORECASE,
)
# How far before a short fragment its speech verb may stand, in words.
SHORT_CUE_WINDOW = 15


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of text inside double quotation marks, in article offsets."""

    para: int
    open: int  # offset of the opening mark
    start: int  # offset of the first character inside the marks
    end: int  # offset just past the last character inside the marks
    closed: bool  # False: runs on to the end of the paragraph, or broken by a new opening
    text: str  # the words inside the marks, stripped


@dataclass(frozen=True, slots=True)
class Quotation:
    """A span judged to be somebody's words, with the reporter's text around it."""

    span: Span
    before: str  # the reporter's words from the start of the sentence to the opening mark
    after: str  # the reporter's words from the closing mark to the end of the sentence
    partial: bool  # a fragment inside the reporter's sentence
    whole_paragraph: bool  # the paragraph is this quotation and nothing else
    paragraph_start: bool  # the paragraph opens with it

    @property
    def text(self) -> str:
        """The quoted words."""
        return self.span.text


def spans(paragraph: Paragraph) -> list[Span]:
    """Every double-quoted stretch of a paragraph, marks paired as a reader pairs them."""
    text = paragraph.text
    found: list[Span] = []
    opened: int | None = None

    def emit(open_at: int, close_at: int, closed: bool) -> None:
        inner = text[open_at + 1 : close_at]
        stripped = inner.strip()
        if not re.search(r"\w", stripped):
            return
        lead = len(inner) - len(inner.lstrip())
        start = paragraph.start + open_at + 1 + lead
        found.append(
            Span(
                paragraph.index,
                paragraph.start + open_at,
                start,
                start + len(stripped),
                closed,
                stripped,
            )
        )

    for i, char in enumerate(text):
        if char not in MARKS:
            continue
        if char == STRAIGHT:
            prev = text[i - 1] if i else " "
            nxt = text[i + 1] if i + 1 < len(text) else " "
            opens = prev in _BEFORE_OPEN and nxt not in " \t"
            closes = nxt in _AFTER_CLOSE and prev not in " \t"
            is_open = opens if opens != closes else opened is None
        else:
            is_open = char in OPENERS
        if is_open:
            if opened is not None:  # a broken pair: the last quotation never closed
                emit(opened, i, closed=False)
            opened = i
        elif opened is not None:
            emit(opened, i, closed=True)
            opened = None
    if opened is not None:  # runs on into the next paragraph
        emit(opened, len(text), closed=False)
    return found


def _masked(paragraph: Paragraph, found: list[Span]) -> str:
    """The paragraph with quoted words masked, keeping a closing full stop for sentence ends."""
    chars = list(paragraph.text)
    for span in found:
        lo, hi = span.start - paragraph.start, span.end - paragraph.start
        keep = hi - 1 if chars[hi - 1] in ".?!" else hi
        for k in range(lo, keep):
            chars[k] = "X"
    return "".join(chars)


def quotations(paragraph: Paragraph) -> list[Quotation]:
    """The quotations of a paragraph: spans that are somebody's words, with their frames."""
    if paragraph.excluded or paragraph.headline:
        return []
    found = spans(paragraph)
    if not found:
        return []
    masked = _masked(paragraph, found)
    ends = [0, *sentence_ends(masked), len(masked)]
    result: list[Quotation] = []
    base = paragraph.start
    for k, span in enumerate(found):
        open_at = span.open - base
        close_at = span.end - base  # the closing mark (or the paragraph end)
        prev_close = (found[k - 1].end - base + 1) if k else 0
        next_open = (found[k + 1].open - base) if k + 1 < len(found) else len(masked)
        sentence_start = max([e for e in ends if e <= open_at] or [0])
        lo = max(prev_close, sentence_start)
        before = paragraph.text[lo:open_at]
        after_start = min(close_at + 1, len(masked))
        sentence_end = min([e for e in ends if e > after_start] or [len(masked)])
        after = paragraph.text[after_start : min(sentence_end, next_open)]
        if not span.closed and k + 1 == len(found):
            after = ""
        whole = not paragraph.text[:open_at].strip() and not paragraph.text[close_at + 1 :].strip(
            " \t.,"
        )
        # The sentence's words before the quotation, earlier quotations included, frame it.
        lead = paragraph.text[sentence_start:open_at]
        if not is_quotation(
            span, lead, after, paragraph_start=not paragraph.text[:open_at].strip()
        ):
            continue
        partial = _is_partial(span.text, before, paragraph_start=lo == 0 and not before.strip())
        result.append(
            Quotation(
                span,
                before,
                after,
                partial,
                whole_paragraph=whole,
                paragraph_start=not paragraph.text[:open_at].strip(),
            )
        )
    return result


def words(text: str) -> list[str]:
    """The words of a text."""
    return _WORD.findall(text)


def _title_case(text: str) -> bool:
    tokens = words(text)
    if len(tokens) < 2 or text.rstrip(" '’\"”")[-1:] in ".?!,":
        return False
    if tokens[0].casefold() in _PERSONAL or tokens[0].casefold() in _PRONOUN_STARTS:
        return False
    major = [t for t in tokens if t.casefold() not in _SMALL_WORDS]
    return bool(major) and all(t[0].isupper() or t[0].isdigit() for t in major)


def _cue_words(text: str) -> list[str]:
    return [w.casefold() for w in words(text)]


def _has_cue(tokens: list[str], *, nouny: bool = False) -> bool:
    joined = " ".join(tokens)
    return (
        any(
            (t in lexicon.SPEECH_VERBS and (nouny or t not in lexicon.NOUNY_VERBS))
            or t in lexicon.FRAMING_VERBS
            for t in tokens
        )
        or "according to" in joined
    )


def is_quotation(span: Span, before: str, after: str, *, paragraph_start: bool) -> bool:
    """Whether the marks hold somebody's words (not a title, term, nickname or scare quote)."""
    text = span.text
    tokens = words(text)
    if not tokens:
        return False
    head = before.rstrip()
    if _TERM_CUES.search(head):
        return False
    before_words = _cue_words(before)
    if before_words and before_words[-1] in lexicon.NAMING_VERBS:
        return False
    if _title_case(text):
        return False
    if paragraph_start or not span.closed or head.endswith(":"):
        return True
    if len(tokens) >= 4:
        personal = any(t.casefold() in _PERSONAL for t in tokens)
        return (
            personal
            or text.rstrip("’'")[-1:] in ".?!,…"
            or _has_cue(before_words, nouny=True)
            or _has_cue(_cue_words(after)[:8], nouny=True)
        )
    # A short fragment is a quotation only when a speech verb right before it frames it:
    # 'said it was "distressing"', 'called for a "transactional" relationship'.
    return _has_cue(before_words[-SHORT_CUE_WINDOW:])


def _is_partial(text: str, before: str, *, paragraph_start: bool) -> bool:
    if paragraph_start:
        return False
    head = before.rstrip()
    if not head or head.endswith((":", ",")):
        return not (text[:1].isupper() or text[:1].isdigit() or text[:1] in "[‘'")
    return True
