"""Poll N feeds × M entries on a local server: time, requests and drafts per minute.

    python -m bench.feeds [--feeds 200] [--entries 20] [--host-interval 0] [--concurrency 8]

Every feed lives on its own host name (all mapped to 127.0.0.1 and allow-listed), its article
pages on the same host. The first pass drafts every entry (fetch the page, extract its text
as ingest does, draft it through the ingest engine, count it); the second pass finds every
feed unchanged (conditional GET, 304, no drafts). `--host-interval` is the per-host spacing: 0 measures the poller itself; the bot's
default, 2 s, makes each feed's 1 + M requests take at least 2·M seconds however fast it is.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import email.utils
import hashlib
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

from aiohttp import web

from bench.common import machine, table
from bot.briefs.loader import load_vocabulary
from bot.clock import SystemClock
from bot.feeds.draft import EngineDrafter, FeedDraft
from bot.feeds.poller import FeedPoller
from bot.ingest.fetch import Fetcher
from bot.store.feeds import Feed
from bot.store.sqlite import Store
from tests.ingest.fetch_helpers import MapResolver

DEVSET = Path(__file__).resolve().parents[1].parent / "shared" / "ingest-devset"
VOCABULARY = Path(__file__).resolve().parents[1] / "briefs" / "topics.yaml"
PAGE_NAMES = ("ars-1", "herald-sun-1", "wapo-2", "webmd-1")


def pages() -> list[bytes]:
    """Real news pages from the dev set, or a synthetic article when it is absent."""
    found = [
        (DEVSET / name / "source.html").read_bytes()
        for name in PAGE_NAMES
        if (DEVSET / name / "source.html").is_file()
    ]
    if found:
        return found
    paragraph = "<p>" + "The council met on Tuesday and approved the budget. " * 12 + "</p>"
    return [f"<html><body><article><h1>Story</h1>{paragraph * 8}</article></body></html>".encode()]


def feed_body(host: str, port: int, feed: int, entries: int) -> bytes:
    start = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    items = []
    for n in range(entries):
        link = f"http://{host}:{port}/story/{feed}/{n}"
        items.append(
            f"<item><title>Feed {feed} story {n}</title><link>{escape(link)}</link>"
            f'<guid isPermaLink="false">f{feed}-s{n}</guid>'
            f"<pubDate>{email.utils.format_datetime(start - dt.timedelta(hours=n))}</pubDate>"
            f"<description>Story {n} of feed {feed}.</description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {feed}</title>{''.join(items)}</channel></rss>"
    ).encode()


class CountingSink:
    """Counts drafts (the sink's own cost, a store row or a file, is not what is measured)."""

    def __init__(self) -> None:
        self.drafts = 0

    async def submit(self, feed: Feed, draft: FeedDraft) -> str:
        self.drafts += 1
        return f"d{self.drafts}"

    async def notify(self, feed: Feed, message: str) -> None:
        print(f"notice: {message}", file=sys.stderr)


async def main_async(args: argparse.Namespace) -> int:
    bodies = pages()
    requests = {"feed": 0, "page": 0, "304": 0}

    async def handle(request: web.Request) -> web.StreamResponse:
        parts = request.path.strip("/").split("/")
        if parts[0] == "feed":
            requests["feed"] += 1
            body = feed_body(request.host.split(":")[0], port, int(parts[1]), args.entries)
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if request.headers.get("If-None-Match") == etag:
                requests["304"] += 1
                return web.Response(status=304, headers={"ETag": etag})
            return web.Response(
                body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"}
            )
        requests["page"] += 1
        page = bodies[(int(parts[1]) + int(parts[2])) % len(bodies)]
        return web.Response(body=page, content_type="text/html")

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    hosts = [f"feed{n}.bench.test" for n in range(args.feeds)]
    resolver = MapResolver({h: ["127.0.0.1"] for h in hosts})
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            clock = SystemClock()
            async with (
                Fetcher(
                    private_hosts=hosts, resolver=resolver, host_interval=args.host_interval
                ) as fetcher,
                await Store.open(Path(tmp) / "bench.sqlite3", clock=clock) as store,
            ):
                for n, host in enumerate(hosts):
                    await store.add_feed(
                        guild_id=1,
                        url=f"http://{host}:{port}/feed/{n}",
                        topics=(),
                        interval=dt.timedelta(minutes=15),
                        created_by=1,
                    )
                sink = CountingSink()
                vocabulary = load_vocabulary(VOCABULARY)
                poller = FeedPoller(
                    store,
                    fetcher,
                    sink,
                    clock=clock,
                    # The ingest engine, as the bot drafts: page → text → quotes, claims.
                    drafter=EngineDrafter(lambda: vocabulary),
                    burst=args.entries,
                    concurrency=args.concurrency,
                )
                for name in ("first poll (all new)", "second poll (unchanged)"):
                    before = dict(requests)
                    drafts_before = sink.drafts
                    feeds = await store.all_feeds()
                    started = time.perf_counter()
                    reports = await poller.poll_many(feeds)
                    seconds = time.perf_counter() - started
                    drafted = sink.drafts - drafts_before
                    sent = sum(requests[k] - before[k] for k in ("feed", "page"))
                    failed = sum(not r.ok for r in reports)
                    rows.append(
                        [
                            name,
                            f"{seconds:.1f}",
                            str(sent),
                            str(requests["304"] - before["304"]),
                            str(drafted),
                            f"{drafted / seconds * 60:.0f}" if seconds else "-",
                            str(failed),
                        ]
                    )
    finally:
        await runner.cleanup()
    print(machine())
    print(
        f"{args.feeds} feeds × {args.entries} entries, host interval {args.host_interval:g} s, "
        f"{args.concurrency} feeds at once, {len(bodies)} distinct article pages"
    )
    print(
        table(
            ["pass", "seconds", "requests", "304s", "drafts", "drafts/min", "failed feeds"],
            rows,
        )
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--host-interval", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=8)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
