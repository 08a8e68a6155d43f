"""Article → draft brief, through the ingest engine; its review notes become stored notes.

The drafter is a seam (`Drafter`): the review service is handed one, and tests may hand it
another. `ingest_drafter` is the engine of `briefbot ingest`, so a draft from Discord is the
same draft the command line writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from bot.briefs.models import Vocabulary
from bot.ingest.article import Article
from bot.ingest.draft import build, slug
from bot.ingest.engine import analyse
from bot.store.records import Uncertain

# Not about one quote: shown with the draft as a whole.
GENERAL = -1
_QUOTE_NOTE = re.compile(r"^quotes\.(\d+) \((.*?)\): (.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class DraftText:
    """A drafted brief: its id, its data, and what the drafter was unsure of."""

    brief_id: str
    data: dict[str, Any]
    notes: tuple[Uncertain, ...] = ()

    @property
    def yaml(self) -> str:
        """The brief as YAML."""
        return dump(self.data)


# (article, vocabulary, the id to use or None to make one from the headline) → draft.
Drafter = Callable[[Article, Vocabulary, str | None], DraftText]


def dump(data: dict[str, Any]) -> str:
    """Brief data as YAML the loader reads back the same."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def ingest_drafter(article: Article, vocabulary: Vocabulary, brief_id: str | None) -> DraftText:
    """The ingest engine's draft; its review notes kept per quote where they name one."""
    brief_id = brief_id or slug(article.headline or "draft") or "draft"
    data, review = build(article, analyse(article.text), brief_id, vocabulary)
    notes = []
    for line in review:
        match = _QUOTE_NOTE.match(line)
        if match is not None:
            notes.append(Uncertain(int(match.group(1)), match.group(3)))
        else:
            notes.append(Uncertain(GENERAL, line))
    return DraftText(brief_id, data, tuple(notes))
