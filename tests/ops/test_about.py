"""/about's reply: what it says online, offline, before any pass, and after one."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from pathlib import Path

from bot.adapters.text import render
from bot.ops.about import AboutFacts, LastPass, about_reply, version
from tests.conftest import REPO

WHEN = dt.datetime(2026, 3, 5, 8, 30, tzinfo=dt.UTC)


def text(facts: AboutFacts) -> str:
    return render(about_reply(facts))


def test_online_reply_names_every_fact() -> None:
    out = text(
        AboutFacts(
            version="1.2.3",
            uptime=dt.timedelta(days=1, hours=2, minutes=3),
            briefs=40,
            broken=2,
            database="SQLite (data/briefbot.sqlite3)",
            gateway_latency=0.0421,
            shards=1,
            active=5,
            paused=1,
            next_due=WHEN,
            last_pass=LastPass(WHEN, sent=4, skipped=1, failed=0, paused=1, rate_limited=3),
        )
    )
    for line in (
        "Version: 1.2.3",
        "Uptime: 1d 2h 03m",
        "Gateway latency: 42 ms",
        "Shards: 1",
        "Loaded: 40",
        "Broken files: 2 (/reload lists them)",
        "Subscriptions: 5 active, 1 paused",
        "Next digest due: Thu 05 Mar 2026, 08:30 UTC",
        "Last digest pass: Thu 05 Mar 2026, 08:30 UTC: 4 sent, 1 skipped, 0 failed, 1 paused, "
        "3 rate-limited (429)",
        "SQLite (data/briefbot.sqlite3)",
    ):
        assert line in out, (line, out)
    assert about_reply(AboutFacts("1", dt.timedelta(), 0, 0, None)).private


def test_before_the_first_heartbeat_and_pass_it_says_so() -> None:
    out = text(
        AboutFacts(
            "1",
            dt.timedelta(seconds=5),
            1,
            0,
            "SQLite (x)",
            gateway_latency=math.nan,
            active=0,
            paused=0,
        )
    )
    assert "Gateway latency: not measured yet" in out
    assert "Uptime: 0m 05s" in out
    assert "Next digest due: none scheduled" in out
    assert "Last digest pass: none since start" in out
    assert "Broken files: none" in out


def test_briefbot_ask_about_answers_offline(briefs_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "/about"],
        cwd=briefs_dir.parent,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "BRIEFBOT_BRIEFS_DIR": str(briefs_dir),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"Version: {version()}" in result.stdout
    assert "Loaded: 1" in result.stdout
    assert "Gateway: offline (console)" in result.stdout
    assert "Gateway latency" not in result.stdout
