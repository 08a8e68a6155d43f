"""A draft brief from an analysis: the data, its YAML with `# review:` comments, and its files."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from bot.briefs.loader import VOCABULARY_FILE, load_vocabulary
from bot.briefs.models import Vocabulary
from bot.ingest.article import Article
from bot.ingest.attribute import ORGANISATION, PERSON, UNKNOWN, UNNAMED, Attribution, Speaker
from bot.ingest.engine import Analysis
from bot.ingest.layout import sentence_ends
from bot.ingest.topics import match_topics, topics_in

log = logging.getLogger(__name__)

DEFAULT_VOCABULARY = Path("briefs") / VOCABULARY_FILE
SHORT = 300
LONG = 4000
KEY_POINTS = 3


class DraftExists(Exception):
    """The draft's file is already there and --force was not given."""


@dataclass(frozen=True, slots=True)
class Written:
    """What one article's draft holds, for the one-line report."""

    brief: Path
    source: Path
    quotes: int
    speakers: int
    claims: int
    topics: int
    uncertain: int
    overwrote: bool


def slug(text: str) -> str:
    """A brief id from a headline: lowercase ASCII words joined by hyphens, at most 80 chars."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.casefold())
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > 80:
            break
        out = candidate
    return out or "article"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"


def _verbatim(text: str, limit: int) -> str:
    """A quote or figure kept verbatim (grounded): cut at a word, never given an ellipsis."""
    text = text.strip()
    if text.endswith(",") and not text.endswith(",,"):
        text = text[:-1].rstrip()  # the comma of '…,” she said' is the reporter's
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit].rstrip()


def _story_sentences(analysis: Analysis) -> list[str]:
    found: list[str] = []
    for paragraph in analysis.paragraphs:
        if paragraph.headline or paragraph.excluded or len(paragraph.text.split()) < 8:
            continue
        ends = [0, *sentence_ends(paragraph.text), len(paragraph.text)]
        for lo, hi in pairwise(ends):
            sentence = " ".join(paragraph.text[lo:hi].split())
            if len(sentence.split()) >= 6:
                found.append(sentence)
        if len(found) >= KEY_POINTS + 2:
            break
    return found


class _Names:
    """Canonical names and unique aliases for the people and organisations a draft lists."""

    def __init__(self, analysis: Analysis, needed: set[int]) -> None:
        cast = analysis.cast
        chosen = [
            e
            for e in sorted(cast.entities.values(), key=lambda e: e.first)
            if e.kind == PERSON or (e.kind == ORGANISATION and e.key in needed) or e.key in needed
        ]
        self.entities = chosen
        labels: dict[str, list[int]] = {}
        self.aliases: dict[int, list[str]] = {}
        self.names: dict[int, str] = {}
        used_names: set[str] = set()
        for entity in chosen:
            name = _clip(entity.name, 100)
            while name.casefold() in used_names:  # two entities folded to one name
                name = _clip(f"{name} ({len(used_names)})", 100)
            used_names.add(name.casefold())
            self.names[entity.key] = name
        for entity in chosen:
            options = list(entity.forms)
            if entity.kind == PERSON and len(entity.tokens) > 1:
                options.append(entity.surname)
                options += [f"{t} {entity.surname}" for t in entity.titles if len(t) < 40]
            wanted = [
                a
                for a in dict.fromkeys(_clip(o, SHORT) for o in options)
                if a.casefold() != self.names[entity.key].casefold()
            ]
            self.aliases[entity.key] = wanted
            for label in (self.names[entity.key], *wanted):
                labels.setdefault(label.casefold(), []).append(entity.key)
        # An alias two entities share (or another's name) is dropped from both: never ambiguous.
        clashes = {label for label, keys in labels.items() if len(set(keys)) > 1}
        for key, wanted in self.aliases.items():
            self.aliases[key] = [a for a in wanted if a.casefold() not in clashes]

    def ref(self, speaker: Speaker) -> str | dict[str, str] | None:
        """How a speaker is written in the draft; None if it cannot be (unknown)."""
        if speaker.kind == UNNAMED:
            return {"unnamed": _clip(speaker.name, SHORT)}
        if speaker.kind == UNKNOWN or speaker.entity is None:
            return None
        return self.names.get(speaker.entity)

    def listing(self, kind: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for entity in self.entities:
            if (entity.kind == ORGANISATION) != (kind == ORGANISATION):
                continue
            item: dict[str, Any] = {"name": self.names[entity.key]}
            if self.aliases[entity.key]:
                item["aliases"] = self.aliases[entity.key]
            if entity.role:
                item["role"] = _clip(entity.role, SHORT)
            out.append(item)
        return out


def _context(attribution: Attribution) -> str:
    """The reporter's words around the quotation: where and how it was said, as written."""
    quotation = attribution.quotation
    words = " ".join(f"{quotation.before} … {quotation.after}".split()).strip(" ,.")
    if len(words) < 4:
        return "setting not stated in the source"
    return _clip(f"Source: {words}", SHORT)


def _who(speaker: Speaker) -> str:
    return speaker.name if speaker.kind != UNKNOWN else "no one found"


def build(
    article: Article, analysis: Analysis, brief_id: str, vocabulary: Vocabulary
) -> tuple[dict[str, Any], list[str]]:
    """The draft brief's data, and the review notes that go in its header comment."""
    review: list[str] = []
    matched = match_topics(
        "\n".join(p.text for p in analysis.paragraphs if not p.excluded), vocabulary
    )
    topic_ids = list(matched.ids)
    if not topic_ids:
        fallback = vocabulary.topics[0].id
        topic_ids = [fallback]
        review.append(
            f"no vocabulary topic is named in the article; '{fallback}' is only a placeholder "
            "so the draft loads: pick the right topic (or add one to topics.yaml)"
        )
    needed = {
        a.speaker.entity
        for a in analysis.attributions
        if a.speaker.entity is not None and a.speaker.kind in (PERSON, ORGANISATION)
    } | {c.claimant.entity for c in analysis.claims if c.claimant.entity is not None}
    names = _Names(analysis, {k for k in needed if k is not None})
    quotes: list[dict[str, Any]] = []
    for attribution in analysis.attributions:
        speaker = names.ref(attribution.speaker)
        text = _verbatim(attribution.quotation.text, LONG)
        if speaker is None or not text:
            review.append(
                f"quote {_clip(attribution.quotation.text, 60)!r}: no speaker found, left out; "
                "add it by hand if it is a quotation"
            )
            continue
        if attribution.uncertain:
            review.append(
                f"quotes.{len(quotes)} ({_who(attribution.speaker)}): {attribution.uncertain}"
            )
        quotes.append(
            {
                "speaker": speaker,
                "text": text,
                "context": _context(attribution),
                "kind": "partial" if attribution.quotation.partial else "full",
                "topics": list(topics_in(attribution.quotation.text, matched, vocabulary)),
            }
        )
    claims: list[dict[str, Any]] = []
    for claim in analysis.claims:
        claimant = names.ref(claim.claimant)
        if claimant is None:
            continue
        claims.append(
            {
                "claimant": claimant,
                "text": _clip(claim.text, LONG),
                "figures": [
                    {
                        "value": _verbatim(value, SHORT),
                        "description": _clip(
                            f"figure as {claim.claimant.name} states it (describe what it "
                            "measures)",
                            SHORT,
                        ),
                    }
                    for value in claim.figures
                ],
                "topics": list(topics_in(claim.text, matched, vocabulary)),
            }
        )
    sentences = _story_sentences(analysis)
    headline = _clip(article.headline or "Untitled article", SHORT)
    summary = _clip(" ".join(sentences[:2]) or headline, LONG)
    key_points = [
        {"text": _clip(s, LONG), "topics": list(topics_in(s, matched, vocabulary))}
        for s in sentences[:KEY_POINTS]
    ] or [{"text": headline, "topics": topic_ids[:1]}]
    date: dict[str, Any] = (
        {"value": article.date.isoformat(), "status": "stated"}
        if article.date is not None
        else {"status": "unknown"}
    )
    source: dict[str, Any] = {
        "outlet": article.outlet,
        "url": article.url,
        "headline": _clip(article.headline, SHORT) if article.headline else None,
        "text": f"sources/{brief_id}.txt",
    }
    if analysis.excluded_rules:
        source["exclude_lines"] = analysis.excluded_rules
    data: dict[str, Any] = {
        "id": brief_id,
        "title": headline,
        "date": date,
        "source": source,
        "summary": summary,
        "key_points": key_points,
        "people": names.listing(PERSON),
    }
    organisations = names.listing(ORGANISATION)
    if organisations:
        data["organisations"] = organisations
    data["quotes"] = quotes
    data["claims"] = claims
    data["topics"] = topic_ids
    if matched.suggestions:
        review.append(
            "topics the vocabulary may be missing (suggestions, not in the data): "
            + ", ".join(matched.suggestions)
        )
    return data, review


def render(article: Article, data: dict[str, Any], review: list[str]) -> str:
    """The draft's YAML: a header saying what is draft text, the review notes, then the data."""
    today = dt.datetime.now(dt.UTC).date().isoformat()
    header = [
        f"# DRAFT brief written by `briefbot ingest` from {article.name} on {today}.",
        "# Not live until someone reviews it and copies it into the briefs folder.",
        "# Draft text: title, summary and key points are taken from the headline and lead",
        "# sentences (extractive); rewrite them neutrally. Quotes and figures are verbatim from",
        f"# sources/{data['id']}.txt; each quote's context quotes the reporter's words around it.",
        "# Outlet, URL and date come from the page or text only; null/unknown when not stated.",
    ]
    if review:
        header.append("#")
        header += [f"# review: {line}" for line in review]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(header) + "\n" + body


def _write_atomic(path: Path, text: str) -> None:
    """Write through a dot-file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True)
class Rendered:
    """A draft ready to write: its id, YAML and source text, and what it holds."""

    brief_id: str
    yaml: str
    source: str
    quotes: int
    speakers: int
    claims: int
    topics: int
    uncertain: int


def render_draft(
    article: Article, analysis: Analysis, brief_id: str, vocabulary: Vocabulary
) -> Rendered:
    """The draft's YAML and source text for this id (no file is touched)."""
    data, review = build(article, analysis, brief_id, vocabulary)
    return Rendered(
        brief_id=brief_id,
        yaml=render(article, data, review),
        source=article.text + "\n",
        quotes=len(data["quotes"]),
        speakers=len({str(q["speaker"]) for q in data["quotes"]}),
        claims=len(data["claims"]),
        topics=len(data["topics"]),
        uncertain=sum(1 for line in review if line.startswith(("quotes.", "quote "))),
    )


def save_draft(rendered: Rendered, out: Path, *, force: bool = False) -> Written:
    """Write `out/<id>.yaml` and `out/sources/<id>.txt`; never overwrite unless forced."""
    brief_path = out / f"{rendered.brief_id}.yaml"
    source_path = out / "sources" / f"{rendered.brief_id}.txt"
    existing = [p for p in (brief_path, source_path) if p.exists()]
    if existing and not force:
        raise DraftExists(
            f"{existing[0]} already exists; not overwritten (use --force to replace it)"
        )
    # The source first, then the brief: a brief never points at a missing source.
    _write_atomic(source_path, rendered.source)
    _write_atomic(brief_path, rendered.yaml)
    return Written(
        brief=brief_path,
        source=source_path,
        quotes=rendered.quotes,
        speakers=rendered.speakers,
        claims=rendered.claims,
        topics=rendered.topics,
        uncertain=rendered.uncertain,
        overwrote=bool(existing),
    )


def write_draft(
    article: Article,
    analysis: Analysis,
    out: Path,
    brief_id: str,
    *,
    force: bool = False,
    vocabulary: Vocabulary | None = None,
) -> Written:
    """Render and save one draft (the vocabulary beside `out`, else briefs/topics.yaml)."""
    if vocabulary is None:
        vocabulary = load_vocabulary(_vocabulary_path(out))
    return save_draft(render_draft(article, analysis, brief_id, vocabulary), out, force=force)


def _vocabulary_path(out: Path) -> Path:
    """The vocabulary beside the drafts if there is one, else the project's briefs/topics.yaml."""
    beside = out / VOCABULARY_FILE
    return beside if beside.is_file() else DEFAULT_VOCABULARY


def unique_id(base: str, taken: Collection[str]) -> str:
    """The id, or id-2, id-3… when a brief or another article already took it."""
    if base not in taken:
        return base
    n = 2
    while f"{base[:76]}-{n}" in taken:
        n += 1
    return f"{base[:76]}-{n}"
