"""Runtime settings from the environment and `.env`, built once in main()."""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import dotenv_values

from bot.store import is_postgres, sqlite_path


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot needs to know about its environment."""

    # repr=False: settings get logged, the token never does.
    token: str | None = field(default=None, repr=False)
    dev_guild_id: int | None = None
    briefs_dir: Path = Path("briefs")
    # A SQLite path (or sqlite:///path), or a postgresql:// URL.
    database: str | Path = Path("data/briefbot.sqlite3")
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one object per line
    # Where /metrics, /healthz and /readyz are served; None: not served.
    metrics_addr: tuple[str, int] | None = None
    reload_seconds: float = 5.0
    digest_grace: dt.timedelta = dt.timedelta(hours=3)
    # Validated briefs kept between runs for a quicker start; None: no cache.
    brief_cache: Path | None = None
    # Gateway shards this process runs, and how many there are in all (several processes
    # share one token); None: one process, unsharded, as Discord recommends for small bots.
    shard_ids: tuple[int, ...] | None = None
    shard_count: int | None = None
    # How long a digest claim is held without renewal before another process may resume it.
    claim_lease: dt.timedelta = dt.timedelta(seconds=60)
    # Digest messages per second for all processes together (Discord allows 50 per token).
    send_rate: float = 46.0

    @classmethod
    def from_env(cls, env_file: Path | None = Path(".env")) -> Settings:
        """Read BRIEFBOT_* variables; real environment variables beat `.env`."""
        values: dict[str, str | None] = {}
        if env_file is not None and env_file.is_file():
            values.update(dotenv_values(env_file))
        values.update(os.environ)

        def get(name: str) -> str | None:
            value = values.get(name)
            return value.strip() if value and value.strip() else None

        database_value = get("BRIEFBOT_DATABASE") or "data/briefbot.sqlite3"
        database: str | Path = (
            database_value if is_postgres(database_value) else sqlite_path(database_value)
        )
        # A URL has no folder to put the cache beside: it goes to data/ then.
        cache_dir = Path("data") if isinstance(database, str) else database.parent
        cache = get("BRIEFBOT_BRIEF_CACHE")
        shard_count = _int(get("BRIEFBOT_SHARD_COUNT"), "BRIEFBOT_SHARD_COUNT")
        shard_ids = _shards(get("BRIEFBOT_SHARD_IDS"), shard_count)
        return cls(
            token=get("DISCORD_TOKEN"),
            dev_guild_id=_int(get("BRIEFBOT_DEV_GUILD_ID"), "BRIEFBOT_DEV_GUILD_ID"),
            briefs_dir=Path(get("BRIEFBOT_BRIEFS_DIR") or "briefs"),
            database=database,
            log_level=_level(get("BRIEFBOT_LOG_LEVEL") or "INFO"),
            log_format=_log_format(get("BRIEFBOT_LOG_FORMAT") or "text"),
            metrics_addr=_address(get("BRIEFBOT_METRICS_ADDR"), "BRIEFBOT_METRICS_ADDR"),
            reload_seconds=_float(get("BRIEFBOT_RELOAD_SECONDS") or "5", "BRIEFBOT_RELOAD_SECONDS"),
            digest_grace=dt.timedelta(
                hours=_float(
                    get("BRIEFBOT_DIGEST_GRACE_HOURS") or "3", "BRIEFBOT_DIGEST_GRACE_HOURS"
                )
            ),
            # Beside the database unless set; "off" turns it off.
            brief_cache=None
            if cache is not None and cache.lower() == "off"
            else Path(cache or cache_dir / "briefs-cache.jsonl"),
            shard_ids=shard_ids,
            shard_count=shard_count,
            claim_lease=dt.timedelta(
                seconds=_positive(
                    get("BRIEFBOT_CLAIM_LEASE_SECONDS") or "60", "BRIEFBOT_CLAIM_LEASE_SECONDS"
                )
            ),
            send_rate=_send_rate(get("BRIEFBOT_SEND_RATE") or "46"),
        )

    def with_shards(self, shard_ids: str | None, shard_count: int | None) -> Settings:
        """These settings with shards from the command line (`--shards 0,1 --shard-count 4`)."""
        count = shard_count if shard_count is not None else self.shard_count
        if shard_ids is None:
            ids = self.shard_ids
            if ids is not None and count is not None and max(ids) >= count:
                raise SettingsError(f"shard ids {ids} do not fit a shard count of {count}")
        else:
            ids = _shards(shard_ids, count)
        return replace(self, shard_ids=ids, shard_count=count)


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


def _level(value: str) -> str:
    level = value.upper()
    if level not in logging.getLevelNamesMapping():
        raise SettingsError(
            f"BRIEFBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {value!r}"
        )
    return level


def _log_format(value: str) -> str:
    fmt = value.lower()
    if fmt not in {"text", "json"}:
        raise SettingsError(f"BRIEFBOT_LOG_FORMAT must be text or json, got {value!r}")
    return fmt


def _address(value: str | None, name: str) -> tuple[str, int] | None:
    """`host:port` (IPv6 hosts in brackets); port 0 picks a free port."""
    if value is None or value.lower() == "off":
        return None
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise SettingsError(f"{name} must be host:port, e.g. 127.0.0.1:9108, got {value!r}")
    return host, int(port)


def _positive(value: str, name: str) -> float:
    number = _float(value, name)
    if number <= 0:
        raise SettingsError(f"{name} must be more than 0, got {value!r}")
    return number


def _send_rate(value: str) -> float:
    rate = _positive(value, "BRIEFBOT_SEND_RATE")
    if rate > 50:
        raise SettingsError(
            f"BRIEFBOT_SEND_RATE must be at most 50 (Discord's limit per token), got {value!r}"
        )
    return rate


def _shards(value: str | None, count: int | None) -> tuple[int, ...] | None:
    """`0,1` or `0-3`; every id below the shard count, which must then be given too."""
    if value is None:
        return None
    ids: list[int] = []
    for part in value.split(","):
        first, dash, last = part.strip().partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise SettingsError(
                f"shard ids must be numbers like 0,1 or 0-3 (BRIEFBOT_SHARD_IDS, --shards), "
                f"got {value!r}"
            )
        ids.extend(range(int(first), int(last) + 1) if dash else [int(first)])
    if count is None:
        raise SettingsError(
            "shard ids need the shard count too (BRIEFBOT_SHARD_COUNT or --shard-count)"
        )
    if count < 1:
        raise SettingsError(f"the shard count must be at least 1, got {count}")
    if not ids or max(ids) >= count:
        raise SettingsError(f"shard ids {value!r} do not fit a shard count of {count}")
    return tuple(sorted(set(ids)))
