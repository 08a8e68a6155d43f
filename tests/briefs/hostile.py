"""Hostile briefs folders, and a driver that runs one entry point on one in its own process.

`python -m tests.briefs.hostile MODE TOP CASE… [--as-nobody]` writes a valid briefs folder per
case under TOP, adds the case's hostile entry, and runs MODE on it, printing one JSON line per
case:

- `check`: `briefbot check ROOT` (exit code and output as the console script's);
- `ask`: `briefbot ask "/quotes speaker:Doe" --briefs ROOT`;
- `load`: the loader: the served ids and errors;
- `reload`: the live reloader: starts on the valid folder, then the hostile entry and a new good
  brief (`later.yaml`) land while the watcher runs; prints what it serves once the watcher has
  seen them, and what an explicit `/reload` then reports (all cases at once, in one loop).

With `--as-nobody` the process gives up root (after importing everything it needs) before
touching the folder: root reads `chmod 000` files, so permission cases need another user.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import pwd
import socket
import stat
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import thread as _thread  # noqa: F401 - imported before dropping root
from dataclasses import dataclass
from pathlib import Path

from bot import cli
from bot.adapters import text as _text  # noqa: F401 - as above
from bot.briefs.library import load_library
from bot.briefs.reloader import LiveLibrary
from bot.queries import dispatch as _dispatch  # noqa: F401 - as above
from tests.conftest import BRIEF, SOURCE, write_briefs

SECRET = "SECRET-7f3a9c-TOKEN"
# What a secret file outside the folder holds: YAML whose keys and values would be echoed by a
# loader that read it (a brief-shaped mapping with extra keys).
SECRET_YAML = f"id: leaked\n{SECRET}-key: {SECRET}-value\ntitle: {SECRET}\n"
ADVERSARIAL = ["a" * 40 + "!", "x" * 40, "a" * 30 + "b" * 30 + "!", ("a" * 25 + "!") * 4]
CATASTROPHIC = [r"^(a+)+$", r"(x+x+)+y", r"(a|aa)+$", r"(.*a){20}"]
LATER = BRIEF.replace("id: council-budget", "id: later")


def brief(brief_id: str, **replace: str) -> str:
    """The council brief under another id, with text replaced."""
    text = BRIEF.replace("id: council-budget", f"id: {brief_id}")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def with_source(brief_id: str, source: str) -> str:
    return brief(brief_id, **{"sources/council.txt": source})


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _outside(root: Path) -> Path:
    """A folder beside the briefs folder (outside it), holding a secret file."""
    outside = root.parent / "outside"
    outside.mkdir(exist_ok=True)
    secret = outside / "secret.yaml"
    _write(secret, SECRET_YAML)
    _write(outside / "secret.txt", f"{SECRET}\nThis budget keeps the buses running\n")
    return outside


@dataclass(frozen=True)
class Case:
    """One hostile entry in an otherwise valid briefs folder."""

    build: Callable[[Path], None]
    # The path named by the one error the case must cause (relative to the folder; "." is the
    # folder itself), and a fragment of that error; "" when the case must cause no error.
    bad: str
    message: str
    # The case blocks every brief (the vocabulary or the folder itself is unreadable): nothing
    # is served at start, and a running bot keeps what it had.
    blocks_all: bool = False
    # Ids served besides council-budget.
    also: tuple[str, ...] = ()
    as_nobody: bool = False


def _zero_link(root: Path) -> None:
    (root / "zero.yaml").symlink_to("/dev/zero")


def _device(root: Path) -> None:
    os.mknod(root / "null.yaml", stat.S_IFCHR | 0o644, os.makedev(1, 3))  # a /dev/null node


def _fifo(root: Path) -> None:
    os.mkfifo(root / "pipe.yaml")


def _fifo_source(root: Path) -> None:
    os.mkfifo(root / "sources" / "pipe.txt")
    _write(root / "piped.yaml", with_source("piped", "sources/pipe.txt"))


def _socket(root: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock.yaml"))
    sock.close()  # the socket file stays


def _directory(root: Path) -> None:
    (root / "folder.yaml").mkdir()
    _write(root / "folder.yaml" / "inner.yaml", LATER)


def _topics_directory(root: Path) -> None:
    (root / "topics.yaml").unlink()
    (root / "topics.yaml").mkdir()


def _locked(root: Path) -> None:
    _write(root / "locked.yaml", brief("locked"))
    (root / "locked.yaml").chmod(0)


def _locked_source(root: Path) -> None:
    _write(root / "sources" / "locked.txt", SOURCE)
    (root / "sources" / "locked.txt").chmod(0)
    _write(root / "locked-source.yaml", with_source("locked-source", "sources/locked.txt"))


def _locked_topics(root: Path) -> None:
    (root / "topics.yaml").chmod(0)


def _unlistable(root: Path) -> None:
    root.chmod(0o311)  # may be entered, not listed


def _secret_link(root: Path) -> None:
    (root / "shadow.yaml").symlink_to(_outside(root) / "secret.yaml")


def _secret_relative_link(root: Path) -> None:
    _outside(root)
    (root / "rel.yaml").symlink_to("../outside/secret.yaml")


def _secret_source_link(root: Path) -> None:
    (root / "sources" / "leak.txt").symlink_to(_outside(root) / "secret.txt")
    _write(root / "leaky.yaml", with_source("leaky", "sources/leak.txt"))


def _secret_source_dir(root: Path) -> None:
    (root / "sources" / "elsewhere").symlink_to(_outside(root), target_is_directory=True)
    _write(root / "via-dir.yaml", with_source("via-dir", "sources/elsewhere/secret.txt"))


def _inside_link(root: Path) -> None:
    (root / ".drafts").mkdir()
    _write(root / ".drafts" / "linked.yaml", brief("linked"))
    (root / "linked.yaml").symlink_to(".drafts/linked.yaml")
    (root / "sources" / "alias.txt").symlink_to("council.txt")
    _write(root / "aliased.yaml", with_source("aliased", "sources/alias.txt"))


def _loop(root: Path) -> None:
    (root / "loop.yaml").symlink_to("loop.yaml")


def _dangling(root: Path) -> None:
    (root / "gone.yaml").symlink_to("nowhere/at/all.yaml")


def _oversize(root: Path) -> None:
    with (root / "huge.yaml").open("wb") as out:
        out.truncate(50 * 1024 * 1024)  # sparse: 50 MiB of NULs on no disk


def _oversize_source(root: Path) -> None:
    with (root / "sources" / "huge.txt").open("wb") as out:
        out.truncate(50 * 1024 * 1024)
    _write(root / "big-source.yaml", with_source("big-source", "sources/huge.txt"))


def _escape_title(root: Path) -> None:
    title = "title: Council approves budget"
    _write(root / "esc.yaml", brief("esc", **{title: 'title: "\\e[31mCouncil\\e[0m approves"'}))


def _escape_c1(root: Path) -> None:
    text = brief("csi", **{"summary: The": 'summary: "\\x9b2J\\e]0;owned\\aThe'})
    _write(root / "csi.yaml", text.replace("after debate.", 'after debate."'))


def _escape_key(root: Path) -> None:
    _write(root / "key.yaml", brief("key") + '"\\e[2J\\e[Hcleared": 1\n')


def _escape_topic(root: Path) -> None:
    text = brief("topic-esc", **{"topics: [budget, housing, transport]": 'topics: ["\\e[5mX"]'})
    _write(root / "topic-esc.yaml", text)


def _catastrophic(root: Path) -> None:
    _write(root / "sources" / "adversarial.txt", SOURCE + "\n".join(ADVERSARIAL) * 200 + "\n")
    patterns = ", ".join(f"'{p}'" for p in CATASTROPHIC)
    _write(
        root / "catastrophic.yaml",
        brief(
            "catastrophic",
            **{
                "sources/council.txt": "sources/adversarial.txt",
                "['^Also Read \\|']": f"['^Also Read \\|', {patterns}]",
            },
        ),
    )


def _backreference(root: Path) -> None:
    text = brief("backref", **{"['^Also Read \\|']": "['^Also Read \\|', '(a)\\1', '(?=x)y']"})
    _write(root / "backref.yaml", text)


def _too_complex(root: Path) -> None:
    _write(root / "complex.yaml", brief("complex", **{"['^Also Read \\|']": "['(.*a){60}']"}))


def _long_tag(root: Path) -> None:
    _write(root / "tag.yaml", "id: !<tag:x.org,2000:" + "T" * 5000 + "> x\n")


def _long_key(root: Path) -> None:
    _write(root / "longkey.yaml", brief("longkey") + "K" * 1000 + ": 1\n")


def _long_plain_key(root: Path) -> None:
    # Past PyYAML's 1024-character limit for a plain key: a syntax error on a long line.
    _write(root / "longkey2.yaml", brief("longkey2") + "K" * 5000 + ": 1\n")


def _long_value(root: Path) -> None:
    _write(root / "longint.yaml", brief("longint") + "extra: " + "1" * 5000 + "\n")


def _long_syntax_error(root: Path) -> None:
    # A syntax error on a long line: PyYAML's own message would quote the whole line.
    _write(root / "badline.yaml", "id: x\ntitle: " + "L" * 5000 + " [ : ] {\n")


CASES: dict[str, Case] = {
    "symlink-to-dev-zero": Case(_zero_link, "zero.yaml", "outside the briefs directory"),
    "device-node": Case(_device, "null.yaml", "a character device, not a regular file"),
    "fifo-brief": Case(_fifo, "pipe.yaml", "a FIFO (named pipe), not a regular file"),
    "fifo-source": Case(
        _fifo_source, "piped.yaml", "source.text: cannot read source text sources/pipe.txt: a FIFO"
    ),
    "socket-brief": Case(_socket, "sock.yaml", "a socket, not a regular file"),
    "directory-brief": Case(_directory, "folder.yaml", "a directory, not a regular file"),
    "topics-directory": Case(
        _topics_directory, "topics.yaml", "a directory, not a regular file", blocks_all=True
    ),
    "unreadable-brief": Case(_locked, "locked.yaml", "permission denied", as_nobody=True),
    "unreadable-source": Case(
        _locked_source,
        "locked-source.yaml",
        "cannot read source text sources/locked.txt: permission denied",
        as_nobody=True,
    ),
    "unreadable-topics": Case(
        _locked_topics, "topics.yaml", "permission denied", blocks_all=True, as_nobody=True
    ),
    "unlistable-folder": Case(
        _unlistable,
        ".",
        "cannot list the briefs folder: permission denied",
        blocks_all=True,
        as_nobody=True,
    ),
    "symlink-to-secret": Case(_secret_link, "shadow.yaml", "outside the briefs directory"),
    "relative-symlink-to-secret": Case(
        _secret_relative_link, "rel.yaml", "outside the briefs directory"
    ),
    "source-symlink-to-secret": Case(
        _secret_source_link, "leaky.yaml", "source text must lie inside the briefs directory"
    ),
    "source-through-linked-dir": Case(
        _secret_source_dir, "via-dir.yaml", "source text must lie inside the briefs directory"
    ),
    "symlinks-inside-allowed": Case(_inside_link, "", "", also=("aliased", "linked")),
    "symlink-loop": Case(_loop, "loop.yaml", "symbolic link loop"),
    "dangling-symlink": Case(_dangling, "gone.yaml", "does not exist"),
    "oversize-brief": Case(_oversize, "huge.yaml", "the limit is 1,048,576"),
    "oversize-source": Case(_oversize_source, "big-source.yaml", "larger than 1 MiB"),
    "escape-in-title": Case(_escape_title, "esc.yaml", "title: contains the control character"),
    "c1-and-osc-in-summary": Case(
        _escape_c1, "csi.yaml", "summary: contains the control character \\x9b"
    ),
    "escape-in-key": Case(_escape_key, "key.yaml", "\\x1b[2J\\x1b[Hcleared: Extra inputs"),
    "escape-in-topic": Case(_escape_topic, "topic-esc.yaml", "control character \\x1b"),
    "catastrophic-regexes": Case(_catastrophic, "", "", also=("catastrophic",)),
    "regex-re2-cannot-run": Case(
        _backreference, "backref.yaml", "source.exclude_lines.1: regular expression '(a)\\1'"
    ),
    "regex-too-complex": Case(_too_complex, "complex.yaml", "is too complex"),
    "long-tag": Case(_long_tag, "tag.yaml", "could not determine a constructor"),
    "long-key": Case(_long_key, "longkey.yaml", "Extra inputs are not permitted"),
    "long-plain-key": Case(_long_plain_key, "longkey2.yaml", "YAML syntax error"),
    "long-value": Case(_long_value, "longint.yaml", "is not a valid value"),
    "long-syntax-error": Case(_long_syntax_error, "badline.yaml", "YAML syntax error"),
}


def drop_to_nobody() -> None:
    """Give up root for the rest of the process (what `runuser -u nobody` would do)."""
    if os.geteuid() != 0:
        return  # not root: permissions already apply
    user = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)


def _served(root: Path) -> dict[str, object]:
    library = load_library(root)
    return {"ids": sorted(b.id for b in library.briefs), "errors": [str(e) for e in library.errors]}


def _cli(argv: list[str]) -> dict[str, object]:
    """`briefbot ARGV` as the console script runs it, its output captured."""
    out, err = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(err)
    logging.getLogger().addHandler(handler)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
    finally:
        logging.getLogger().removeHandler(handler)
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


async def _reload(root: Path, case: Case) -> dict[str, object]:
    live = LiveLibrary(root)
    assert [b.id for b in live.current().briefs] == ["council-budget"]
    watcher = asyncio.create_task(live.watch(0.05))
    await asyncio.sleep(0.1)
    case.build(root)
    if not case.blocks_all:
        _write(root / "later.yaml", LATER)
    want = set() if case.blocks_all else {"later", *case.also}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        library = live.current()
        named = not case.message or any(case.message in str(e) for e in library.errors)
        if named and want <= {b.id for b in library.briefs}:
            break
        await asyncio.sleep(0.05)
    watched = {
        "ids": sorted(b.id for b in live.current().briefs),
        "errors": [str(e) for e in live.current().errors],
        "watcher_running": not watcher.done(),
    }
    report = await live.reload()  # what /reload does
    watcher.cancel()
    return {"watched": watched, "reload_errors": [str(e) for e in report.errors]}


def _run(mode: str, root: Path, case: Case) -> dict[str, object]:
    try:
        return _run_mode(mode, root, case)
    except Exception:  # noqa: BLE001 - a crash is this case's result; the next case still runs
        return {"crash": traceback.format_exc()}


def _run_mode(mode: str, root: Path, case: Case) -> dict[str, object]:
    case.build(root)
    if mode == "load":
        return _served(root)
    if mode == "check":
        return _cli(["check", str(root)])
    assert mode == "ask"
    return _cli(["ask", "/quotes speaker:Doe", "--briefs", str(root)])


async def _reload_all(top: Path, names: list[str]) -> list[dict[str, object]]:
    """Every case at once, each with its own folder, library and watcher."""
    found = await asyncio.gather(
        *(_reload(top / n, CASES[n]) for n in names), return_exceptions=True
    )
    return [
        {"crash": "".join(traceback.format_exception(r))} if isinstance(r, BaseException) else r
        for r in found
    ]


def main(argv: list[str]) -> int:
    """Run one mode on the named cases, one folder each under TOP; one JSON line per case."""
    mode, top_name, *rest = argv
    as_nobody = "--as-nobody" in rest
    names = [n for n in rest if n != "--as-nobody"]
    top = Path(top_name)
    # Logging is set up here, once: briefbot's own basicConfig then adds no handler of its own,
    # and each case's log lines go to that case's captured stderr (see _cli).
    logging.getLogger().addHandler(logging.NullHandler())
    if as_nobody:
        drop_to_nobody()
    for name in names:
        write_briefs(top / name)
    if mode == "reload":
        results = asyncio.run(_reload_all(top, names))
    else:
        results = []
        for name in names:
            # Said before each case: if one hangs, the caller's time limit names it.
            print(f"case {name}", file=sys.stderr, flush=True)
            results.append(_run(mode, top / name, CASES[name]))
    for name, result in zip(names, results, strict=True):
        print(json.dumps({"case": name, "root": str(top / name), "result": result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
