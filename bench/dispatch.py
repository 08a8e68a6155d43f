"""Per-command latency through discord.py's own dispatch, against the fake Discord.

    python -m bench.dispatch --briefs 10000 [--iterations 300] [--corpus DIR] [--validate]

Each sample is one interaction, from the fake sending INTERACTION_CREATE on the gateway to the
fake receiving the bot's callback POST (`InteractionRecord.dispatched_at` → `callback_at`):
gateway frame, discord.py parsing and dispatch, the command or autocomplete handler, rendering,
and the HTTP round trip into the fake. The baseline of each command is `/static`, registered in
the same bot: it sends a precomputed embed of the same size as that command's reply to the same
input (its first page, as the command sends), so the ratio is our own overhead (the query,
rendering, the pager), not the size of the answer. A bare `/ping` is shown too. Commands are interleaved in a fresh random order every round, after a
warm-up, with varied inputs drawn from the corpus. The handler-only columns time the query
functions directly (`bot.queries.*`, plus embed rendering for commands) on the same inputs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import logging
import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord

from bench.common import corpus, corpus_options, machine, percentile, table, verdict
from bot.adapters.discord.embeds import paginate
from bot.app import BriefBot
from bot.briefs.library import Library
from bot.briefs.reloader import LiveLibrary
from bot.queries import briefs, complete, quotes, search, topics
from bot.settings import Settings
from tests.fakediscord import FakeDiscord, run_client

TARGET_RATIO = 1.2  # command p50 / its static-embed baseline's p50
TARGET_AUTOCOMPLETE_P99_MS = 5.0  # for the handler (the query), not the network round trip
TARGET_COMMAND_P99_MS = 10.0  # handler p99 of every command
TARGET_SEARCH_P99_MS = 25.0
# Precomputed embeds /static sends, by key (filled as the cases are made).
STATIC: dict[str, discord.Embed] = {}
SEARCH_WORDS = (
    "minister talks trade security energy water climate border investment ports rail tariffs "
    "sanctions aid elections reform budget health schools agreement framework dialogue summit"
).split()


@dataclass(frozen=True)
class Case:
    """One interaction to send: which kind, the command and its options."""

    kind: str
    command: str
    options: dict[str, str]
    focused: str | None = None  # set for autocomplete


def _typo(text: str, rng: random.Random) -> str:
    """`text` with two neighbouring letters swapped (a typical slip)."""
    if len(text) < 4:
        return text + "x"
    i = rng.randrange(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _prefix(label: str, rng: random.Random) -> str:
    """What a user has typed so far: a prefix of 0–12 characters, now and then the whole label."""
    if rng.random() < 0.15:
        return label
    return label[: rng.randint(0, min(12, len(label)))]


class Inputs:
    """Realistic, varied inputs for every command, drawn from the library."""

    def __init__(self, library: Library, rng: random.Random, typos: float) -> None:
        self.rng = rng
        self.typos = typos  # share of command inputs misspelled (autocomplete usually prevents it)
        self.briefs = [head for head, _, _ in library.heads()]
        self.speakers = sorted(library.speakers)
        self.topics = list(library.vocabulary.topics)

    def _speaker(self) -> str:
        name = self.rng.choice(self.speakers)
        if self.rng.random() < self.typos:
            # A slip, or the name typed in quotes as on a command line: both miss every label.
            return _typo(name, self.rng) if self.rng.random() < 0.5 else f'"{name}"'
        roll = self.rng.random()
        if roll < 0.6:
            return name
        if roll < 0.8:
            return name.split()[-1]  # the surname alone
        return name.lower()

    def _topic(self) -> str:
        topic = self.rng.choice(self.topics)
        if self.rng.random() < self.typos:
            return _typo(topic.label, self.rng)
        return self.rng.choice([topic.label, topic.id, *topic.aliases])

    def _brief(self) -> str:
        brief = self.rng.choice(self.briefs)
        if self.rng.random() < self.typos:
            return _typo(brief.id, self.rng)
        # Picking an autocomplete choice sends the id; some paste the title.
        return brief.id if self.rng.random() < 0.75 else brief.title

    def _dates(self) -> dict[str, str]:
        """since and/or until around a brief's date: a week, a month, a year, or open-ended."""
        dated = [h.date.value for h in self.briefs if h.date.value is not None]
        if not dated:
            return {}
        start = self.rng.choice(dated)
        span = dt.timedelta(days=self.rng.choice([7, 31, 365]))
        roll = self.rng.random()
        if roll < 0.3:
            return {"since": start.isoformat()}
        if roll < 0.5:
            return {"until": start.isoformat()}
        return {"since": start.isoformat(), "until": (start + span).isoformat()}

    def case(self, kind: str) -> Case:  # noqa: PLR0912 - one branch per kind, flat on purpose
        """A fresh input for one kind of interaction."""
        rng = self.rng
        if kind == "/ping":
            return Case(kind, "ping", {})
        if kind == "/summary":
            return Case(kind, "summary", {} if rng.random() < 0.2 else {"brief": self._brief()})
        if kind == "/quotes":
            options = {"speaker": self._speaker()}
            if rng.random() < 0.15:
                options["brief"] = self._brief()
            return Case(kind, "quotes", options)
        if kind == "/topic":
            return Case(kind, "topic", {"name": self._topic()})
        if kind == "/briefs":
            return Case(kind, "briefs", {})
        if kind == "/search":
            words = rng.sample(SEARCH_WORDS, rng.randint(1, 2))
            roll = rng.random()
            if roll < 0.2:
                query = '"' + " ".join(words) + '"'
            elif roll < 0.35:
                query = words[0][:5] + "*"
            else:
                query = " ".join(words)
            options = {"query": query}
            # Filters, alone and together: a speaker, a topic, a date range.
            if rng.random() < 0.2:
                options["speaker"] = rng.choice(self.speakers)
            if rng.random() < 0.15:
                options["topic"] = self.rng.choice(self.topics).id
            if rng.random() < 0.2:
                options.update(self._dates())
            return Case(kind, "search", options)
        if kind == "speaker autocomplete":
            typed = _prefix(rng.choice(self.speakers), rng)
            if rng.random() < 0.2:
                typed = _prefix(rng.choice(self.speakers).split()[-1], rng)
            return Case(kind, "quotes", {"speaker": typed}, focused="speaker")
        if kind == "topic autocomplete":
            topic = rng.choice(self.topics)
            typed = _prefix(rng.choice([topic.label, topic.id, *topic.aliases]), rng)
            return Case(kind, "topic", {"name": typed}, focused="name")
        if kind == "brief autocomplete":
            brief = rng.choice(self.briefs)
            typed = _prefix(brief.title if rng.random() < 0.7 else brief.id, rng)
            command = "summary" if rng.random() < 0.6 else "quotes"
            return Case(kind, command, {"brief": typed}, focused="brief")
        raise ValueError(kind)


COMMANDS = ("/summary", "/quotes", "/topic", "/briefs", "/search")
KINDS = (
    "/ping",
    *COMMANDS,
    *(f"static {c}" for c in COMMANDS),
    "speaker autocomplete",
    "topic autocomplete",
    "brief autocomplete",
)


def handler(library: Library, case: Case) -> Callable[[], object] | None:
    """The bot's own work for `case` without discord.py: the query (and, for commands, the
    reply's layout and its first page, which is what the bot draws before answering)."""
    o = case.options
    if case.kind == "/summary":
        return lambda: paginate(briefs.summary(library, o.get("brief")))[0]
    if case.kind == "/quotes":
        return lambda: paginate(quotes.quotes(library, o["speaker"], o.get("brief")))[0]
    if case.kind == "/topic":
        return lambda: paginate(topics.topic(library, o["name"]))[0]
    if case.kind == "/briefs":
        return lambda: paginate(briefs.list_briefs(library))[0]
    if case.kind == "/search":
        return lambda: paginate(
            search.search(
                library,
                o["query"],
                o.get("speaker"),
                o.get("topic"),
                o.get("since"),
                o.get("until"),
            )
        )[0]
    if case.kind == "speaker autocomplete":
        return lambda: complete.speakers(library, o["speaker"])
    if case.kind == "topic autocomplete":
        return lambda: complete.topics(library, o["name"])
    if case.kind == "brief autocomplete":
        return lambda: complete.briefs(library, o["brief"])
    return None  # /ping has no query


def add_ping(bot: BriefBot) -> None:
    """Register a bare /ping on the bot's tree (before setup_hook syncs it): the baseline."""

    @bot.tree.command(name="ping", description="Latency baseline for the benchmark")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    @bot.tree.command(name="static", description="Baseline: a precomputed embed")
    async def static(interaction: discord.Interaction, key: str) -> None:
        await interaction.response.send_message(embed=STATIC[key])


def static_case(library: Library, case: Case, key: str) -> Case:
    """The baseline for a command case: an embed the size of its reply's first page."""
    call = handler(library, case)
    assert call is not None
    first = call()
    assert isinstance(first, discord.Embed)
    STATIC[key] = first
    return Case(f"static {case.kind}", "static", {"key": key})


async def send(fake: FakeDiscord, case: Case) -> dict[str, Any]:
    """Dispatch one interaction and wait for the bot's callback body."""
    if case.focused is not None:
        return await fake.autocomplete(case.command, case.options, focused=case.focused)
    return await fake.invoke(case.command, case.options)


def check(case: Case, body: dict[str, Any]) -> str | None:
    """Why the callback is not a proper answer, or None."""
    expected = 8 if case.focused is not None else 4
    if body.get("type") != expected:
        return f"{case.kind} {case.options}: callback type {body.get('type')}"
    content = str(body.get("data", {}).get("content") or "")
    if content.startswith("Something went wrong"):
        return f"{case.kind} {case.options}: {content}"
    return None


async def measure(args: argparse.Namespace, root: Path, live: LiveLibrary) -> dict[str, Any]:
    """Run the bot against the fake; end-to-end samples per kind, in ms, and errors."""
    rng = random.Random(args.seed)
    inputs = Inputs(live.current(), rng, args.typos)
    sent: list[Case] = []
    errors: list[str] = []
    async with FakeDiscord(validate=args.validate) as fake:
        settings = Settings(briefs_dir=root, dev_guild_id=fake.guild_id, reload_seconds=0)
        bot = BriefBot(settings=settings, library=live)
        add_ping(bot)
        async with run_client(bot, fake):
            for _ in range(args.warmup):
                for kind in KINDS:
                    if not kind.startswith("static"):
                        await send(fake, inputs.case(kind))
            warm = len(fake.interactions())
            # The warm-up's garbage is not the measurement's; later collections are (a real bot
            # pays for them too).
            gc.collect()
            for _ in range(args.iterations):
                cases = [inputs.case(k) for k in KINDS if not k.startswith("static")]
                cases += [
                    static_case(live.current(), c, f"{len(sent)}-{i}")
                    for i, c in enumerate(cases)
                    if c.kind in COMMANDS
                ]
                rng.shuffle(cases)  # interleaved, so drift and GC hit every command alike
                for case in cases:
                    problem = check(case, await send(fake, case))
                    if problem:
                        errors.append(problem)
                    sent.append(case)
            records = fake.interactions()[warm:]
        violations = [str(v) for v in fake.violations]
    assert len(records) == len(sent), (len(records), len(sent))
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for case, record in zip(sent, records, strict=True):
        assert record.callback_at is not None
        samples[case.kind].append((record.callback_at - record.dispatched_at) * 1000)
    return {"samples": samples, "cases": sent, "errors": errors, "violations": violations}


def handler_samples(
    library: Library, cases: list[Case], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Milliseconds per handler call on the same inputs the bot got, `rounds` times each: wall
    clock, and this thread's CPU time (on a shared machine the wall clock also counts the time
    the thread waited for a core)."""
    wall: dict[str, list[float]] = {kind: [] for kind in KINDS}
    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
    calls = [(case.kind, handler(library, case)) for case in cases]
    for _ in range(rounds):
        for kind, call in calls:
            if call is None:
                continue
            started, started_cpu = time.perf_counter(), time.thread_time()
            call()
            cpu[kind].append((time.thread_time() - started_cpu) * 1000)
            wall[kind].append((time.perf_counter() - started) * 1000)
    return wall, cpu


def search_floor(library: Library, cases: list[Case]) -> tuple[float, float]:
    """p50 ms of the barest FTS5 query for the /search inputs the bot got, ranked by FTS5's own
    bm25 and unranked: what any /search must at least do before it draws anything."""
    queries = [c.options["query"] for c in cases if c.kind == "/search"]
    db = sqlite3.connect(f"file:{library.index.path}?mode=ro", uri=True)
    try:
        result = []
        for order in ("ORDER BY rank", ""):
            statement = f"SELECT rowid FROM search WHERE search MATCH ? {order} LIMIT 10"
            samples = []
            for query in queries:
                started = time.perf_counter()
                db.execute(statement, (query,)).fetchall()
                samples.append((time.perf_counter() - started) * 1000)
            result.append(percentile(samples, 50))
        return result[0], result[1]
    finally:
        db.close()


def report(
    e2e: dict[str, list[float]], direct: dict[str, list[float]], cpu: dict[str, list[float]]
) -> tuple[list[list[str]], bool]:
    """Table rows, and whether any target was missed."""
    rows = []
    missed = False
    for kind in KINDS:
        p50, p99 = percentile(e2e[kind], 50), percentile(e2e[kind], 99)
        row = [kind, str(len(e2e[kind])), f"{p50:.2f}", f"{p99:.2f}"]
        if kind == "/ping" or kind.startswith("static") or kind.endswith("autocomplete"):
            row += ["-", "baseline" if kind.startswith("static") else "-", "-"]
        else:
            ratio = p50 / percentile(e2e[f"static {kind}"], 50)
            ok = ratio <= TARGET_RATIO
            missed |= not ok
            row += [f"{ratio:.2f}", f"≤ {TARGET_RATIO:g}x", verdict(ok)]
        if direct[kind]:
            h50, h99 = percentile(direct[kind], 50), percentile(direct[kind], 99)
            row += [f"{h50:.3f}", f"{h99:.3f}", f"{percentile(cpu[kind], 99):.3f}"]
        else:
            row += ["-", "-", "-"]
        target = (
            TARGET_AUTOCOMPLETE_P99_MS
            if kind.endswith("autocomplete")
            else TARGET_SEARCH_P99_MS
            if kind == "/search"
            else TARGET_COMMAND_P99_MS
            if kind in COMMANDS
            else None
        )
        if target is not None:
            ok = percentile(direct[kind], 99) <= target
            missed |= not ok
            row += [f"≤ {target:g}", verdict(ok)]
        else:
            row += ["-", "-"]
        rows.append(row)
    return rows, missed


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    corpus_options(parser)
    parser.add_argument("--iterations", type=int, default=300, help="samples per command")
    parser.add_argument("--warmup", type=int, default=20, help="rounds before measuring")
    parser.add_argument("--handler-rounds", type=int, default=3, help="direct calls per input")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--index", type=Path, help="index file (default: a temporary one)")
    parser.add_argument(
        "--typos",
        type=float,
        default=0.02,
        help="share of /summary, /quotes and /topic inputs that name nothing (did-you-mean path)",
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="keep the fake's OpenAPI/docs validation of every callback body (off by default: "
        "it is the fake's cost, not the bot's, and grows with the reply)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("discord.client").setLevel(logging.ERROR)  # no voice: not news here

    root = corpus(args.briefs, args.corpus, args.speakers, args.topics)
    load_before = os.getloadavg()
    started = time.perf_counter()
    live = LiveLibrary(root, args.index)
    library = live.current()
    loaded = time.perf_counter() - started
    result = asyncio.run(measure(args, root, live))
    direct, cpu = handler_samples(library, result["cases"], args.handler_rounds)
    rows, missed = report(result["samples"], direct, cpu)

    print(machine())
    # A shared machine: the load says how much of the wall clock was waiting for a core.
    print(
        "load average (1, 5, 15 min): "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + " at the start, "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
        + " at the end"
    )
    print(
        f"corpus: {len(library.briefs)} briefs, {len(library.speakers)} speakers, "
        f"{len(library.vocabulary.topics)} topics ({root}; loaded in {loaded:.1f} s)"
    )
    print(
        f"{args.iterations} samples per command after {args.warmup} warm-up rounds, interleaved; "
        f"{args.typos:.0%} of command inputs misspelled (did-you-mean path); "
        f"fake spec validation {'ON' if args.validate else 'OFF'}"
    )
    print(
        "end to end = fake sends INTERACTION_CREATE → fake receives the callback POST; "
        "handler = the bot.queries call (+ embed rendering for commands), timed directly "
        "(cpu: the same calls' thread CPU time, which leaves out waiting for a core); "
        "static = the same bot sending a precomputed embed the size of the command's reply"
    )
    headers = ["interaction", "n", "e2e p50 ms", "e2e p99 ms", "p50 / static p50", "target"]
    headers += ["result", "handler p50 ms", "handler p99 ms", "cpu p99 ms"]
    headers += ["handler p99 target", "result"]
    print(table(headers, rows))
    statics = [x for c in COMMANDS for x in result["samples"][f"static {c}"]]
    budget = (TARGET_RATIO - 1) * percentile(statics, 50)
    ranked, unranked = search_floor(library, result["cases"])
    print(
        f"{TARGET_RATIO:g}x the static p50 leaves {budget:.3f} ms for a command's own work "
        f"(query, reply, layout, page 1, pager). The barest FTS5 query for the same /search "
        f"inputs, nothing drawn: {ranked:.3f} ms p50 ranked by FTS5's bm25, {unranked:.3f} ms "
        "unranked (LIMIT 10)."
    )
    for line in result["errors"][:10]:
        print(f"ERROR {line}")
    for line in result["violations"][:10]:
        print(f"VIOLATION {line}")
    if result["errors"]:
        print(f"{len(result['errors'])} interactions were not answered properly")
        return 1
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
