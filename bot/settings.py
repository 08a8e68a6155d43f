"""Runtime settings from the environment and `.env`, built once in main()."""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import dotenv_values

from bot.store import DEFAULT_TIMEOUT, is_postgres, sqlite_path


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot needs to know about its environment."""

    # repr=False: settings get logged, the token never does.
    token: str | None = field(default=None, repr=False)
    dev_guild_id: int | None = None
    briefs_dir: Path = Path("briefs")
    # Holds the default database and the brief index (derived data: deleting it is safe).
    data_dir: Path = Path("data")
    # A SQLite path (or sqlite:///path), or a postgresql:// URL.
    database: str | Path = Path("data/briefbot.sqlite3")
    # PostgreSQL: how long one database call may wait before the connection counts as lost.
    db_timeout: float = DEFAULT_TIMEOUT
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one object per line
    # Where /metrics, /healthz and /readyz are served; None: not served.
    metrics_addr: tuple[str, int] | None = None
    # 0: no watcher. Else the scan interval where the OS gives no file events (see reloader).
    reload_seconds: float = 5.0
    # A graceful stop (SIGTERM, Ctrl-C) waits at most this long for digests being sent.
    stop_seconds: float = 30.0
    digest_grace: dt.timedelta = dt.timedelta(hours=3)
    # How long a digest slot claim holds without renewal (several processes on one database).
    digest_lease: dt.timedelta = dt.timedelta(seconds=60)
    # Digest messages per second for all processes together (Discord allows 50 per token).
    send_rate: float = 48.0
    # Gateway shards this process runs, and how many there are in all (several processes
    # share one token); None: one process, unsharded, as Discord recommends for small bots.
    shard_ids: tuple[int, ...] | None = None
    shard_count: int | None = None
    # Feeds: at most this many drafts per poll of one feed; where `briefbot feeds poll` and
    # `briefbot ingest` write drafts.
    feed_burst: int = 20
    drafts_dir: Path = Path("drafts")
    # Hosts the fetcher may reach on non-public addresses (an intranet; the tests' server).
    fetch_private_hosts: tuple[str, ...] = ()
    # Review and publish: defaults for guilds that set nothing (design.md, "Guilds, editors,
    # notices"); a guild's own settings override the first two.
    editor_role_id: int | None = None
    review_channel_id: int | None = None
    # Guilds whose editors publish to the shared library; None: the dev guild, else every guild.
    editor_guild_ids: frozenset[int] | None = None
    draft_days: float = 7.0

    @property
    def index_path(self) -> Path:
        """The on-disk brief index (derived from the brief files; deleting it is safe)."""
        return self.data_dir / "briefs.index.sqlite3"

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
        database_value = _database(get("BRIEFBOT_DATABASE"))
        database: str | Path = (
            database_value
            if database_value is not None and is_postgres(database_value)
            else sqlite_path(database_value or data_dir / "briefbot.sqlite3")
        )
        shard_count = _count(get("BRIEFBOT_SHARD_COUNT"), "BRIEFBOT_SHARD_COUNT")
        shard_ids = _shards(get("BRIEFBOT_SHARD_IDS"), shard_count)
        return cls(
            token=_token(get("DISCORD_TOKEN")),
            dev_guild_id=_int(get("BRIEFBOT_DEV_GUILD_ID"), "BRIEFBOT_DEV_GUILD_ID"),
            briefs_dir=Path(get("BRIEFBOT_BRIEFS_DIR") or "briefs"),
            data_dir=data_dir,
            database=database,
            db_timeout=_positive(
                get("BRIEFBOT_DB_TIMEOUT") or str(DEFAULT_TIMEOUT), "BRIEFBOT_DB_TIMEOUT"
            ),
            log_level=_level(get("BRIEFBOT_LOG_LEVEL") or "INFO"),
            log_format=_log_format(get("BRIEFBOT_LOG_FORMAT") or "text"),
            metrics_addr=_address(get("BRIEFBOT_METRICS_ADDR"), "BRIEFBOT_METRICS_ADDR"),
            reload_seconds=_float(get("BRIEFBOT_RELOAD_SECONDS") or "5", "BRIEFBOT_RELOAD_SECONDS"),
            stop_seconds=_float(get("BRIEFBOT_STOP_SECONDS") or "30", "BRIEFBOT_STOP_SECONDS"),
            digest_grace=dt.timedelta(
                hours=_float(
                    get("BRIEFBOT_DIGEST_GRACE_HOURS") or "3",
                    "BRIEFBOT_DIGEST_GRACE_HOURS",
                    unit=3600,
                )
            ),
            digest_lease=dt.timedelta(
                seconds=_positive(
                    get("BRIEFBOT_DIGEST_LEASE_SECONDS") or "60", "BRIEFBOT_DIGEST_LEASE_SECONDS"
                )
            ),
            send_rate=_send_rate(get("BRIEFBOT_SEND_RATE") or "48"),
            shard_ids=shard_ids,
            shard_count=shard_count,
            editor_role_id=_int(get("BRIEFBOT_EDITOR_ROLE_ID"), "BRIEFBOT_EDITOR_ROLE_ID"),
            review_channel_id=_int(get("BRIEFBOT_REVIEW_CHANNEL_ID"), "BRIEFBOT_REVIEW_CHANNEL_ID"),
            feed_burst=_burst(get("BRIEFBOT_FEED_BURST")),
            editor_guild_ids=_ids(get("BRIEFBOT_EDITOR_GUILD_IDS"), "BRIEFBOT_EDITOR_GUILD_IDS"),
            draft_days=_float(
                get("BRIEFBOT_DRAFT_DAYS") or "7", "BRIEFBOT_DRAFT_DAYS", unit=86400, positive=True
            ),
            fetch_private_hosts=tuple(
                h.strip()
                for h in (get("BRIEFBOT_FETCH_PRIVATE_HOSTS") or "").split(",")
                if h.strip()
            ),
        )

    def with_shards(self, shard_ids: str | None, shard_count: int | None) -> Settings:
        """These settings with shards from the command line (`--shards 0,1 --shard-count 4`)."""
        count = _shard_count(shard_count) if shard_count is not None else self.shard_count
        if shard_ids is None:
            ids = self.shard_ids
            if ids is not None and count is not None and max(ids) >= count:
                raise SettingsError(f"shard ids {ids} do not fit a shard count of {count}")
        else:
            ids = _shards(shard_ids, count)
        return replace(self, shard_ids=ids, shard_count=count)


_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def _database(value: str | None) -> str | None:
    """A SQLite path, sqlite:///path or postgresql:// URL; any other URL is refused."""
    scheme = _URL.match(value or "")
    if value is None or scheme is None or is_postgres(value) or value.startswith("sqlite://"):
        return value
    # Taken for a file name, it would create folders named after the URL, password and all:
    # only the scheme is shown.
    raise SettingsError(
        "BRIEFBOT_DATABASE must be a SQLite file (a path or sqlite:///path) or a "
        f"postgresql:// URL, got a {scheme.group(1)}:// URL"
    )


def _token(value: str | None) -> str | None:
    """The token as Discord issued it; what is pasted around it is named, the token never."""
    if value is None:
        return None
    alone = "put the token alone"
    if value.lower().startswith("bot "):
        raise SettingsError(f"DISCORD_TOKEN starts with 'Bot ': {alone}")
    if value[0] in "\"'" and value[-1] == value[0]:
        raise SettingsError(f"DISCORD_TOKEN is in quotes: {alone}")
    if any(c.isspace() for c in value):
        raise SettingsError(f"DISCORD_TOKEN holds a space: {alone}")
    return value


def _digits(value: str) -> bool:
    """Only 0-9: `str.isdigit` also takes digits `int()` cannot read ('²')."""
    return value.isascii() and value.isdigit()


def _int(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if not _digits(value):
        raise SettingsError(f"{name} must be a numeric Discord id, got {value!r}")
    return int(value)


def _count(value: str | None, name: str) -> int | None:
    """A whole number of shards, at least 1."""
    if value is None:
        return None
    if not _digits(value.removeprefix("-")):
        raise SettingsError(f"{name} must be a whole number, got {value!r}")
    return _shard_count(int(value))


def _shard_count(count: int) -> int:
    if count < 1:
        raise SettingsError(f"the shard count must be at least 1, got {count}")
    return count


def _ids(value: str | None, name: str) -> frozenset[int] | None:
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",") if p.strip()]
    return frozenset(i for p in parts if (i := _int(p, name)) is not None)


# A year: far beyond any sensible wait, and well inside what timedelta and asyncio can hold.
_MAX_SECONDS = 365 * 24 * 3600.0


def _float(value: str, name: str, unit: float = 1.0, positive: bool = False) -> float:
    """A finite, non-negative number of units (seconds per unit in `unit`), at most a year."""
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise SettingsError(f"{name} must be a finite number, got {value!r}")
    if number < 0 or (positive and number == 0):
        raise SettingsError(f"{name} must be {'more than 0' if positive else 'not negative'}")
    if number * unit > _MAX_SECONDS:
        raise SettingsError(f"{name} must be at most a year, got {value!r}")
    return number


def _positive(value: str, name: str) -> float:
    number = _float(value, name)
    if number <= 0:
        raise SettingsError(f"{name} must be more than 0, got {value!r}")
    return number


def _burst(value: str | None) -> int:
    if value is None:
        return 20
    if not _digits(value) or int(value) < 1:
        raise SettingsError(f"BRIEFBOT_FEED_BURST must be a whole number from 1, got {value!r}")
    return int(value)


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
    if not sep or not host or not _digits(port) or int(port) > 65535:
        raise SettingsError(f"{name} must be host:port, e.g. 127.0.0.1:9108, got {value!r}")
    return host, int(port)


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
    bounds: list[tuple[int, int]] = []
    for part in value.split(","):
        first, dash, last = part.strip().partition("-")
        if not _digits(first) or (dash and not _digits(last)):
            raise SettingsError(
                f"shard ids must be numbers like 0,1 or 0-3 (BRIEFBOT_SHARD_IDS, --shards), "
                f"got {value!r}"
            )
        bounds.append((int(first), int(last) if dash else int(first)))
    if count is None:
        raise SettingsError(
            "shard ids need the shard count too (BRIEFBOT_SHARD_COUNT or --shard-count)"
        )
    _shard_count(count)
    # Checked before expanding: `0-99999999999` must be refused, not listed.
    if not bounds or any(high >= count for _, high in bounds):
        raise SettingsError(f"shard ids {value!r} do not fit a shard count of {count}")
    ids = {i for low, high in bounds for i in range(low, high + 1)}
    if not ids:
        raise SettingsError(f"shard ids {value!r} do not fit a shard count of {count}")
    return tuple(sorted(ids))
