"""The bot's Prometheus instruments, on a registry of their own (one per bot: tests stay apart)."""

from __future__ import annotations

import math
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

# Slash commands answer within Discord's 3 s deadline or defer; buckets resolve that range.
_HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
# Autocomplete is answered per keystroke: the interesting range is a few milliseconds.
_AUTOCOMPLETE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0)
# A digest is late by seconds when healthy, by hours after an outage.
_LATENESS_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 10800.0)
_DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_RELOAD_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _finite(read: Callable[[], float]) -> Callable[[], float]:
    """A reading that is NaN (no data) rather than infinite or an error before it is known."""

    def value() -> float:
        try:
            number = float(read())
        except (TypeError, ValueError, ArithmeticError):
            return math.nan
        return number if math.isfinite(number) else math.nan

    return value


class Metrics:
    """Every instrument the bot exposes on /metrics.

    Who updates what:
    - `commands`, `command_latency`, `autocomplete_latency`: the command tree in bot/app.py.
    - `briefs_loaded`, `briefs_broken`, `gateway_latency`: read at scrape time through
      `watch_library` and `watch_gateway`, called by the bot at start.
    - `loop_lag`: the health heartbeat (bot/ops/health.py).
    - `digest_sends`, `digest_failures`, `digest_retries`, `digest_rate_limited`,
      `digest_lateness`: the digest scheduler and its poster, once per post attempt.
    - `reload_duration`: the live library, once per reload that read files.
    - `db_latency`: the store, once per database call, labelled with the call's name.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        if registry is None:
            registry = CollectorRegistry(auto_describe=True)
            # Memory, CPU, open files: what an operator looks at first.
            ProcessCollector(registry=registry)
        self.registry = registry
        r = registry
        self.commands = Counter(
            "briefbot_commands",
            "Slash commands handled, by command and outcome (ok, denied, invalid, error).",
            ["command", "outcome"],
            registry=r,
        )
        self.command_latency = Histogram(
            "briefbot_command_latency_seconds",
            "Time from receiving a slash command to its handler returning.",
            ["command"],
            buckets=_HANDLER_BUCKETS,
            registry=r,
        )
        self.autocomplete_latency = Histogram(
            "briefbot_autocomplete_latency_seconds",
            "Time to answer one autocomplete request.",
            ["command", "option"],
            buckets=_AUTOCOMPLETE_BUCKETS,
            registry=r,
        )
        self.digest_sends = Counter(
            "briefbot_digest_sends", "Digest posts delivered to a channel.", registry=r
        )
        self.digest_failures = Counter(
            "briefbot_digest_failures",
            "Digest post attempts that failed, by reason: forbidden, missing, refused (the "
            "channel is paused) or error (retried).",
            ["reason"],
            registry=r,
        )
        self.digest_retries = Counter(
            "briefbot_digest_retries",
            "Digest slots posted again after an earlier attempt did not finish.",
            registry=r,
        )
        self.digest_rate_limited = Counter(
            "briefbot_digest_rate_limited",
            "HTTP 429 answers received while posting digests.",
            registry=r,
        )
        self.digest_lateness = Histogram(
            "briefbot_digest_lateness_seconds",
            "How long after its slot time a digest was posted.",
            buckets=_LATENESS_BUCKETS,
            registry=r,
        )
        self.briefs_loaded = Gauge("briefbot_briefs_loaded", "Briefs currently loaded.", registry=r)
        self.briefs_broken = Gauge(
            "briefbot_briefs_broken", "Brief files that failed to load.", registry=r
        )
        self.reload_duration = Histogram(
            "briefbot_reload_duration_seconds",
            "Time to reload the briefs from disk.",
            buckets=_RELOAD_BUCKETS,
            registry=r,
        )
        self.db_latency = Histogram(
            "briefbot_db_call_latency_seconds",
            "Time per database call, by operation.",
            ["operation"],
            buckets=_DB_BUCKETS,
            registry=r,
        )
        self.gateway_latency = Gauge(
            "briefbot_gateway_latency_seconds",
            "Gateway heartbeat round trip (NaN until the first acknowledgement).",
            registry=r,
        )
        self.gateway_latency.set(math.nan)
        self.loop_lag = Gauge(
            "briefbot_event_loop_lag_seconds",
            "How late the event loop ran the last health heartbeat.",
            registry=r,
        )

    def watch_library(self, loaded: Callable[[], int], broken: Callable[[], int]) -> None:
        """Read the brief counts at each scrape."""
        self.briefs_loaded.set_function(loaded)
        self.briefs_broken.set_function(broken)

    def watch_gateway(self, latency: Callable[[], float]) -> None:
        """Read the gateway latency (seconds) at each scrape."""
        self.gateway_latency.set_function(_finite(latency))

    # The digest scheduler's DigestEvents (bot/digest/scheduler.py), structurally.

    def digest_sent(self, lateness: float) -> None:
        """A digest was posted `lateness` seconds after its slot time."""
        self.digest_sends.inc()
        self.digest_lateness.observe(lateness)

    def digest_failed(self, reason: str) -> None:
        """A digest post attempt failed for `reason`."""
        self.digest_failures.labels(reason).inc()

    def digest_retried(self) -> None:
        """A slot is posted again after an unfinished attempt."""
        self.digest_retries.inc()

    def digest_rate_limits(self) -> int:
        """HTTP 429s met while posting digests so far."""
        value = self.registry.get_sample_value("briefbot_digest_rate_limited_total")
        return int(value or 0)

    def observe_db(self, operation: str, seconds: float) -> None:
        """One database call took `seconds` (the store's timing wrapper)."""
        self.db_latency.labels(operation).observe(seconds)

    def observe_reload(self, seconds: float) -> None:
        """One reload of the briefs took `seconds`."""
        self.reload_duration.observe(seconds)

    def exposition(self) -> bytes:
        """Every instrument in Prometheus's text format."""
        return generate_latest(self.registry)
