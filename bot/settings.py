"""Runtime settings from the environment and `.env`, built once in main()."""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot needs to know about its environment."""

    # repr=False: settings get logged, the token never does.
    token: str | None = field(default=None, repr=False)
    dev_guild_id: int | None = None
    briefs_dir: Path = Path("briefs")
    # Holds the default database, the brief cache (and the index to come).
    data_dir: Path = Path("data")
    database: Path = Path("data/briefbot.sqlite3")
    log_level: str = "INFO"
    reload_seconds: float = 5.0
    digest_grace: dt.timedelta = dt.timedelta(hours=3)
    # How long a digest slot claim holds without renewal (several processes on one database).
    digest_lease: dt.timedelta = dt.timedelta(seconds=60)
    # Validated briefs kept between runs for a quicker start; None: no cache.
    brief_cache: Path | None = None

    @classmethod
    def from_env(cls, env_file: Path | None = Path(".env")) -> Settings:
        """Read BRIEFBOT_* variables; real environment variables beat `.env`."""
        values: dict[str, str | None] = {}
        if env_file is not None and env_file.is_file():
            try:
                values.update(dotenv_values(env_file))
            except (OSError, UnicodeDecodeError) as exc:
                raise SettingsError(f"{env_file} cannot be read: {exc}") from None
        values.update(os.environ)

        def get(name: str) -> str | None:
            value = values.get(name)
            return value.strip() if value and value.strip() else None

        data_dir = Path(get("BRIEFBOT_DATA_DIR") or "data")
        # BRIEFBOT_DATABASE is an explicit override of the file in the data folder.
        database = Path(get("BRIEFBOT_DATABASE") or data_dir / "briefbot.sqlite3")
        cache = get("BRIEFBOT_BRIEF_CACHE")
        return cls(
            token=get("DISCORD_TOKEN"),
            dev_guild_id=_int(get("BRIEFBOT_DEV_GUILD_ID"), "BRIEFBOT_DEV_GUILD_ID"),
            briefs_dir=Path(get("BRIEFBOT_BRIEFS_DIR") or "briefs"),
            data_dir=data_dir,
            database=database,
            log_level=_level(get("BRIEFBOT_LOG_LEVEL") or "INFO"),
            reload_seconds=_float(get("BRIEFBOT_RELOAD_SECONDS") or "5", "BRIEFBOT_RELOAD_SECONDS"),
            digest_grace=dt.timedelta(
                hours=_float(
                    get("BRIEFBOT_DIGEST_GRACE_HOURS") or "3", "BRIEFBOT_DIGEST_GRACE_HOURS"
                )
            ),
            digest_lease=dt.timedelta(
                seconds=_positive(
                    get("BRIEFBOT_DIGEST_LEASE_SECONDS") or "60", "BRIEFBOT_DIGEST_LEASE_SECONDS"
                )
            ),
            # In the data folder unless set; "off" turns it off.
            brief_cache=None
            if cache is not None and cache.lower() == "off"
            else Path(cache or data_dir / "briefs-cache.jsonl"),
        )


def _int(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise SettingsError(f"{name} must be a numeric Discord id, got {value!r}")
    return int(value)


def _float(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {value!r}") from None
    if number < 0:
        raise SettingsError(f"{name} must not be negative")
    return number


def _positive(value: str, name: str) -> float:
    number = _float(value, name)
    if number <= 0:
        raise SettingsError(f"{name} must be more than 0, got {value!r}")
    return number


def _level(value: str) -> str:
    level = value.upper()
    if level not in logging.getLevelNamesMapping():
        raise SettingsError(
            f"BRIEFBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {value!r}"
        )
    return level
