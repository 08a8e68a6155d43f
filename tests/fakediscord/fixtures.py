"""pytest fixtures and helpers for the fake Discord.

Import the fixtures into a ``conftest.py`` to use them::

    from tests.fakediscord.fixtures import fake_discord

    __all__ = ["fake_discord"]
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .server import FakeDiscord
from .spec import SpecValidator, default_spec_path, get_validator


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A running fake Discord; teardown fails if the bot broke a Discord rule on the way."""
    async with FakeDiscord(check_responses=True) as fake:
        yield fake
    assert_no_violations(fake)


def assert_no_violations(fake: FakeDiscord, *, include_unhandled: bool = True) -> None:
    """Fail with every spec/docs violation, fake error and unhandled route ``fake`` recorded."""
    fake.assert_no_violations(include_unhandled=include_unhandled)


def require_spec() -> SpecValidator:
    """The spec validator, or skip the calling test when the spec file is absent."""
    validator = get_validator()
    if validator is None:
        pytest.skip(f"Discord OpenAPI spec not found at {default_spec_path()}")
    return validator
