"""Replies about digest subscriptions: confirmations, a channel's status, a server's list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from bot.clock import Zone, format_time
from bot.reply import Item, Reply, Section, Status
from bot.store.records import Slot, SlotState, Subscription
from bot.text import plural


def _local(when: dt.datetime, zone: Zone) -> str:
    # A key this host's tzdata lacks is not scheduled (see the scheduler), but a reply must
    # still be given: the instant in UTC, labelled UTC.
    local = when.astimezone(zone.rules or dt.UTC)
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


def _schedule(sub: Subscription, labels: Mapping[str, str]) -> str:
    topics = ", ".join(labels.get(t, t) for t in sub.topics) if sub.topics else "all topics"
    return f"Daily at {format_time(sub.local_time)} ({sub.timezone.key}) · {topics}"


def subscribed(sub: Subscription, next_run: dt.datetime | None, labels: Mapping[str, str]) -> Reply:
    """Confirmation after /digest subscribe."""
    lines = [_schedule(sub, labels)]
    if next_run is not None:
        lines.append(f"Next digest: {_local(next_run, sub.timezone)}")
    lines.append(
        "A channel's first digest shows the latest briefs; after that only newer briefs it "
        "has not had yet are posted. An empty digest is skipped."
    )
    return Reply("Daily digest subscribed", description="\n".join(lines), private=True)


def unsubscribed(removed: bool) -> Reply:
    """Confirmation after /digest unsubscribe."""
    if removed:
        return Reply(
            "Daily digest cancelled",
            description="This channel will get no more digests.",
            private=True,
        )
    return Reply(
        "Not subscribed",
        Status.NOT_FOUND,
        description="This channel has no digest subscription. Use /digest subscribe to add one.",
        private=True,
    )


def _last(slot: Slot | None, zone: Zone) -> str:
    if slot is None or slot.finished_at is None:
        return "Last digest: none yet"
    when = _local(slot.finished_at, zone)
    if slot.state is SlotState.SENT:
        return f"Last digest: {when} ({plural(len(slot.brief_ids), 'brief')})"
    return f"Last digest: skipped {_skip(slot)}"


def _skip(slot: Slot) -> str:
    return f"{slot.local_date.isoformat()}: {slot.reason or 'no reason'}"


def status(
    sub: Subscription | None,
    next_run: dt.datetime | None,
    last: Slot | None,
    labels: Mapping[str, str],
    skipped: Slot | None = None,
) -> Reply:
    """A channel's digest schedule, next and last post, and why it is paused if it is.

    `skipped` is the channel's latest skipped digest: shown when it is newer than `last`, so a
    missed day (bot down past the grace window, nothing new) is never silent.
    """
    if sub is None:
        return Reply(
            "No daily digest here",
            Status.NOT_FOUND,
            description="This channel is not subscribed. Someone with Manage Channels can run "
            "/digest subscribe.",
            private=True,
        )
    lines = [_schedule(sub, labels)]
    if sub.enabled:
        lines.append(
            f"Next digest: {_local(next_run, sub.timezone)}" if next_run else "Next digest: —"
        )
        if next_run is None and sub.timezone.rules is None:
            lines.append(
                f"The time zone {sub.timezone.key} is not known to this bot's time-zone data, so "
                "no digest is scheduled: run /digest subscribe with another zone."
            )
    else:
        lines.append(f"Paused: {sub.disabled_reason or 'disabled'}")
        lines.append("Fix the bot's access to this channel, then run /digest subscribe again.")
    lines.append(_last(last, sub.timezone))
    if skipped is not None and (last is None or skipped.local_date > last.local_date):
        lines.append(f"Skipped {_skip(skipped)}")
    return Reply(
        "Daily digest" if sub.enabled else "Daily digest (paused)",
        Status.OK if sub.enabled else Status.INVALID,
        description="\n".join(lines),
        private=True,
    )


def server_list(subs: Sequence[Subscription], labels: Mapping[str, str]) -> Reply:
    """Every subscription in a server, paused ones with their reason."""
    if not subs:
        return Reply(
            "No digest subscriptions",
            Status.NOT_FOUND,
            description="No channel in this server gets the daily digest yet.",
            private=True,
        )
    items = tuple(
        Item(
            _schedule(s, labels),
            label=f"<#{s.channel_id}>" + ("" if s.enabled else " (paused)"),
            detail=None if s.enabled else f"Paused: {s.disabled_reason or 'disabled'}",
        )
        for s in subs
    )
    return Reply(
        f"Digest subscriptions ({len(subs)})",
        sections=(Section("Channels", items),),
        private=True,
    )


def schedule_error(message: str, suggestions: Sequence[str], examples: str) -> Reply:
    """A bad time or time zone, with what would work."""
    return Reply(
        "That schedule is not valid",
        Status.INVALID,
        description=f"{message}\nExamples: {examples}.",
        suggestions=tuple(suggestions),
        private=True,
    )


def unknown_topic(message: str, suggestions: Sequence[str]) -> Reply:
    """A topic name the vocabulary does not know, with close ones."""
    return Reply(
        "Unknown topic",
        Status.NOT_FOUND,
        description=message,
        suggestions=tuple(suggestions),
        private=True,
    )
