"""Log set-up: readable text or one JSON object per line, and a filter that redacts secrets."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Fields a caller may pass with `extra=`; JSON lines carry them when given.
CONTEXT_FIELDS = ("guild", "channel", "command", "outcome", "latency_ms", "error")
REDACTED = "[redacted]"

# A Discord bot token: base64 user id, a timestamp part and an HMAC, joined by dots. Broad on
# purpose: hiding a string that merely looks like a token costs nothing, leaking one costs a
# reset.
DISCORD_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{20,}")
# An Authorization header value, in case a library ever logs one.
_BOT_AUTH = re.compile(r"\bBot [A-Za-z0-9._-]{10,}")

# The handler configure_logging installed, so a second call replaces it instead of doubling lines.
_installed: logging.Handler | None = None


class RedactFilter(logging.Filter):
    """Removes the given secrets and anything shaped like a Discord token from a record."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is removed whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` without any secret or token-shaped string."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = DISCORD_TOKEN.sub(REDACTED, text)
        return _BOT_AUTH.sub("Bot " + REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place (message, exception, stack, context); never drop it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string still gets logged, redacted
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = self.redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for name in CONTEXT_FIELDS:
            value = record.__dict__.get(name)
            if isinstance(value, str):
                setattr(record, name, self.redact(value))
            elif isinstance(value, BaseException):
                setattr(record, name, self.redact(f"{type(value).__name__}: {value}"))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, event and any context."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON."""
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value if isinstance(value, int | float | bool) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The readable default; context given with `extra=` follows the message as key=value."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The line before any traceback."""
        line = super().formatMessage(record)
        context = [
            f"{name}={record.__dict__[name]}"
            for name in CONTEXT_FIELDS
            if record.__dict__.get(name) is not None
        ]
        return f"{line} [{' '.join(context)}]" if context else line


def formatter(fmt: str) -> logging.Formatter:
    """The formatter for `text` or `json`."""
    if fmt == "json":
        return JsonFormatter()
    if fmt == "text":
        return TextFormatter()
    raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def configure_logging(
    level: str | int,
    fmt: str = "text",
    *,
    secrets: Iterable[str | None] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record to `stream` (default stderr) in `fmt`, with secrets redacted."""
    global _installed  # noqa: PLW0603 - one process, one root handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    handler.addFilter(RedactFilter(secrets))
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
    root.addHandler(handler)
    root.setLevel(level)
    _installed = handler
    return handler
