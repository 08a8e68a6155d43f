"""/reload's answer: what changed and what is broken, for the admin who asked.

That /reload is refused at run time without Manage Server, and shows a broken file, is tested
end to end in tests/commands/test_briefs_e2e.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.briefs.reloader import LiveLibrary
from bot.queries.reload import reload, reload_reply
from bot.reply import Status
from tests.conftest import BRIEF


def save_later(path: Path, text: str) -> None:
    """Write, with the mtime moved on as an editor saving a second later would."""
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


async def test_nothing_changed_says_so(briefs_dir: Path) -> None:
    reply = await reload(LiveLibrary(briefs_dir))
    assert reply.ok and reply.sections == ()
    assert reply.description == "1 brief live. Nothing changed."


async def test_added_removed_and_updated_briefs_are_listed(briefs_dir: Path) -> None:
    for name in ("a", "b", "gone"):
        (briefs_dir / f"{name}.yaml").write_text(BRIEF.replace("id: council-budget", f"id: {name}"))
    live = LiveLibrary(briefs_dir)
    (briefs_dir / "gone.yaml").unlink()
    save_later(briefs_dir / "council.yaml", BRIEF.replace("title: Council", "title: City council"))
    for name in ("new-one", "new-two"):
        (briefs_dir / f"{name}.yaml").write_text(BRIEF.replace("id: council-budget", f"id: {name}"))
    reply = reload_reply(await live.reload())
    assert reply.ok
    assert reply.description == "5 briefs live."
    (changes,) = reply.sections
    assert changes.heading == "Changes"
    assert [(i.label, i.text) for i in changes.items] == [
        ("Added", "new-one, new-two"),
        ("Removed", "gone"),
        ("Updated", "council-budget"),
    ]


async def test_broken_files_are_listed_and_the_answer_is_marked(briefs_dir: Path) -> None:
    live = LiveLibrary(briefs_dir)
    (briefs_dir / "broken.yaml").write_text("id: broken\ntitle: [unclosed\n")
    save_later(briefs_dir / "council.yaml", BRIEF.replace("summary:", "summary: [broken"))
    reply = reload_reply(await live.reload())
    assert reply.status is Status.INVALID
    assert reply.description == "1 brief live. Nothing changed."
    (errors,) = reply.sections
    assert errors.heading == "Errors (2): last good versions stay live"
    shown = [i.text for i in errors.items]
    assert [e.split(": ")[0] for e in shown] == [
        f"{briefs_dir / 'broken.yaml'}:3",
        f"{briefs_dir / 'council.yaml'}:10",
    ]
    assert all(": (file): YAML syntax error" in e for e in shown)
