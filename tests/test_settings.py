"""Settings come from the environment and `.env`; bad values are named, the token never shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No BRIEFBOT_* or token variables from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("BRIEFBOT_") or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)


def test_env_file_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text("DISCORD_TOKEN=from-file\nBRIEFBOT_BRIEFS_DIR=file-briefs\n", encoding="utf-8")
    monkeypatch.setenv("BRIEFBOT_BRIEFS_DIR", "env-briefs")
    settings = Settings.from_env(env)
    assert settings.token == "from-file"
    assert settings.briefs_dir == Path("env-briefs")


def test_token_never_appears_in_repr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "MTIz.secret-token")
    settings = Settings.from_env(tmp_path / "missing.env")
    assert settings.token == "MTIz.secret-token"
    assert "secret-token" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BRIEFBOT_DEV_GUILD_ID", "my-server"),
        ("BRIEFBOT_RELOAD_SECONDS", "soon"),
        ("BRIEFBOT_DIGEST_GRACE_HOURS", "-1"),
        ("BRIEFBOT_LOG_LEVEL", "loud"),
        # Not finite or beyond what a duration can hold: a one-line error, not a traceback
        # at start (timedelta overflows) or a reload loop that never sleeps (nan).
        ("BRIEFBOT_DIGEST_GRACE_HOURS", "inf"),
        ("BRIEFBOT_RELOAD_SECONDS", "nan"),
        ("BRIEFBOT_STOP_SECONDS", "nan"),
        ("BRIEFBOT_DRAFT_DAYS", "1e10"),
        # Drafts deleted as soon as they are made would make review impossible.
        ("BRIEFBOT_DRAFT_DAYS", "0"),
    ],
)
def test_bad_value_names_the_variable(
    name: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(tmp_path / "missing.env")


def test_the_data_dir_holds_the_index_and_the_default_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BRIEFBOT_DATABASE", raising=False)
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(tmp_path / "state"))
    settings = Settings.from_env(None)
    assert settings.index_path == tmp_path / "state" / "briefs.index.sqlite3"
    assert settings.database == tmp_path / "state" / "briefbot.sqlite3"
    monkeypatch.setenv("BRIEFBOT_DATABASE", str(tmp_path / "elsewhere.sqlite3"))
    assert Settings.from_env(None).index_path == tmp_path / "state" / "briefs.index.sqlite3"


def test_the_digest_lease_is_a_positive_number_of_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings.from_env(None).digest_lease.total_seconds() == 60
    monkeypatch.setenv("BRIEFBOT_DIGEST_LEASE_SECONDS", "2.5")
    assert Settings.from_env(None).digest_lease.total_seconds() == 2.5
    monkeypatch.setenv("BRIEFBOT_DIGEST_LEASE_SECONDS", "0")
    with pytest.raises(SettingsError, match="BRIEFBOT_DIGEST_LEASE_SECONDS must be more than 0"):
        Settings.from_env(None)
