"""Fixtures for the ops tests: a root logger put back as it was."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.ops import logs


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo configure_logging: the root handlers and level the test started with."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    if logs._installed is not None:
        root.removeHandler(logs._installed)
        logs._installed = None
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def log_output(restore_logging: None) -> io.StringIO:
    """Where the test's configure_logging writes."""
    del restore_logging
    return io.StringIO()
