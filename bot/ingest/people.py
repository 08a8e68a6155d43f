"""Who the story names: people and organisations, their aliases, roles and genders, and mentions."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field

from bot.ingest import lexicon
from bot.ingest.layout import Paragraph

_TOKEN = r"(?:(?:[A-Z]\.){2,}|[A-Z][\w'’\-]*[\w]\.?|[A-Z]\.?)"
_PARTICLE = r"(?:" + "|".join(sorted(lexicon.NAME_PARTICLES)) + r")"
_CONNECT = r"(?:of|for|on|and|the|&)"
_SEQUENCE = re.compile(
    rf"(?<![\w’'])({_TOKEN}(?:[ \t]+(?:(?:{_PARTICLE}|{_CONNECT})[ \t]+){{0,2}}{_TOKEN})*)"
)
_ABBREVIATED = frozenset("mr mrs ms dr st jr sr gen sen rep gov lt col capt sgt prof rev".split())
_POSSESSIVE = re.compile(r"['’]s?$")
_PRONOUN = re.compile(r"\b(he|she|they|it|his|her|him)\b", re.IGNORECASE)
# "the president", "the Secretary", "the company", "the ministry", "the report".
_DEFINITE = re.compile(r"\b[Tt]he\s+((?:[a-z\-]+\s+){0,2}([A-Za-z\-]+))\b")
_MASK = re.compile(r"“[^”]*”?|\"[^\"]*\"?")
# Speech verbs that end a role phrase read backwards ("said US state department spokesperson").
_VERB_STOP = frozenset(w for w in lexicon.SPEECH_VERBS if w.endswith("ed")) | frozenset(
    {"said", "says", "told", "tells", "wrote", "writes", "adds", "asks"}
)
_ROLE_STOP = frozenset(
    """
    the a an said says told by with between from to for at in on and as was is were are
    who which that this these those when where while after before met meet meeting under
    according including like also then but or about into over than
    """.split()
)


@dataclass
class Entity:
    """A person or organisation the story names."""

    key: int
    name: str  # canonical: the fullest form the article gives, without titles
    kind: str  # "person" or "organisation"
    first: int  # offset of the first mention
    titles: list[str] = field(default_factory=list)  # "Secretary of State", "Mr"
    role: str | None = None
    gender: str | None = None
    forms: list[str] = field(default_factory=list)  # how the article writes it
    evidence: int = 0  # how sure we are it is a person (honorific, role, given name...)

    @property
    def tokens(self) -> list[str]:
        """The words of the name."""
        return self.name.split()

    @property
    def surname(self) -> str:
        """The name's last word."""
        return self.tokens[-1]


@dataclass(frozen=True, slots=True)
class Mention:
    """A place where the text refers to someone: by name, by title, or by pronoun."""

    start: int
    end: int
    para: int
    kind: str  # "name", "title", "pronoun"
    text: str
    entity: int | None  # resolved entity key (names and titles), None for pronouns
    gender: str | None = None  # pronouns: m, f, p (plural), n (it)


@dataclass
class Cast:
    """Every entity and mention of an article, in text order."""

    entities: dict[int, Entity]
    mentions: list[Mention]
    starts: list[int]

    def before(self, offset: int) -> list[Mention]:
        """Mentions that start before an offset, nearest first."""
        i = bisect.bisect_left(self.starts, offset)
        return self.mentions[:i][::-1]

    def within(self, start: int, end: int) -> list[Mention]:
        """Mentions inside a stretch of text, in order."""
        i = bisect.bisect_left(self.starts, start)
        j = bisect.bisect_left(self.starts, end)
        return [m for m in self.mentions[i:j] if m.end <= end]

    def people(self) -> list[Entity]:
        """The people, in order of first mention."""
        return sorted(
            (e for e in self.entities.values() if e.kind == "person"), key=lambda e: e.first
        )

    def find(self, name: str) -> Entity | None:
        """The entity a name (full, surname, or title + name) refers to, if any."""
        return _Index(self.entities).lookup(name.split())


def _clean_token(token: str) -> str:
    return token.rstrip(".").casefold()


def _sentence_stop(token: str) -> bool:
    """Whether a token's full stop ends a sentence (not "Mr.", "F.", "D.A.")."""
    if not token.endswith("."):
        return False
    bare = token.rstrip(".")
    return len(bare) > 1 and "." not in bare and bare.casefold() not in _ABBREVIATED


def _split_sequence(tokens: list[str]) -> list[list[str]]:
    """Split "Rubio and Dar" in two; keep "Department of Conservation" and titles whole."""
    lowered = [_clean_token(t) for t in tokens]
    if (
        any(t in lexicon.ORG_WORDS for t in lowered)
        and not _POSSESSIVE.search(tokens[0])
        and not any(_sentence_stop(t) for t in tokens[:-1])
    ):
        return [tokens]
    parts: list[list[str]] = [[]]
    for token, low in zip(tokens, lowered, strict=True):
        if parts[-1] and _sentence_stop(parts[-1][-1]):
            parts.append([])
        if low in {"and", "&", "for", "on", "the"} or (
            low == "of" and not (parts[-1] and _clean_token(parts[-1][-1]) in lexicon.TITLE_WORDS)
        ):
            parts.append([])
            continue
        parts[-1].append(token)
        if _POSSESSIVE.search(token) and len(token) > 2:  # "Pakistan’s Army Chief …"
            parts.append([])
    return [p for p in parts if p]


class _Index:
    """Entities by each word of their names, so a lookup reads only the few that share one."""

    def __init__(self, entities: dict[int, Entity]) -> None:
        self.entities = entities
        self.by_token: dict[str, list[int]] = {}
        self.by_name: dict[str, int] = {}
        for entity in entities.values():
            self.add(entity)

    def add(self, entity: Entity) -> None:
        """Index an entity (again, after a rename)."""
        self.entities[entity.key] = entity
        for token in {t.casefold() for t in entity.tokens}:
            keys = self.by_token.setdefault(token, [])
            if entity.key not in keys:
                keys.append(entity.key)
                keys.sort()  # creation order is first-mention order
        self.by_name.setdefault(entity.name.casefold(), entity.key)

    def sharing(self, token: str) -> list[Entity]:
        """Entities with this word in their name, first introduced first."""
        return [self.entities[k] for k in self.by_token.get(token.casefold(), ())]

    def lookup(self, core: list[str]) -> Entity | None:
        """An entity whose name contains this core (the first introduced wins a tie)."""
        if not core:
            return None
        folded = [t.casefold() for t in core]
        n = len(folded)
        best: Entity | None = None
        for entity in self.sharing(core[0]):
            names = [t.casefold() for t in entity.tokens]
            if folded == names:
                return entity
            contained = any(names[i : i + n] == folded for i in range(len(names) - n + 1))
            if contained and best is None and (n > 1 or entity.kind == "person"):
                best = entity
        return best

    def same(self, core: list[str]) -> Entity | None:
        """The entity with exactly this name."""
        key = self.by_name.get(" ".join(core).casefold())
        if key is None:
            return None
        entity = self.entities[key]
        return entity if entity.name.casefold() == " ".join(core).casefold() else None

    def absorbed(self, core: list[str]) -> Entity | None:
        """An entity this longer name completes ("Te Kaurinui Robert" → "… Robert Parata")."""
        n = len(core)
        for entity in self.sharing(core[0]):
            names = entity.tokens
            k = len(names)
            if 2 <= k < n and entity.kind != "organisation" and core[:k] == names:
                entity.name = " ".join(core)
                self.add(entity)
                return entity
        return None


_SPEECH_ALT = "|".join(sorted(lexicon.SPEECH_VERBS, key=len, reverse=True))
_SPEAKER_BEFORE = re.compile(
    rf"([A-Z][\w’'\-]+)\s+(?:also\s+|then\s+|later\s+)?(?:{_SPEECH_ALT})\b"
)
_SPEAKER_AFTER = re.compile(
    rf"\b(?:{_SPEECH_ALT})\s+(?:Mr\.?\s+|Ms\.?\s+|Dr\.?\s+)?([A-Z][\w’'\-]+)"
)


def _speaking_words(story: list[Paragraph]) -> set[str]:
    """Capitalised words right before or after a speech verb ("Forte said", "says Parata")."""
    found: set[str] = set()
    for paragraph in story:
        text = masked(paragraph.text)
        for match in _SPEAKER_BEFORE.finditer(text):
            # "Whole Foods said" is no sign that "Foods" is a surname; "Mr. McHugh said" is.
            head = text[max(0, match.start(1) - 40) : match.start(1)].split()
            word = head[-1] if head else ""
            if word[:1].isupper() and _clean_token(word) not in lexicon.HONORIFICS:
                continue
            found.add(match.group(1))
        found.update(m.group(1) for m in _SPEAKER_AFTER.finditer(text))
    return found - {w.capitalize() for w in lexicon.NOT_NAMES}


def _gender_of_name(first: str) -> str | None:
    low = first.casefold()
    male, female = low in lexicon.MALE_NAMES, low in lexicon.FEMALE_NAMES
    if male != female:
        return "m" if male else "f"
    return None


def _role_before(text: str, start: int) -> str | None:
    """A lower-case role phrase before a name: "skipper", "US state department spokesperson"."""
    head = text[:start].rstrip()
    words = re.findall(r"[\w’'\-./]+", head[-120:])
    picked: list[str] = []
    for word in reversed(words):
        low = word.casefold().rstrip(".")
        if low in _ROLE_STOP or low in _VERB_STOP or not re.match(r"[\w]", word):
            break
        picked.append(word)
        if len(picked) == 6:
            break
    picked.reverse()
    nouns = [i for i, w in enumerate(picked) if w.casefold().rstrip(".") in lexicon.ROLE_NOUNS]
    if not nouns:
        return None
    last = nouns[-1]
    # "secretary of state Marco Rubio": a role noun, then "of" and what it heads.
    if last != len(picked) - 1 and not (
        picked[last + 1].casefold() == "of" and len(picked) - last <= 4
    ):
        return None
    # A role is written in lower case, save proper nouns inside it ("US", "Pakistan’s").
    if head.endswith(("”", '"', ",", ".")):
        return None
    return " ".join(picked)


def _role_after(text: str, end: int) -> str | None:
    """An apposition after a name: ", a State Department spokesman," → its words."""
    match = re.match(r",\s+((?:the|a|an)\s+)?([^,;.()]{2,120})", text[end:])
    if match is None:
        return None
    phrase = match.group(2).strip()
    words = phrase.split()
    if not words or len(words) > 16 or words[0].casefold() in {"who", "which", "said", "says"}:
        return None
    if any(w.casefold().strip("’'") in lexicon.ROLE_NOUNS for w in words[:6]):
        return phrase
    return None


def masked(text: str) -> str:
    """The text with quoted words blanked out (same length), so names in quotes do not count."""
    return _MASK.sub(lambda m: m.group()[0] + " " * (len(m.group()) - 1), text)


@dataclass
class _Raw:
    start: int
    end: int
    para: int
    titles: list[str]
    core: list[str]
    text: str
    role: str | None
    org: bool


def _raw_sequences(paragraph: Paragraph) -> list[_Raw]:
    text = masked(paragraph.text)
    found: list[_Raw] = []
    for match in _SEQUENCE.finditer(text):
        tokens = match.group(1).split()
        offset = match.start(1)
        cursor = 0
        for piece in _split_sequence(tokens):
            part = list(piece)
            # Locate the part in the paragraph, after the previous one.
            first = text.find(part[0], offset + cursor)
            cursor = first - offset + 1
            last_token = part[-1]
            # A sentence's full stop is not part of a name ("… Tammy Bruce."), an initial's is.
            if (
                last_token.endswith(".")
                and len(last_token) > 2
                and _clean_token(last_token) not in _ABBREVIATED
            ):
                last_token = last_token[:-1]
                part = [*part[:-1], last_token]
            possessive = bool(_POSSESSIVE.search(last_token)) and len(last_token) > 2
            if possessive:
                part = [*part[:-1], _POSSESSIVE.sub("", last_token)]
            while part and _clean_token(part[0]) in lexicon.NOT_NAMES - set(lexicon.HONORIFICS):
                first = text.find(part[1], first + 1) if len(part) > 1 else first
                part = part[1:]
            if not part:
                continue
            lowered = [_clean_token(t) for t in part]
            org_at = [i for i, t in enumerate(lowered) if t in lexicon.ORG_WORDS]
            title_at = [
                i
                for i, t in enumerate(lowered)
                if t in lexicon.TITLE_WORDS and t not in ("of", "the")
            ]
            titles: list[str] = []
            org = False
            if org_at and (
                not title_at or title_at[-1] < org_at[-1] or title_at[-1] == len(part) - 1
            ):
                org = True
            elif org_at:  # "Army Chief Field Marshal Asim Munir": a title, then the name
                titles, part = part[: title_at[-1] + 1], part[title_at[-1] + 1 :]
            else:
                while part and _clean_token(part[0]) in lexicon.TITLE_WORDS:
                    titles.append(part.pop(0))
                # "Secretary of State Marco Rubio": 'of State' belongs to the title.
                while titles and part and _clean_token(titles[-1]) == "of":
                    titles.append(part.pop(0))
            if not part and not titles:
                continue
            end_text = " ".join([*titles, *part])
            end = first + len(end_text)
            lowered = [_clean_token(t) for t in part]
            if (
                not org
                and len(part) == 1
                and part[0].isupper()
                and len(part[0].rstrip(".")) > 1
                and not titles
            ):
                org = True
            if part and all(t in lexicon.NOT_NAMES for t in lowered):
                continue
            found.append(
                _Raw(
                    start=paragraph.start + first,
                    end=paragraph.start + end,
                    para=paragraph.index,
                    titles=titles,
                    core=part,
                    text=end_text,
                    role=None if org else _role_before(text, first) or _role_after(text, end),
                    org=org,
                )
            )
    return found


def cast(paragraphs: list[Paragraph]) -> Cast:
    """Find the people and organisations the story names, and every mention of them."""
    story = [p for p in paragraphs if not p.excluded and not p.headline]
    raws = [raw for p in story for raw in _raw_sequences(p)]
    entities: dict[int, Entity] = {}
    speaking = _speaking_words(story)

    index = _Index(entities)

    def new(raw: _Raw, kind: str) -> Entity:
        entity = Entity(len(entities), " ".join(raw.core), kind, raw.start)
        index.add(entity)
        return entity

    # Pass 1: multi-word names (and titled single names) make entities.
    for raw in raws:
        if raw.org:
            if index.same(raw.core) is None:
                new(raw, "organisation")
            continue
        if len(raw.core) < 2 and not (raw.core and raw.titles):
            continue
        gender = _gender_of_name(raw.core[0]) if len(raw.core) >= 2 else None
        honorific = next(
            (
                lexicon.HONORIFICS[_clean_token(t)]
                for t in raw.titles
                if _clean_token(t) in lexicon.HONORIFICS
            ),
            None,
        )
        evidence = (
            (2 if raw.titles else 0)
            + (2 if raw.role else 0)
            + (1 if gender else 0)
            + (2 if raw.core[-1] in speaking or raw.text in speaking else 0)
        )
        existing = index.lookup(raw.core) or index.absorbed(raw.core)
        if existing is not None and (len(raw.core) == 1 or existing.kind == "person"):
            entity = existing
        elif len(raw.core) == 1:
            entity = new(raw, "person")
        else:
            entity = new(raw, "person")
        entity.evidence += evidence
        if raw.titles:
            title = " ".join(raw.titles)
            if title not in entity.titles:
                entity.titles.append(title)
        if honorific and entity.gender is None:
            entity.gender = honorific
        if entity.gender is None and gender:
            entity.gender = gender
        if entity.role is None and raw.role:
            entity.role = raw.role
    # Entities with no sign of being a person are not people (places, products, events).
    for entity in list(entities.values()):
        if entity.kind == "person" and entity.evidence == 0:
            entity.kind = "candidate"
    mentions: list[Mention] = []
    for raw in raws:
        if not raw.core:
            titled = _by_title(entities, " ".join(raw.titles), raw.start)
            if titled is not None:
                mentions.append(
                    Mention(raw.start, raw.end, raw.para, "title", raw.text, titled.key)
                )
            continue
        found = index.same(raw.core) or index.lookup(raw.core)
        if found is None:
            continue
        entity = found
        form = raw.text
        if form not in entity.forms:
            entity.forms.append(form)
        if entity.role is None and raw.role:
            entity.role = raw.role
        title = " ".join(raw.titles)
        if title and title not in entity.titles:
            entity.titles.append(title)
        kind = "name" if entity.kind != "candidate" else "candidate"
        mentions.append(Mention(raw.start, raw.end, raw.para, kind, raw.text, entity.key))
    mentions += _pronouns_and_titles(story, entities)
    mentions.sort(key=lambda m: m.start)
    result = Cast(entities, mentions, [m.start for m in mentions])
    _vote_genders(result)
    return result


def _by_title(entities: dict[int, Entity], title: str, before: int) -> Entity | None:
    """The person a bare title names ("the Secretary", "the president"), most recent first."""
    word = title.rsplit(maxsplit=1)[-1].casefold().rstrip(".") if title else ""
    if not word or word in ("of", "the"):
        return None
    matches = [
        e
        for e in entities.values()
        if e.kind == "person"
        and e.first < before
        and (
            any(word in t.casefold().split() for t in e.titles)
            or (e.role is not None and word in e.role.casefold().replace("-", " ").split())
        )
    ]
    return max(matches, key=lambda e: e.first) if matches else None


def by_title(cast: Cast, title: str, before: int) -> Entity | None:
    """The person a bare title names ("the Secretary", "the president"), if any."""
    return _by_title(cast.entities, title, before)


def _pronouns_and_titles(story: list[Paragraph], entities: dict[int, Entity]) -> list[Mention]:
    found: list[Mention] = []
    for paragraph in story:
        text = masked(paragraph.text)
        for match in _PRONOUN.finditer(text):
            word = match.group(1).casefold()
            gender = lexicon.PRONOUNS.get(word) or lexicon.POSSESSIVE_PRONOUNS.get(word)
            found.append(
                Mention(
                    paragraph.start + match.start(1),
                    paragraph.start + match.end(1),
                    paragraph.index,
                    "pronoun",
                    word,
                    None,
                    gender,
                )
            )
        for match in _DEFINITE.finditer(text):
            head = match.group(2).casefold()
            if head not in lexicon.ROLE_NOUNS:
                continue
            start = paragraph.start + match.start()
            entity = _by_title(entities, head, start)
            if entity is not None:
                found.append(
                    Mention(
                        start,
                        paragraph.start + match.end(),
                        paragraph.index,
                        "title",
                        match.group(),
                        entity.key,
                    )
                )
    return found


def _vote_genders(cast: Cast) -> None:
    """Genders from pronouns: 'he'/'she' after a person with no other person between."""
    votes: dict[int, Counter[str]] = {}
    last: Mention | None = None
    for mention in cast.mentions:
        if mention.kind == "pronoun":
            if (
                last is not None
                and mention.gender in ("m", "f")
                and mention.para - last.para <= 1
                and last.entity is not None
            ):
                votes.setdefault(last.entity, Counter())[mention.gender] += 1
            continue
        if mention.entity is not None and cast.entities[mention.entity].kind == "person":
            last = mention
    for key, counter in votes.items():
        entity = cast.entities[key]
        if entity.gender is not None:
            continue
        (top, count), *rest = [*counter.most_common(), ("", 0)]
        if count > (rest[0][1] if rest else 0):
            entity.gender = top
