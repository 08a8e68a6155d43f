"""BRIEFBOT_LOG_FORMAT and BRIEFBOT_METRICS_ADDR: off and text by default, bad values named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError
from tests.conftest import REPO
from tests.test_architecture import imports


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("BRIEFBOT_") or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)


def test_defaults_are_text_logs_and_no_metrics_server(tmp_path: Path) -> None:
    settings = Settings.from_env(tmp_path / "missing.env")
    assert settings.log_format == "text"
    assert settings.metrics_addr is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:9108", ("127.0.0.1", 9108)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("[::1]:9108", ("::1", 9108)),
        ("localhost:9108", ("localhost", 9108)),
        ("off", None),
    ],
)
def test_metrics_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: object
) -> None:
    monkeypatch.setenv("BRIEFBOT_METRICS_ADDR", value)
    assert Settings.from_env(tmp_path / "missing.env").metrics_addr == expected


@pytest.mark.parametrize("value", ["9108", ":9108", "127.0.0.1:", "host:port", "1.2.3.4:70000"])
def test_a_bad_metrics_address_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BRIEFBOT_METRICS_ADDR", value)
    with pytest.raises(SettingsError, match=f"BRIEFBOT_METRICS_ADDR must be host:port.*{value!r}"):
        Settings.from_env(tmp_path / "missing.env")


def test_log_format_is_case_blind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_LOG_FORMAT", "JSON")
    assert Settings.from_env(tmp_path / "missing.env").log_format == "json"


def test_ops_imports_nothing_of_discord() -> None:
    # Readiness checks are handed in; the ops package must stay importable without discord.py.
    for path in sorted((REPO / "bot" / "ops").glob("*.py")):
        names = imports(path)
        assert not {n for n in names if n == "discord" or n.startswith("discord.")}, path
        # The ground (bot/reply.py for /about) is every layer's to use.
        allowed = {"bot.ops.metrics", "bot.limits", "bot.text", "bot.reply", "bot.clock"}
        assert {n for n in names if n.startswith("bot.")} <= allowed, path
