"""/about: what the running bot is and how it is doing, as a renderer-neutral reply."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from importlib import metadata

from bot.reply import Reply, Section, timestamp


def version() -> str:
    """The installed briefbot's version ("unknown" when run from an uninstalled tree)."""
    try:
        return metadata.version("briefbot")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True, slots=True)
class LastPass:
    """What the last digest pass that handled any slot did."""

    finished: dt.datetime
    sent: int
    skipped: int
    failed: int
    paused: int
    rate_limited: int  # HTTP 429s met during the pass


@dataclass(frozen=True, slots=True)
class AboutFacts:
    """Everything /about shows; None means "not known here" (offline, or no database)."""

    version: str
    uptime: dt.timedelta
    briefs: int
    broken: int
    database: str | None  # "SQLite (data/briefbot.sqlite3)"; None: no database
    online: bool = True  # False: the console, which has no gateway
    gateway_latency: float | None = None  # seconds; None or NaN before the first heartbeat
    shards: int | None = None
    shard_ids: tuple[int, ...] = ()  # the shards this process runs, when sharded
    active: int | None = None  # digest subscriptions
    paused: int | None = None
    # Across every server: no channel is named, /about may be asked in any of them.
    next_due: dt.datetime | None = None
    last_pass: LastPass | None = None


def _duration(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s"


def _latency(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "not measured yet (no heartbeat acknowledged)"
    return f"{seconds * 1000:.0f} ms"


def _bot(facts: AboutFacts) -> Section:
    lines = [f"Version: {facts.version}", f"Uptime: {_duration(facts.uptime)}"]
    if facts.online:
        lines.append(f"Gateway latency: {_latency(facts.gateway_latency)}")
        shards = facts.shards or 1
        ids = f" (this process: {', '.join(map(str, facts.shard_ids))})" if facts.shard_ids else ""
        lines.append(f"Shards: {shards}{ids}")
    else:
        lines.append("Gateway: offline (console)")
    return Section("Bot", body="\n".join(lines))


def _briefs(facts: AboutFacts) -> Section:
    lines = [f"Loaded: {facts.briefs}"]
    if facts.broken:
        fix = "/reload lists them" if facts.online else "briefbot check lists them"
        lines.append(f"Broken files: {facts.broken} ({fix})")
    else:
        lines.append("Broken files: none")
    return Section("Briefs", body="\n".join(lines))


def _digests(facts: AboutFacts) -> Section:
    if facts.active is None:
        known = "unknown (no database)" if facts.online else "not known offline"
        return Section("Digests", body=f"Subscriptions: {known}")
    lines = [f"Subscriptions: {facts.active} active, {facts.paused or 0} paused"]
    if facts.next_due is not None:
        lines.append(
            f"Next digest due: {timestamp(facts.next_due)} ({timestamp(facts.next_due, 'R')})"
        )
    elif facts.online:
        lines.append("Next digest due: none scheduled")
    last = facts.last_pass
    if last is not None:
        lines.append(
            f"Last digest pass: {timestamp(last.finished)}: {last.sent} sent, "
            f"{last.skipped} skipped, {last.failed} failed"
            + (f", {last.paused} paused" if last.paused else "")
            + f", {last.rate_limited} rate-limited (429)"
        )
    elif facts.online:
        lines.append("Last digest pass: none since start")
    return Section("Digests", body="\n".join(lines))


def about_reply(facts: AboutFacts) -> Reply:
    """The /about reply (private: it is for whoever asked)."""
    database = facts.database or "none"
    return Reply(
        "About briefbot",
        sections=(
            _bot(facts),
            _briefs(facts),
            _digests(facts),
            Section("Database", body=database),
        ),
        private=True,
    )


def offline_about(briefs: int, broken: int, uptime: dt.timedelta) -> Reply:
    """/about in the console and `briefbot ask`: no gateway, no database."""
    return about_reply(
        AboutFacts(
            version=version(),
            uptime=uptime,
            briefs=briefs,
            broken=broken,
            database="not opened offline",
            online=False,
        )
    )
