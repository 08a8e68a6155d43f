"""Access to ../shared reference data (Discord's spec and limits); absent means skip, never fail."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
DISCORD_API = Path(os.environ.get("BRIEFBOT_DISCORD_API", REPO.parent / "shared" / "discord-api"))


@cache
def _constraints() -> dict[str, dict[str, Any]] | None:
    path = DISCORD_API / "constraints.json"
    if not path.is_file():
        return None
    return {row["topic"]: row for row in json.loads(path.read_text(encoding="utf-8"))}


def discord_limit(topic: str) -> int:
    """A limit from constraints.json (the docs' value where docs and spec differ)."""
    rows = _constraints()
    if rows is None:
        pytest.skip(f"{DISCORD_API / 'constraints.json'} is absent")
    row = rows[topic]
    value = row["docs_value"] if isinstance(row["docs_value"], int) else row["spec_value"]
    assert isinstance(value, int), row
    return value


def discord_fact_number(topic: str) -> int:
    """The leading number of a limit the docs state in words ("50 requests per second …")."""
    rows = _constraints()
    if rows is None:
        pytest.skip(f"{DISCORD_API / 'constraints.json'} is absent")
    text = str(rows[topic]["docs_value"])
    digits = text.split(maxsplit=1)[0].replace(",", "")
    assert digits.isdigit(), text
    return int(digits)
