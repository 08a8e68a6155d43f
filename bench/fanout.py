"""Digest fan-out: one daily digest to N subscribed channels through the fake Discord's rate limits.

    python -m bench.fanout --channels 10000 [--briefs 200] [--returning NEW] [--pace 48]

N channels are subscribed straight through the Store (same time, UTC), the bot runs against
the fake Discord with `enable_rate_limits()` (Discord's 50 requests/s global limit and its
per-route buckets, real X-RateLimit headers and 429s), and the FakeClock is moved to the due
time. The pass is timed from there until the scheduler sleeps again; then 30 minutes of fake
time let failed sends be retried. Counts come from what the fake created per channel (a
nonce-deduplicated resend is not a creation) and are checked against the database's slots.
10,000 channels at 50/s take about 200 s.

The digests draw on a 200-brief library by default. A channel's first digest records the
briefs it shows (a row each) and an archive cutoff for all the older ones (no row per archive
brief), so per-channel database work does not grow with the library; `--briefs 10000` (with a
few hundred channels) checks that. `--returning NEW` gives channels a history (all but the NEW
newest briefs already sent, a row each, as a channel from before the cutoff has) for a
steady-state daily digest.

RSS is this process's (the bot with the fake Discord in it): when the pass starts, its peak
sampled every 20 ms during the pass, and `ru_maxrss` (which includes building the brief index
when `--index` names no current one). The digests read the index (issue 13): at 100,000 briefs
a pass decodes only the briefs the digests show.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import corpus, corpus_options, machine, table, verdict
from bot.adapters.discord import poster
from bot.app import BriefBot
from bot.briefs.reloader import LiveLibrary
from bot.clock import Zone
from bot.settings import Settings
from bot.store.records import SlotState
from bot.store.sqlite import Store
from tests.digest.clock import FakeClock
from tests.fakediscord import FakeDiscord, RecordedRequest, run_client

TARGET_RATE = 45.0  # messages/s: 90% of Discord's global 50 requests/s
GLOBAL_LIMIT = 50
# The bot process (here with the fake Discord in it) at a 100,000-brief library (issue 13).
TARGET_RSS_MB = 150
# Thursday 5 March 2026: subscribed at 07:00, every digest due at 08:00 UTC.
START = dt.datetime(2026, 3, 5, 7, 0, tzinfo=dt.UTC)
DUE_TIME = dt.time(8, 0)
DUE = dt.datetime.combine(START.date(), DUE_TIME, tzinfo=dt.UTC)
FIRST_CHANNEL = 1_300_000_000_000_000_000  # snowflake-sized ids the fake treats as text channels
SUBSCRIBER = 4242
CREATE_ROUTE = "/channels/{channel_id}/messages"
RETRIES = dt.timedelta(minutes=30)  # fake time after the pass for failed sends to be retried


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux /proc; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssSampler:
    """The peak resident memory of this process while a block runs, sampled every 20 ms."""

    def __init__(self) -> None:
        self.start = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> RssSampler:
        self.start = self.peak = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


async def scheduler_idle(clock: FakeClock, seconds: float) -> None:
    """Wait until the scheduler has finished its pass and sleeps on the clock."""
    deadline = time.monotonic() + seconds
    while not clock.sleepers:
        if time.monotonic() > deadline:
            raise TimeoutError("the digest scheduler never went to sleep")
        await asyncio.sleep(0.01)


class Failures(logging.Handler):
    """Counts the scheduler's failed sends (logged at ERROR, retried later) without the noise."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)


def created(requests: list[RecordedRequest]) -> list[RecordedRequest]:
    """Message-create requests that made a new message (not 429s, faults or nonce replays)."""
    return [
        r
        for r in requests
        if r.method == "POST"
        and r.route == CREATE_ROUTE
        and 200 <= r.status < 300
        and r.reached_handler
        and not r.deduplicated
    ]


async def run(args: argparse.Namespace, root: Path, live: LiveLibrary) -> dict[str, Any]:
    """Subscribe, fan out once, and count what the fake created."""
    # The pass takes minutes of real time while the fake clock stands still: let `set` wait.
    clock = FakeClock(START, settle_timeout=args.timeout)
    failures = Failures()
    scheduler_log = logging.getLogger("bot.digest.scheduler")
    scheduler_log.addHandler(failures)
    scheduler_log.propagate = False  # one traceback per failed send would bury the table
    channels = [FIRST_CHANNEL + i for i in range(args.channels)]
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "briefbot.sqlite3"
        async with await Store.open(db, clock=clock) as store:
            async with FakeDiscord(validate=args.validate) as fake:
                started = time.perf_counter()
                for channel in channels:
                    await store.upsert_subscription(
                        guild_id=fake.guild_id,
                        channel_id=channel,
                        local_time=DUE_TIME,
                        timezone=Zone.named("UTC"),
                        created_by=SUBSCRIBER,
                    )
                if args.returning:
                    # Every channel already had every brief but the newest few: a daily digest,
                    # not the first one (see --help).
                    # Ids from the index's heads: the bench must not decode every brief itself.
                    old = [head.id for head, _, _ in live.current().heads(args.returning)]
                    for channel in channels:
                        await store.mark_sent(channel, old)
                subscribe_s = time.perf_counter() - started
                settings = Settings(
                    briefs_dir=root,
                    dev_guild_id=fake.guild_id,
                    reload_seconds=0,
                    database=db,
                    send_rate=args.pace,
                )
                bot = BriefBot(settings=settings, library=live, store=store, clock=clock)
                async with run_client(bot, fake):
                    await scheduler_idle(clock, args.timeout)  # the start-up pass: nothing due
                    limiter = fake.enable_rate_limits()
                    since = len(fake.requests())
                    started = time.perf_counter()
                    with RssSampler() as rss:
                        await clock.set(DUE)  # returns once the pass is over and the loop sleeps
                    pass_s = time.perf_counter() - started
                    requests = fake.requests()[since:]
                    rate_limited = limiter.hits
                    failed = len(failures.records)
                    # Failed sends are retried a minute later (fake time): let that happen too,
                    # so exactly-once is checked through the retries as well.
                    await clock.advance(RETRIES)
                    retried = fake.requests()[since:]
                    slots = Counter(
                        slot.state if slot else None
                        for slot in [await store.get_slot(c, DUE.date()) for c in channels]
                    )
                violations = [str(v) for v in fake.violations]
    made = created(requests)
    times = sorted(r.at for r in made)
    lost, duplicates, pages = tally(made, channels)
    lost_after, duplicates_after, _ = tally(created(retried), channels)
    return {
        "subscribe_s": subscribe_s,
        "pass_s": pass_s,
        "messages": len(made),
        "send_window_s": times[-1] - times[0] if len(times) > 1 else 0.0,
        "lost": lost,
        "duplicates": duplicates,
        "lost_after": lost_after,
        "duplicates_after": duplicates_after,
        "pages": pages,
        "failed": failed,
        "replays": sum(1 for r in retried if r.deduplicated),
        "requests": len(requests),
        "rate_limited": rate_limited,
        "peak_1s": peak(times),
        "slots": slots,
        "violations": violations,
        "first_failure": failures.records[0].getMessage() if failures.records else None,
        "rss_before_mb": rss.start,
        "rss_pass_peak_mb": rss.peak,
        "rss_max_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def tally(made: list[RecordedRequest], channels: list[int]) -> tuple[int, int, int]:
    """Channels with no message, channels with a page created twice, and pages per digest."""
    per_channel = Counter(int(r.path.split("/")[2]) for r in made)
    per_nonce = Counter((int(r.path.split("/")[2]), str(r.json.get("nonce"))) for r in made)
    nonces = Counter(channel for channel, _ in per_nonce)
    lost = sum(1 for c in channels if per_channel[c] == 0)
    # More messages than distinct nonces: some page of the digest was created twice.
    duplicates = sum(1 for c in channels if per_channel[c] > nonces[c])
    return lost, duplicates, max(nonces.values(), default=0)


def peak(times: list[float]) -> int:
    """The most creations the fake saw in any one-second window."""
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--channels", type=int, default=10_000)
    corpus_options(parser, briefs=200)
    parser.add_argument(
        "--returning",
        type=int,
        default=0,
        metavar="NEW",
        help="channels already had all but the NEW newest briefs (default 0: first digests)",
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=poster.DIGEST_REQUESTS_PER_SECOND,
        help="the poster's requests/s (0: unpaced, as discord.py alone would send)",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="real seconds for the pass")
    parser.add_argument(
        "--validate",
        action="store_true",
        help="keep the fake's OpenAPI/docs validation of every message body (off by default)",
    )
    parser.add_argument(
        "--index",
        type=Path,
        default=None,
        help="the brief index file to use and keep (default: a private one, built each run)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # discord.py warns once per 429 and about voice; the 429s are counted by the fake instead.
    logging.getLogger("discord").setLevel(logging.ERROR)

    root = corpus(args.briefs, args.corpus, args.speakers, args.topics)
    started = time.perf_counter()
    live = LiveLibrary(root, args.index)
    print(f"library ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    # The bot builds its poster in setup_hook, from this default.
    poster.DIGEST_REQUESTS_PER_SECOND = args.pace
    result = asyncio.run(run(args, root, live))

    rate = result["messages"] / result["pass_s"] if result["pass_s"] else 0.0
    window_rate = (
        (result["messages"] - 1) / result["send_window_s"] if result["send_window_s"] else 0.0
    )
    sent = result["slots"].get(SlotState.SENT, 0)
    minutes = int(RETRIES.total_seconds() // 60)
    dup, lost, fast = result["duplicates"], result["lost"], rate >= TARGET_RATE
    dup_after, lost_after = result["duplicates_after"], result["lost_after"]
    rows = [
        ["channels", str(args.channels), "", ""],
        ["messages created", str(result["messages"]), "", ""],
        ["pass time s", f"{result['pass_s']:.1f}", "", ""],
        ["messages/s (whole pass)", f"{rate:.1f}", f"≥ {TARGET_RATE:g}", verdict(fast)],
        ["messages/s (first → last create)", f"{window_rate:.1f}", "", ""],
        ["peak creates in any 1 s", str(result["peak_1s"]), f"≤ {GLOBAL_LIMIT}", ""],
        ["duplicates (channels)", str(dup), "0", verdict(not dup)],
        ["lost (channels)", str(lost), "0", verdict(not lost)],
        ["429s answered by the fake", str(result["rate_limited"]), "", ""],
        ["requests during the pass", str(result["requests"]), "", ""],
        ["sends failed in the pass (retried)", str(result["failed"]), "", ""],
        [f"duplicates after {minutes} min of retries", str(dup_after), "0", verdict(not dup_after)],
        [f"lost after {minutes} min of retries", str(lost_after), "0", verdict(not lost_after)],
        ["nonce replays (deduplicated)", str(result["replays"]), "", ""],
        ["slots sent in the database", str(sent), str(args.channels), ""],
        ["RSS when the pass starts MB", f"{result['rss_before_mb']:.0f}", "", ""],
        [
            "peak RSS during the pass MB",
            f"{result['rss_pass_peak_mb']:.0f}",
            f"≤ {TARGET_RSS_MB}",
            verdict(result["rss_pass_peak_mb"] <= TARGET_RSS_MB),
        ],
        ["peak RSS of the process MB (ru_maxrss)", f"{result['rss_max_mb']:.0f}", "", ""],
    ]
    missed = any(row[3] == "MISS" for row in rows)
    kind = (
        f"returning channels, {args.returning} new briefs each"
        if args.returning
        else "first digests, the older briefs archived by a cutoff"
    )
    pacing = f"{args.pace:g} requests/s" if args.pace > 0 else "OFF"
    print(machine())
    print(
        f"digest to {args.channels} channels from {len(live.current().briefs)} briefs ({root}): "
        f"{kind}, {result['pages']} page(s) each; set up via the Store in "
        f"{result['subscribe_s']:.1f} s"
    )
    print(
        "fake rate limits ON (50/s global + per-route buckets); fake spec validation "
        f"{'ON' if args.validate else 'OFF'}; poster pacing {pacing}"
    )
    print(table(["metric", "value", "target", "result"], rows))
    others = {str(k): v for k, v in result["slots"].items() if k is not SlotState.SENT}
    if others:
        print(f"slots not sent: {others}")
    if result["first_failure"]:
        print(f"first failed send: {result['first_failure']}")
    for line in result["violations"][:10]:
        print(f"VIOLATION {line}")
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
