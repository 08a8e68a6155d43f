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


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "postgresql://bot:pw@db.example:5432/briefbot",
            "postgresql://bot:pw@db.example:5432/briefbot",
        ),
        ("postgres://db/briefbot", "postgres://db/briefbot"),
        ("sqlite:///var/lib/briefbot/db.sqlite3", Path("/var/lib/briefbot/db.sqlite3")),
        ("sqlite://relative/db.sqlite3", Path("relative/db.sqlite3")),
        ("state/db.sqlite3", Path("state/db.sqlite3")),
    ],
)
def test_database_is_a_postgresql_url_or_a_sqlite_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: str | Path
) -> None:
    monkeypatch.setenv("BRIEFBOT_DATABASE", value)
    settings = Settings.from_env(tmp_path / "missing.env")
    assert settings.database == expected


def test_shards_from_the_environment_and_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings.from_env(tmp_path / "missing.env").shard_count is None
    monkeypatch.setenv("BRIEFBOT_SHARD_COUNT", "4")
    monkeypatch.setenv("BRIEFBOT_SHARD_IDS", "2-3")
    settings = Settings.from_env(tmp_path / "missing.env")
    assert (settings.shard_ids, settings.shard_count) == ((2, 3), 4)
    # `briefbot run --shards 0,1` beats the environment; the count is kept.
    assert settings.with_shards("1,0", None).shard_ids == (0, 1)
    assert settings.with_shards("5", 6).shard_count == 6
    with pytest.raises(SettingsError, match="do not fit a shard count of 4"):
        settings.with_shards("4", None)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BRIEFBOT_SHARD_IDS": "0,1"}, "need the shard count"),
        ({"BRIEFBOT_SHARD_IDS": "one", "BRIEFBOT_SHARD_COUNT": "2"}, "numbers like 0,1"),
        ({"BRIEFBOT_SHARD_IDS": "2", "BRIEFBOT_SHARD_COUNT": "2"}, "do not fit"),
        ({"BRIEFBOT_SHARD_COUNT": "two"}, "BRIEFBOT_SHARD_COUNT must be"),
        ({"BRIEFBOT_SEND_RATE": "60"}, "at most 50"),
    ],
)
def test_bad_scale_settings_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(tmp_path / "missing.env")
