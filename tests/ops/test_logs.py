"""Logs: readable text by default, one JSON object per line on request, no secret ever."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ops.logs import REDACTED, RedactFilter, configure_logging
from tests.conftest import REPO, write_briefs

# Shaped like a real bot token (id . timestamp . hmac); not one.
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
log = logging.getLogger("briefbot.test")


def lines(output: io.StringIO) -> list[str]:
    return output.getvalue().splitlines()


def test_json_lines_carry_time_level_logger_event_and_context(log_output: io.StringIO) -> None:
    configure_logging("DEBUG", "json", stream=log_output)
    log.info(
        "answered %s",
        "/quotes",
        extra={"guild": 11, "channel": 22, "command": "quotes", "latency_ms": 12.5},
    )
    log.debug("plain")
    first, second = (json.loads(line) for line in lines(log_output))
    assert first["event"] == "answered /quotes"
    assert first["level"] == "INFO" and first["logger"] == "briefbot.test"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert (first["guild"], first["channel"], first["command"]) == (11, 22, "quotes")
    assert first["latency_ms"] == 12.5
    assert set(second) == {"time", "level", "logger", "event"}


def test_json_exception_stays_on_one_line(log_output: io.StringIO) -> None:
    configure_logging("INFO", "json", stream=log_output)
    empty: dict[str, int] = {}
    try:
        empty["missing"]
    except KeyError as exc:
        log.exception("lookup failed", extra={"error": exc})
    (line,) = lines(log_output)
    record = json.loads(line)
    assert record["event"] == "lookup failed"
    assert record["error"] == "KeyError: 'missing'"
    assert "Traceback" in record["exception"] and "KeyError: 'missing'" in record["exception"]


def test_text_is_the_readable_default(log_output: io.StringIO) -> None:
    configure_logging("INFO", stream=log_output)
    log.warning("brief error: %s", "x.yaml:2: title")
    log.debug("hidden at INFO")
    (line,) = lines(log_output)
    assert line.endswith(" WARNING briefbot.test: brief error: x.yaml:2: title")


def test_configuring_twice_does_not_double_lines(log_output: io.StringIO) -> None:
    configure_logging("INFO", "json", stream=io.StringIO())
    configure_logging("INFO", "text", stream=log_output)
    log.info("once")
    assert len(lines(log_output)) == 1


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_token_is_redacted_everywhere_at_every_level(log_output: io.StringIO, fmt: str) -> None:
    secret = "s3cret-but-not-token-shaped"
    configure_logging("DEBUG", fmt, secrets=[secret, None], stream=log_output)
    log.debug("token %s", TOKEN)
    log.info(f"inline {secret}")
    log.warning("header %s", {"Authorization": f"Bot {secret}"})
    log.error("context", extra={"error": f"401 for {TOKEN}", "command": secret})
    try:
        raise RuntimeError(f"login failed with {secret} / {TOKEN}")
    except RuntimeError:
        log.critical("crash", exc_info=True, stack_info=True)
    text = log_output.getvalue()
    assert TOKEN not in text and secret not in text
    # Redacted, not dropped: every record is still there.
    assert text.count(REDACTED) >= 7
    assert "login failed with" in text and "header" in text


def test_a_token_inside_a_longer_word_is_still_hidden(log_output: io.StringIO) -> None:
    configure_logging("DEBUG", "text", stream=log_output)
    log.debug("url=https://x/?t=%s&next=1", TOKEN)
    assert TOKEN not in log_output.getvalue()
    assert "&next=1" in log_output.getvalue()


def test_a_bad_format_string_is_redacted_not_lost() -> None:
    # Called directly: pytest's own log handler would raise on the bad format first.
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d for " + TOKEN, ("a",), None)
    assert RedactFilter([TOKEN]).filter(record)
    assert TOKEN not in record.getMessage() and "%d for" in record.getMessage()


def test_text_lines_show_context_after_the_message(log_output: io.StringIO) -> None:
    configure_logging("INFO", stream=log_output)
    log.info("answered", extra={"command": "quotes", "latency_ms": 3.5})
    assert lines(log_output)[0].endswith("briefbot.test: answered [command=quotes latency_ms=3.5]")


def briefbot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BRIEFBOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        check=False,
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_logs_json_lines_when_asked(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b", **{"broken.yaml": "id: broken\ntitle: [x]\n"})
    result = briefbot("ask", "/briefs", "--briefs", str(root), env={"BRIEFBOT_LOG_FORMAT": "json"})
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    warnings = [r for r in records if r["level"] == "WARNING"]
    assert any(
        r["event"].endswith("broken.yaml:2: title: Input should be a valid string")
        for r in warnings
    )
    assert {r["logger"] for r in warnings} == {"bot.cli"}


def test_cli_names_a_bad_log_format() -> None:
    result = briefbot("ask", "/briefs", env={"BRIEFBOT_LOG_FORMAT": "xml"})
    assert result.returncode == 2
    assert "BRIEFBOT_LOG_FORMAT must be text or json, got 'xml'" in result.stderr
