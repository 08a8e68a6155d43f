"""Who said each quotation: speaker cues, pronouns, titles, continuations, unnamed speakers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.ingest import lexicon
from bot.ingest.layout import Paragraph
from bot.ingest.people import Cast, Entity, Mention, by_title
from bot.ingest.quotes import Quotation

PERSON, ORGANISATION, UNNAMED, UNKNOWN = "person", "organisation", "unnamed", "unknown"
_VERB = re.compile(r"\b([a-z]+)\b")
_PARTICIPLES = frozenset(
    """
    saying adding writing telling noting calling describing declaring claiming insisting
    arguing warning explaining asking stating tweeting posting answering replying
    """.split()
)
_ADVERBS = frozenset(
    """
    also then later has had have was once previously recently repeatedly reportedly will would
    could again further just simply flatly quickly quietly bluntly publicly privately earlier
    often still had already even only has has
    """.split()
)
_NP_STOP = re.compile(
    r",|;|\(|—|–|\s-\s|(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\b[A-Z])\.(?:\s|$)|\b(?:who|whose|which|when|while|as|in|on|at|about|during|after|"
    r"before|to|from|with|of the|that|because|if|but|and then|adding|noting)\b"
)
_CLAUSE_BREAK = re.compile(r"[.!?][”\"’]?\s+|[,;:]\s+")
_RELATIVE = re.compile(r",\s+(?:which|who)\b")
_FIRST_PERSON = re.compile(r"\b(?:I|I['’](?:m|ve|d|ll)|me|my|myself)\b")
_QUOTED_AS = re.compile(r"\bquoted\s+(.{1,60}?)\s+as\s+(?:saying|telling|writing)\b")
_ACCORDING = re.compile(r"\baccording to\s+(.+?)(?:[,;]|\.(?:\s|$)|$)", re.IGNORECASE)
# An auxiliary before a participle makes a cue passive: "was described", "has been called".
_AUXILIARIES = frozenset("was were is are been being be".split())
_INDEFINITE = frozenset("a an one another some two three four several many most other".split())
_PLURAL_BODIES = frozenset(
    """
    officials analysts experts residents critics sources observers economists scientists
    researchers witnesses doctors lawyers police authorities investigators protesters
    activists people locals fans users workers employees members leaders
    """.split()
)
_ORG_NOUNS = frozenset(
    """
    company firm group organisation organization agency ministry department government office
    council committee commission administration board union party newspaper magazine website
    university institute center centre bank court military army police
    """.split()
)


@dataclass(frozen=True, slots=True)
class Speaker:
    """Whose words: a person or organisation of the story, an unnamed speaker, or unknown."""

    kind: str  # person, organisation, unnamed, unknown
    name: str  # canonical name; the article's description when unnamed; the reason if unknown
    entity: int | None = None


@dataclass(frozen=True, slots=True)
class Attribution:
    """A quotation and its speaker, how the speaker was found, and any doubt."""

    quotation: Quotation
    speaker: Speaker
    cue: str
    uncertain: str | None = None


_UNKNOWN = Speaker(UNKNOWN, "no speaker cue")


class Resolver:
    """Turns noun phrases, pronouns and speech cues into speakers."""

    def __init__(self, cast: Cast, paragraphs: list[Paragraph]) -> None:
        self.cast = cast
        self.paragraphs = paragraphs
        self.doubt: str | None = None
        self.first_person = False  # the quotation at hand says "I", "me" or "my"

    # -- noun phrases -----------------------------------------------------------------------

    def phrase(self, text: str, start: int, *, nearest_last: bool) -> Speaker | None:
        """The speaker a noun phrase names (offsets are the article's)."""
        stripped = text.strip(" \t,.:;“”\"'’")
        lead_word = re.match(
            r"(?:as|and|but|so|while|when|because|although|though)\s+", stripped, re.I
        )
        if lead_word is not None:
            stripped = stripped[lead_word.end() :]
        if not stripped:
            return None
        lead = text.find(stripped[:1])
        start += max(lead, 0)
        end = start + len(stripped)
        low = stripped.casefold()
        words = low.split()
        if words[0] in ("mr", "mr.", "ms", "ms.", "mrs", "mrs.", "dr", "dr.") and len(words) > 1:
            pass
        elif len(words) == 1 and words[0] in lexicon.PRONOUNS:
            return self.pronoun(words[0], start)
        elif re.fullmatch(r"the \d+-year-old(?: \w+)?", low):
            # "the 45-year-old said": the last person named, whatever their gender.
            return self.pronoun("", start)
        mentions = [
            m for m in self.cast.within(start, end) if m.kind in ("name", "title", "candidate")
        ]
        if words[0] in _INDEFINITE and not (mentions and mentions[-1].end >= end - 1):
            return Speaker(UNNAMED, stripped)
        head_word = stripped.split()[-1]
        if (
            mentions
            and mentions[-1].end < end - 1
            and head_word.islower()
            and (head_word in lexicon.UNNAMED_HEADS or head_word in _PLURAL_BODIES)
        ):
            # "Trump's lawyer", "a Google spokeswoman", "Con Edison officials": not the name in
            # it, but someone it describes: a person known by that role, else unnamed.
            entity = by_title(self.cast, head_word, start) if len(words) <= 4 else None
            if entity is not None:
                return Speaker(_kind(entity), entity.name, entity.key)
            return Speaker(UNNAMED, stripped)
        if mentions:
            # "US state department spokesperson Tammy Bruce": the person is the head.
            people = [m for m in mentions if self.cast.entities[m.entity].kind == PERSON]  # type: ignore[index]
            if people:
                return self.of_mention(people[-1])
            mention = mentions[-1] if nearest_last else mentions[0]
            return self.of_mention(mention)
        if words[-1] in _PLURAL_BODIES and len(words) <= 6:
            return Speaker(UNNAMED, stripped)
        if words[0] == "the" and len(words) <= 4:
            head = words[-1]
            entity = by_title(self.cast, head, start)
            if entity is not None:
                return Speaker(_kind(entity), entity.name, entity.key)
            if head in lexicon.DOCUMENT_NOUNS:
                org = self.author_of(head, start) or self.recent_organisation(start)
                if org is not None:
                    return org
            if head in _ORG_NOUNS:
                org = self.named_organisation(head, start) or self.salient_organisation(start)
                if org is not None:
                    return org
            if head in lexicon.UNNAMED_HEADS:
                return Speaker(UNNAMED, stripped)
        return None

    def of_mention(self, mention: Mention) -> Speaker:
        """The speaker a mention refers to; a nameless candidate becomes person or body."""
        assert mention.entity is not None
        entity = self.cast.entities[mention.entity]
        if entity.kind == "candidate":
            first = entity.tokens[0].casefold()
            person = 2 <= len(entity.tokens) <= 4 and (
                first in lexicon.MALE_NAMES
                or first in lexicon.FEMALE_NAMES
                # Someone who says "I" is a person.
                or self.first_person
            )
            entity.kind = PERSON if person else ORGANISATION
        if entity.kind == PERSON and len(entity.tokens) == 1:
            self.shared_surname(entity, mention)
        return Speaker(_kind(entity), entity.name, entity.key)

    def shared_surname(self, entity: Entity, mention: Mention) -> None:
        others = [
            e.name
            for e in self.cast.entities.values()
            if e.kind == PERSON and e.key != entity.key and e.surname == entity.surname
        ]
        if others:
            self.doubt = f"'{mention.text}' may be {entity.name} or {', '.join(others)}"

    def pronoun(self, word: str, offset: int) -> Speaker | None:
        """The antecedent of he/she (nearest person of that gender), or of they/it."""
        gender = lexicon.PRONOUNS.get(word)
        para = self.para_of(offset)
        if gender in ("p", "n"):
            org = self.recent_organisation(offset, subject=True)
            if org is not None:
                return org
            return None
        fits: list[Entity] = []
        unsure: list[Entity] = []
        for mention in self.cast.before(offset):
            if mention.entity is None or mention.kind not in ("name", "title"):
                continue
            if para - mention.para > 3:
                break
            entity = self.cast.entities[mention.entity]
            if entity.kind != PERSON:
                continue
            if entity.gender == gender and entity not in fits:
                fits.append(entity)
            elif (entity.gender is None or gender is None) and entity not in unsure:
                unsure.append(entity)
        if not fits and unsure:
            fits = unsure
        if not fits:
            # Widen to the whole story before this point.
            for mention in self.cast.before(offset):
                if mention.entity is None or mention.kind not in ("name", "title"):
                    continue
                entity = self.cast.entities[mention.entity]
                if entity.kind == PERSON and entity.gender in (gender, None):
                    fits.append(entity)
                    break
        if not fits:
            return None
        if len(fits) > 1 and gender is None:
            return Speaker(PERSON, fits[0].name, fits[0].key)
        if len(fits) > 1:
            label = "male" if gender == "m" else "female"
            names = ", ".join(e.name for e in fits[:3])
            self.doubt = f"'{word}' has {len(fits)} {label} candidates nearby: {names}"
        chosen = fits[0]
        return Speaker(PERSON, chosen.name, chosen.key)

    def author_of(self, noun: str, offset: int) -> Speaker | None:
        """Who wrote "the report": the body named in "a report … by/from X" earlier on."""
        pattern = re.compile(rf"\b{re.escape(noun)}\b[^.]{{0,80}}?\b(?:by|from|of)\s+", re.I)
        for paragraph in reversed(self.paragraphs):
            if paragraph.start >= offset or paragraph.excluded:
                continue
            for match in reversed(list(pattern.finditer(paragraph.text))):
                at = paragraph.start + match.end()
                for mention in self.cast.within(at, at + 80):
                    if mention.entity is None:
                        continue
                    entity = self.cast.entities[mention.entity]
                    if entity.kind in (ORGANISATION, "candidate"):
                        entity.kind = ORGANISATION
                        return Speaker(ORGANISATION, entity.name, entity.key)
                    break
        return None

    def named_organisation(self, noun: str, offset: int) -> Speaker | None:
        """ "The ministry": a body whose name holds that word, named in the last paragraphs."""
        para = self.para_of(offset)
        for mention in self.cast.before(offset):
            if para - mention.para > 2:
                break
            if mention.entity is None:
                continue
            entity = self.cast.entities[mention.entity]
            if entity.kind == ORGANISATION and noun in entity.name.casefold().split():
                return Speaker(ORGANISATION, entity.name, entity.key)
        return None

    def salient_organisation(self, offset: int) -> Speaker | None:
        """The body "the company" means: the most-named one among those named lately."""
        para = self.para_of(offset)
        recent = {
            m.entity
            for m in self.cast.before(offset)
            if m.entity is not None
            and para - m.para <= 3
            and self.cast.entities[m.entity].kind in (ORGANISATION, "candidate")
        }
        if not recent:
            return None
        counts = {k: 0 for k in recent}
        for mention in self.cast.mentions:
            if mention.entity in counts:
                counts[mention.entity] += 1
        key = max(counts, key=lambda k: counts[k])
        entity = self.cast.entities[key]
        entity.kind = ORGANISATION
        return Speaker(ORGANISATION, entity.name, entity.key)

    def recent_organisation(
        self, offset: int, window: int = 2, *, subject: bool = False
    ) -> Speaker | None:
        """The body named last before `offset`; with `subject`, the last one a sentence is about."""
        para = self.para_of(offset)
        found: list[Mention] = []
        for mention in self.cast.before(offset):
            if para - mention.para > window:
                break
            if mention.entity is None:
                continue
            if self.cast.entities[mention.entity].kind == ORGANISATION:
                found.append(mention)
        if not found:
            return None
        # "The agency warned against pills that contained DNP. “…,” it said": "it" is the
        # sentence's subject, not the last body its object happens to name.
        chosen = next((m for m in found if self.opens_clause(m)), found[0]) if subject else found[0]
        entity = self.cast.entities[chosen.entity]  # type: ignore[index]
        return Speaker(ORGANISATION, entity.name, entity.key)

    def opens_clause(self, mention: Mention) -> bool:
        """Whether a mention is a sentence's or clause's first words (its subject, mostly)."""
        paragraph = next((p for p in self.paragraphs if p.index == mention.para), None)
        if paragraph is None:
            return False
        before = paragraph.text[: mention.start - paragraph.start]
        cut = max((m.end() for m in _CLAUSE_BREAK.finditer(before)), default=0)
        return before[cut:].strip().casefold() in ("", "the")

    def para_of(self, offset: int) -> int:
        for paragraph in self.paragraphs:
            if paragraph.start <= offset <= paragraph.end:
                return paragraph.index
        return len(self.paragraphs)

    # -- frames -----------------------------------------------------------------------------

    def after(self, text: str, start: int) -> tuple[Speaker, str] | None:
        """A cue after the quotation: `," X said`, `," said X`, `," according to X`."""
        quoted = _QUOTED_AS.search(text)
        if quoted is not None and quoted.start() < 60:
            found = self.phrase(quoted.group(1), start + quoted.start(1), nearest_last=True)
            if found is not None:
                return found, "quoted X as saying"
        according = _ACCORDING.search(text)
        if according is not None and according.start() < 40:
            found = self.phrase(according.group(1), start + according.start(1), nearest_last=False)
            if found is not None:
                return found, "according to X"
        for match in _VERB.finditer(text):
            verb = match.group(1)
            if verb not in lexicon.SPEECH_VERBS:
                continue
            pre = text[: match.start()]
            if len(pre.split()) > 10:
                return None
            subject = _strip_adverbs(pre)
            if subject.strip(' \t,.:;”"’'):
                found = self.phrase(subject, start, nearest_last=True)
                return (found, "X said") if found else None
            rest = text[match.end() :]
            stop = _NP_STOP.search(rest)
            np = rest[: stop.start()] if stop else rest
            if not np.strip():
                return None
            found = self.phrase(np, start + match.end(), nearest_last=False)
            if found is not None and found.kind == UNNAMED and stop is not None:
                # "said a State Department spokesman, Jeff Rathke.": the name after the comma.
                named = self.appositive_name(rest, stop.start(), start + match.end())
                if named is not None:
                    return named, "said X"
            return (found, "said X") if found else None
        return None

    def appositive_name(self, rest: str, at: int, base: str | int) -> Speaker | None:
        """A person named right after a comma, closing the phrase: ", Jeff Rathke." ."""
        tail = rest[at:]
        match = re.match(r",\s+", tail)
        if match is None:
            return None
        lo = int(base) + at + match.end()
        for mention in self.cast.within(lo, lo + 60):
            if mention.start != lo or mention.entity is None:
                return None
            entity = self.cast.entities[mention.entity]
            after = rest[at + match.end() + (mention.end - mention.start) :][:1]
            if entity.kind in (PERSON, "candidate") and after in ("", ".", ",", ";"):
                return self.of_mention(mention)
            return None
        return None

    def before(self, text: str, start: int) -> tuple[Speaker, str] | None:
        """A cue before the quotation: `X said: "`, `According to X, "`, `X called it "…"`."""
        according = _ACCORDING.search(text)
        if according is not None:
            found = self.phrase(according.group(1), start + according.start(1), nearest_last=False)
            if found is not None:
                return found, "according to X"
        if text.rstrip().endswith(":"):
            # "…, but councillor Ben Ortiz disagreed: “…”": the last clause's subject.
            clause_at = max(
                [text.rfind(","), text.rfind(";")]
                + [m.end() for m in re.finditer(r"\b(?:but|and|while|whereas)\b", text)]
            )
            clause = text[clause_at + 1 :] if clause_at >= 0 else text
            offset = start + (clause_at + 1 if clause_at >= 0 else 0)
            if not any(w in lexicon.SPEECH_VERBS for w in _VERB.findall(clause)):
                introduced = self.sentence_subject(clause, offset, "introduced by a colon")
                if introduced is not None:
                    return introduced
        verbs = [
            m
            for m in _VERB.finditer(text)
            if m.group(1) in lexicon.SPEECH_VERBS or m.group(1) in _PARTICIPLES
        ]
        if not verbs:
            if text.rstrip().endswith(":"):
                return self.sentence_subject(text, start, "introduced by a colon")
            return None
        for verb in reversed(verbs):
            cue = self.verb_subject(text, start, verb)
            if cue is not None:
                return cue
            if verb.group(1) in _PARTICIPLES and _RELATIVE.search(text, 0, verb.start()):
                # The clause's speaker is not named plainly: not whoever an earlier "warning"
                # or "saying" would reach (the sentence's subject); review decides.
                return None
        return None

    def verb_subject(
        self, text: str, start: int, verb: re.Match[str]
    ) -> tuple[Speaker, str] | None:
        """Who a speech verb's subject is, read from the words before (or right after) it."""
        if verb.group(1) in _PARTICIPLES:
            relative = list(_RELATIVE.finditer(text, 0, verb.start()))
            if relative:
                # "…leaflets from the Harbour Party, which rallied support by saying “…”": the
                # one the clause is about speaks, not the sentence's subject; none found, none.
                found = self.antecedent(start, start + relative[-1].start())
                return (found, "X, which …, saying") if found else None
            return self.sentence_subject(text[: verb.start()], start, "X …, saying")
        if _passive(text[: verb.start()], verb.group(1)):
            # "a stranding that was described as “…”": the subject is what was described,
            # not who described it; with no speaker, the quotation goes to review.
            return None
        pre = _strip_adverbs(text[: verb.start()])
        # "Dar, who has been foreign minister since last year, claimed": skip the clause.
        for _ in range(2):
            trimmed = pre.rstrip()
            if trimmed.endswith(",") and "," in trimmed[:-1]:
                cut = trimmed[:-1].rfind(",")
                pre = trimmed[:cut]
            else:
                break
        segment_start = max(pre.rfind(","), pre.rfind(":"), pre.rfind("“"), pre.rfind('"')) + 1
        segment = pre[segment_start:]
        if segment.strip():
            found = self.phrase(segment, start + segment_start, nearest_last=True)
            if found is not None:
                return found, "X said"
        rest = text[verb.end() :]
        stop = _NP_STOP.search(rest)
        np = rest[: stop.start()] if stop else rest
        if np.strip() and len(np.split()) <= 8:
            found = self.phrase(np, start + verb.end(), nearest_last=False)
            if found is not None:
                return found, "said X"
        return None

    def antecedent(self, start: int, comma: int) -> Speaker | None:
        """The person or body named right before a relative clause's comma (", who …")."""
        named = [
            m
            for m in self.cast.within(start, comma)
            if m.entity is not None and m.kind in ("name", "title", "candidate")
        ]
        if not named:
            return None
        # "Netanyahu's Likud party, which": the name may be followed by what it is.
        gap = self.text_between(named[-1].end, comma).strip(" ’'s").casefold()
        if gap and gap not in _ORG_NOUNS:
            return None
        return self.of_mention(named[-1])

    def text_between(self, lo: int, hi: int) -> str:
        """The article's text between two offsets of one paragraph ('' across paragraphs)."""
        for paragraph in self.paragraphs:
            if paragraph.start <= lo <= hi <= paragraph.end:
                return paragraph.text[lo - paragraph.start : hi - paragraph.start]
        return ""

    def sentence_subject(self, text: str, start: int, cue: str) -> tuple[Speaker, str] | None:
        """The first person or body named in a sentence's opening words."""
        for mention in self.cast.within(start, start + len(text)):
            if mention.start - start > 60:
                break
            if mention.kind == "pronoun" and mention.text in ("he", "she"):
                found = self.pronoun(mention.text, mention.start)
                return (found, cue) if found else None
            if mention.entity is not None and mention.kind in ("name", "title", "candidate"):
                return self.of_mention(mention), cue
        return None

    def salient(self, paragraph: Paragraph, end: int | None = None) -> Speaker | None:
        """The person a paragraph (up to `end`) is about: the first its last sentence names."""
        stop = paragraph.end if end is None else end
        text = paragraph.text[: stop - paragraph.start].rstrip()
        last_sentence = max(text.rfind(". ", 0, len(text) - 2) + 2, 0)
        for lo in (paragraph.start + last_sentence, paragraph.start):
            for mention in self.cast.within(lo, stop):
                if mention.kind == "pronoun" and mention.text in ("he", "she"):
                    found = self.pronoun(mention.text, mention.start)
                    if found is not None:
                        return found
                    continue
                if mention.entity is None or mention.kind not in ("name", "title"):
                    continue
                entity = self.cast.entities[mention.entity]
                if entity.kind == PERSON:
                    return Speaker(PERSON, entity.name, entity.key)
        return None


def _adjacent_cue(after: str) -> bool:
    """Whether a speech verb follows the closing mark within a few words (`," Mr. X said`)."""
    words = re.findall(r"[\w’'.]+", after)[:4]
    return any(w.casefold().strip(".") in lexicon.SPEECH_VERBS for w in words)


def _passive(pre: str, verb: str) -> bool:
    """Whether a speech verb is passive ("was described as", "were also told")."""
    if not (verb.endswith("ed") or verb in ("told", "written", "said")):
        return False
    words = [w.casefold().strip(",") for w in pre.split()]
    while words and words[-1] in _ADVERBS and words[-1] not in _AUXILIARIES:
        words.pop()
    return bool(words) and words[-1] in _AUXILIARIES


def _strip_adverbs(text: str) -> str:
    words = text.rstrip().split(" ")
    while words and words[-1].casefold().strip(",") in _ADVERBS:
        words.pop()
    return " ".join(words)


def _kind(entity: Entity) -> str:
    return ORGANISATION if entity.kind == ORGANISATION else PERSON


def attribute(
    paragraphs: list[Paragraph], found: dict[int, list[Quotation]], cast: Cast
) -> list[Attribution]:
    """A speaker for every quotation, in article order."""
    resolver = Resolver(cast, paragraphs)
    result: list[Attribution] = []
    last_quote_para: int | None = None
    last_speaker: Speaker | None = None
    for paragraph in paragraphs:
        quotations = found.get(paragraph.index, [])
        if not quotations:
            if not paragraph.excluded and not paragraph.headline and _is_content(paragraph):
                last_quote_para = None
            continue
        own: list[tuple[Speaker, str, str | None] | None] = []
        for quotation in quotations:
            resolver.doubt = None
            resolver.first_person = bool(_FIRST_PERSON.search(quotation.text))
            span = quotation.span
            after_start = span.end + 1
            before_start = span.open - len(quotation.before)
            cue = None
            if quotation.partial and not _adjacent_cue(quotation.after):
                cue = resolver.before(quotation.before, before_start) or resolver.after(
                    quotation.after, after_start
                )
            else:
                cue = resolver.after(quotation.after, after_start) or resolver.before(
                    quotation.before, before_start
                )
            own.append((cue[0], cue[1], resolver.doubt) if cue else None)
        for k, quotation in enumerate(quotations):
            mine = own[k]
            if mine is not None:
                result.append(Attribution(quotation, mine[0], mine[1], mine[2]))
                continue
            # No cue of its own: the paragraph's other quotations speak for it…
            nearby = [own[j] for j in range(k - 1, -1, -1)] + [
                own[j] for j in range(k + 1, len(own))
            ]
            neighbour = next((n for n in nearby if n is not None), None)
            if neighbour is not None:
                result.append(
                    Attribution(quotation, neighbour[0], "same paragraph as a cue", neighbour[2])
                )
                continue
            # …else it continues the previous paragraph's quotation, or what it reports.
            if quotation.paragraph_start and last_quote_para is not None and last_speaker:
                result.append(
                    Attribution(
                        quotation,
                        last_speaker,
                        "continues the previous paragraph's quotation",
                        None,
                    )
                )
                continue
            if not quotation.paragraph_start:
                # "Ana Silva spoke for an hour. “The river is rising…”"
                salient = resolver.salient(paragraph, quotation.span.open)
                if salient is not None:
                    result.append(
                        Attribution(
                            quotation,
                            salient,
                            "follows a sentence about the speaker",
                            f"no speaker cue; taken as {salient.name}, whom the sentence before "
                            "is about",
                        )
                    )
                    continue
            previous = _previous_content(paragraphs, paragraph.index)
            salient = resolver.salient(previous) if previous is not None else None
            if quotation.paragraph_start and salient is not None:
                result.append(
                    Attribution(
                        quotation,
                        salient,
                        "follows a paragraph about the speaker",
                        f"no speaker cue; taken as {salient.name}, whom the previous paragraph "
                        "is about",
                    )
                )
                continue
            result.append(Attribution(quotation, _UNKNOWN, "none", "no speaker cue found"))
        last_quote_para = paragraph.index
        spoken = [a.speaker for a in result[-len(quotations) :] if a.speaker.kind != UNKNOWN]
        last_speaker = spoken[-1] if spoken else None
    return _run_ons(result)


def _run_ons(result: list[Attribution]) -> list[Attribution]:
    """A run-on quotation with no cue takes the speaker its continuation names, if it does."""
    fixed = list(result)
    for i in range(len(fixed) - 2, -1, -1):
        here, there = fixed[i], fixed[i + 1]
        span = here.quotation.span
        if span.closed or here.cue not in ("none", "follows a paragraph about the speaker"):
            continue
        if there.quotation.span.para != span.para + 1 or not there.quotation.paragraph_start:
            continue
        if there.speaker.kind == UNKNOWN or there.cue == "none":
            continue
        fixed[i] = Attribution(here.quotation, there.speaker, "continued by a quotation with a cue")
    return fixed


def _is_content(paragraph: Paragraph) -> bool:
    """Whether a line is story text (not a caption, a subheading or a list marker)."""
    text = paragraph.text.strip()
    if text.startswith(("- ", "• ")):
        return False
    return len(text.split()) > 6 or text.endswith((".", "?", "!"))


def _previous_content(paragraphs: list[Paragraph], index: int) -> Paragraph | None:
    for paragraph in reversed(paragraphs[:index]):
        if paragraph.headline:
            return None
        if paragraph.excluded or not _is_content(paragraph):
            continue
        return paragraph
    return None
