"""Replies about digest subscriptions: confirmations, status, the delivery log, a server's list.

Every moment is a timestamp (`bot.reply.timestamp`): Discord shows it in each reader's own zone,
the console in the channel's (`Reply.zone`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.clock import format_time
from bot.digest.schedule import describe_days
from bot.digest.scheduler import is_gone
from bot.reply import Item, Reply, Section, Status, timestamp
from bot.store.records import ChannelKind, PauseKind, Slot, SlotState, Subscription
from bot.text import clip, plural

NOT_SUBSCRIBED = (
    "This channel is not subscribed. Someone with Manage Channels can run /digest subscribe."
)


def _when(moment: dt.datetime) -> str:
    return timestamp(moment, "f")


def _schedule(sub: Subscription, labels: Mapping[str, str]) -> str:
    topics = ", ".join(labels.get(t, t) for t in sub.topics) if sub.topics else "all topics"
    days = describe_days(sub.days)
    when = "Daily" if days == "every day" else days[0].upper() + days[1:]
    times = ", ".join(format_time(t) for t in sub.slot_times)
    return f"{when} at {times} ({sub.timezone.key}) · {topics}"


def _options(sub: Subscription) -> list[str]:
    lines = []
    if sub.kind is ChannelKind.FORUM:
        lines.append("Each digest is a new post in this forum.")
    if sub.kind is ChannelKind.ANNOUNCEMENT and sub.publish:
        lines.append("Each digest is published to the channels following this one.")
    if sub.mention_role_id is not None:
        lines.append(f"Mentions <@&{sub.mention_role_id}>.")
    if not sub.quiet:
        lines.append("On a day with nothing new it says so (quiet:false).")
    return lines


def _roles(sub: Subscription) -> tuple[int, ...]:
    """The role a subscription's replies name (shown as the role on Discord)."""
    return (sub.mention_role_id,) if sub.mention_role_id is not None else ()


def _next(upcoming: Sequence[dt.datetime]) -> list[str]:
    if not upcoming:
        return ["Next digest: —"]
    first, *then = upcoming
    lines = [f"Next digest: {_when(first)} ({timestamp(first, 'R')})"]
    if then:
        lines.append("Then: " + "; ".join(_when(u) for u in then))
    return lines


def subscribed(
    sub: Subscription, upcoming: Sequence[dt.datetime], labels: Mapping[str, str]
) -> Reply:
    """Confirmation after /digest subscribe."""
    lines = [_schedule(sub, labels), *_options(sub), *_next(upcoming)]
    lines.append(
        "A channel's first digest shows the latest briefs; after that each digest brings the "
        "briefs that are new since the previous one. "
        + ("An empty digest is skipped." if sub.quiet else "")
    )
    return Reply(
        "Digest subscribed",
        description="\n".join(lines).strip(),
        private=True,
        zone=sub.timezone.key,
        roles=_roles(sub),
    )


def unsubscribed(removed: bool) -> Reply:
    """Confirmation after /digest unsubscribe."""
    if removed:
        return Reply(
            "Digest cancelled",
            description="This channel will get no more digests.",
            private=True,
        )
    return Reply(
        "Not subscribed",
        Status.NOT_FOUND,
        description="This channel has no digest subscription. Use /digest subscribe to add one.",
        private=True,
    )


def not_subscribed() -> Reply:
    """The channel has no subscription."""
    return Reply("No digest here", Status.NOT_FOUND, description=NOT_SUBSCRIBED, private=True)


def _last(slot: Slot | None) -> str:
    if slot is None or slot.finished_at is None:
        return "Last digest: none yet"
    if slot.state is SlotState.SENT:
        return f"Last digest: {_when(slot.finished_at)} ({plural(len(slot.brief_ids), 'brief')})"
    return f"Last digest: skipped {_skip(slot)}"


def _slot_name(slot: Slot) -> str:
    return f"{slot.local_date.isoformat()} {format_time(slot.slot_time)}"


def _skip(slot: Slot) -> str:
    return f"{_slot_name(slot)}: {slot.reason or 'no reason'}"


def _pause_lines(sub: Subscription) -> list[str]:
    lines = [f"Paused: {sub.disabled_reason or 'paused'}"]
    if sub.pause_kind is PauseKind.MEMBER:
        if sub.paused_until is not None:
            lines.append(
                f"It resumes on {sub.paused_until.isoformat()}, or now with /digest resume."
            )
        else:
            lines.append("Run /digest resume to resume; every setting is kept.")
    else:
        lines.append(
            "Fix the bot's access to this channel, then run /digest resume: it checks the "
            "bot's permissions first and names any that are missing."
        )
    return lines


def status(
    sub: Subscription | None,
    upcoming: Sequence[dt.datetime],
    last: Slot | None,
    labels: Mapping[str, str],
    skipped: Slot | None = None,
) -> Reply:
    """A channel's schedule, next three slots, last post, and why it is paused if it is.

    `skipped` is the channel's latest skipped slot: shown when it is newer than `last`, so a
    missed slot (bot down past the grace window, nothing new) is never silent.
    """
    if sub is None:
        return not_subscribed()
    lines = [_schedule(sub, labels), *_options(sub)]
    if not sub.enabled:
        lines += _pause_lines(sub)
    if sub.enabled or upcoming:
        lines += _next(upcoming)
    if sub.enabled and not upcoming and sub.timezone.rules is None:
        lines.append(
            f"The time zone {sub.timezone.key} is not known to this bot's time-zone data, so "
            "no digest is scheduled: run /digest subscribe with another zone."
        )
    lines.append(_last(last))
    if skipped is not None and (
        last is None or (skipped.local_date, skipped.slot_time) > (last.local_date, last.slot_time)
    ):
        lines.append(f"Skipped {_skip(skipped)}")
    return Reply(
        "Digest" if sub.enabled else "Digest (paused)",
        Status.OK if sub.enabled else Status.INVALID,
        description="\n".join(lines),
        private=True,
        zone=sub.timezone.key,
        roles=_roles(sub),
    )


def server_list(subs: Sequence[Subscription], labels: Mapping[str, str]) -> Reply:
    """Every subscription in a server, paused ones with their reason."""
    if not subs:
        return Reply(
            "No digest subscriptions",
            Status.NOT_FOUND,
            description="No channel in this server gets the digest yet.",
            private=True,
        )
    items = tuple(
        Item(
            _schedule(s, labels),
            label=f"<#{s.channel_id}>" + ("" if s.enabled else " (paused)"),
            detail=None if s.enabled else _paused_detail(s),
        )
        for s in subs
    )
    return Reply(
        f"Digest subscriptions ({len(subs)})",
        sections=(Section("Channels", items),),
        private=True,
    )


def _paused_detail(sub: Subscription) -> str:
    detail = f"Paused: {sub.disabled_reason or 'paused'}"
    if is_gone(sub.disabled_reason):
        detail += f". Remove it with /digest unsubscribe channel:{sub.channel_id}"
    return detail


def gone_choice(sub: Subscription) -> str:
    """How a deleted channel's subscription is offered to /digest unsubscribe channel:."""
    return clip(f"{sub.channel_id} (deleted channel) · {sub.disabled_reason or ''}", 100)


def still_there(channel_id: int) -> Reply:
    """/digest unsubscribe channel: named a channel that still exists."""
    return refused(
        "That channel still exists",
        f"<#{channel_id}> has not been deleted: run /digest unsubscribe in it. "
        "channel: removes only the digest of a deleted channel (see /digest list).",
    )


def schedule_error(message: str, suggestions: Sequence[str], examples: str) -> Reply:
    """A bad time, day, date or time zone, with what would work."""
    return Reply(
        "That schedule is not valid",
        Status.INVALID,
        description=f"{message}\nExamples: {examples}.",
        suggestions=tuple(suggestions),
        private=True,
    )


def refused(title: str, message: str, roles: tuple[int, ...] = ()) -> Reply:
    """An option the member may not set, or a setting that cannot apply here; says why."""
    return Reply(title, Status.INVALID, description=message, private=True, roles=roles)


def unknown_topic(message: str, suggestions: Sequence[str]) -> Reply:
    """A topic name the vocabulary does not know, with close ones."""
    return Reply(
        "Unknown topic",
        Status.NOT_FOUND,
        description=message,
        suggestions=tuple(suggestions),
        private=True,
    )


DATABASE_ADVICE = (
    "Digests are on hold until an operator runs `briefbot db check` on the bot's host (and "
    "restores a backup if the database is damaged)."
)


def database_problem(detail: str) -> Reply:
    """The digest database cannot be read: say so instead of failing the command."""
    return Reply(
        "The digest database needs attention",
        Status.ERROR,
        description=f"{detail}\n{DATABASE_ADVICE}",
        private=True,
    )


def database_unavailable(detail: str) -> Reply:
    """The database server cannot be reached right now (PostgreSQL down or restarting)."""
    return Reply(
        "The digest database is temporarily unavailable",
        Status.ERROR,
        description=(
            f"{detail}\nDigests wait and catch up within the grace window once it is back; "
            "please try again in a minute."
        ),
        private=True,
    )


def with_database_problem(reply: Reply, detail: str) -> Reply:
    """A status reply with a warning that the last scheduler pass met a database fault."""
    warning = f"The digest database needs attention: {detail}. {DATABASE_ADVICE}"
    description = "\n".join(x for x in (warning, reply.description) if x)
    return replace(reply, description=description)


def paused(sub: Subscription) -> Reply:
    """Confirmation after /digest pause."""
    until = (
        f"until {sub.paused_until.isoformat()} (it resumes on its own that day)"
        if sub.paused_until
        else "until someone runs /digest resume"
    )
    return Reply(
        "Digest paused",
        description=f"No digests here {until}. Every setting is kept.",
        private=True,
    )


def resumed(sub: Subscription, upcoming: Sequence[dt.datetime], was_paused: bool) -> Reply:
    """Confirmation after /digest resume."""
    first = "Digest resumed." if was_paused else "This digest was not paused."
    lines = [first, _schedule_line(sub), *_next(upcoming)]
    return Reply(
        "Digest resumed" if was_paused else "Digest running",
        description="\n".join(lines),
        private=True,
        zone=sub.timezone.key,
    )


def _schedule_line(sub: Subscription) -> str:
    return _schedule(sub, {})


def resume_blocked(kind: ChannelKind, missing: Sequence[str]) -> Reply:
    """/digest resume found the bot still lacking permissions here."""
    names = ", ".join(missing)
    return Reply(
        "Still paused: the bot lacks permissions here",
        Status.INVALID,
        description=(
            f"The bot is missing {names} in this {kind.value} channel"
            if kind is not ChannelKind.TEXT
            else f"The bot is missing {names} in this channel"
        )
        + ". Grant it (channel settings → Permissions → the bot's role), then run "
        "/digest resume again.",
        private=True,
    )


def delivery_log(sub: Subscription, slots: Sequence[Slot]) -> Reply:
    """The channel's latest slots, newest first: posted (link), skipped (why), retried."""
    if not slots:
        return Reply(
            "Delivery log",
            description="No digest slot has come round yet. /digest status shows the next ones.",
            private=True,
        )
    items = tuple(_log_item(sub, slot) for slot in slots)
    return Reply(
        f"Delivery log — last {plural(len(slots), 'slot')}",
        description="Newest first. Kept for 90 days.",
        sections=(Section("Slots", items),),
        private=True,
        zone=sub.timezone.key,
    )


def _log_item(sub: Subscription, slot: Slot) -> Item:
    retried = (f" after {slot.attempts} attempts" if slot.attempts > 1 else "") + (
        f" (retried after: {slot.last_error})" if slot.last_error else ""
    )
    when = _when(slot.finished_at) if slot.finished_at else ""
    if slot.state is SlotState.SENT:
        where = slot.post_id or slot.channel_id
        link = (
            f"https://discord.com/channels/{sub.guild_id}/{where}"
            if sub.kind is ChannelKind.FORUM
            else f"https://discord.com/channels/{sub.guild_id}/{where}/{slot.message_id}"
        )
        count = plural(len(slot.brief_ids), "brief")
        return Item(f"Posted {count}{retried}: {link}", label=_slot_name(slot), detail=when)
    if slot.state is SlotState.SKIPPED:
        return Item(
            f"Skipped — {slot.reason or 'no reason'}{retried}", label=_slot_name(slot), detail=when
        )
    state = "Failed, being retried" if slot.last_error else "Sending"
    return Item(f"{state}{retried}", label=_slot_name(slot))


def notices_set(channel_id: int | None, dm: bool | None) -> Reply:
    """Confirmation after /digest notices."""
    lines = []
    if channel_id is not None:
        lines.append(f"Pause notices for this server go to <#{channel_id}>.")
    if dm is not None:
        lines.append(
            "The member who subscribed this channel gets a direct message when the bot pauses it "
            "(if the server has no notices channel)."
            if dm
            else "No direct message when the bot pauses this channel's digest."
        )
    if not lines:
        lines.append(
            "Give channel: (Manage Server) to send pause notices to a channel, or dm:false to "
            "stop direct messages about this channel."
        )
    return Reply("Digest notices", description="\n".join(lines), private=True)


def unmentioned(role_id: int | None) -> Reply:
    """Confirmation after /digest unmention."""
    text = (
        f"The digest here no longer mentions <@&{role_id}>."
        if role_id is not None
        else "The digest here mentions no role."
    )
    roles = (role_id,) if role_id is not None else ()
    return Reply("Digest mention removed", description=text, private=True, roles=roles)
