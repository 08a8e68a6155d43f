"""The console, driven through a pseudo terminal as a person types: Tab, Enter, Ctrl-D."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest

from bot.adapters.console import PROMPT, Completer, Console
from bot.briefs.library import load_library
from tests.conftest import BRIEFS, REPO, write_briefs

TIMEOUT = 30  # generous: a loaded 2-core machine starts Python slowly; a hang still fails
Spawn = Callable[..., "pexpect.spawn[str]"]


def environment(home: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BRIEFBOT_"))}
    # The index in the test's folder, never the repository's data/.
    data = str(home / "data")
    return {**base, "HOME": str(home), "TERM": "dumb", "BRIEFBOT_DATA_DIR": data, **extra}


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start `python -m bot ARGS` on a pseudo terminal; killed at the end whatever happened."""
    children: list[pexpect.spawn[str]] = []

    def start(*args: str, cwd: Path = REPO, **env: str) -> pexpect.spawn[str]:
        child = pexpect.spawn(
            sys.executable,
            ["-m", "bot", *args],
            cwd=str(cwd),
            env=environment(tmp_path, **env),
            encoding="utf-8",
            timeout=TIMEOUT,
            dimensions=(50, 200),
        )
        children.append(child)
        return child

    yield start
    for child in children:
        child.close(force=True)


def ask(line: str, root: Path = BRIEFS) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", line, "--briefs", str(root)],
        check=True,
        cwd=REPO,
        env=environment(Path("/nonexistent")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout


def terminal(text: str) -> str:
    return text.replace("\n", "\r\n")


def leave(child: pexpect.spawn[str]) -> int:
    child.sendeof()  # Ctrl-D
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None
    return child.exitstatus


def test_tab_completes_command_and_speaker_and_answers_like_ask(
    spawn: Spawn, tmp_path: Path
) -> None:
    child = spawn("console", "--briefs", str(BRIEFS))
    child.expect("brief\\(s\\) loaded")
    child.expect_exact(PROMPT)
    child.send("/quo\t")
    child.expect_exact("/quotes ")
    child.send("speaker:Da\t")
    child.expect_exact('"Ishaq Dar" ')
    child.send("\r")
    # Byte for byte what `briefbot ask` prints for the completed line.
    child.expect_exact(terminal(ask('/quotes speaker:"Ishaq Dar"')))
    child.expect_exact(PROMPT)
    assert leave(child) == 0
    history = (tmp_path / ".briefbot_history").read_text(encoding="utf-8")
    assert '/quotes speaker:"Ishaq Dar"' in history


def test_double_tab_lists_values_by_their_labels(spawn: Spawn) -> None:
    child = spawn("console", "--briefs", str(BRIEFS))
    child.expect_exact(PROMPT)
    child.send("/quotes speaker:\t")
    library = load_library(BRIEFS)
    labels = [f"{s.name} — {s.role}" for s in library.speakers_ranked[:5] if s.role]
    for label in labels:
        child.expect_exact(label)
    # The line is redrawn as it was, ready to go on typing.
    child.expect_exact(PROMPT + "/quotes speaker:")
    child.send("Rub\t")
    child.expect_exact('Marco Rubio" ')
    child.send("\r")
    child.expect_exact("No direct quotes by Marco Rubio")
    assert leave(child) == 0


def test_help_errors_and_exit(spawn: Spawn, tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    child = spawn("console", "--briefs", str(root))
    child.expect_exact(PROMPT)
    child.send("help\r")
    child.expect_exact("/quotes speaker:<speaker> [brief:<brief>]")
    child.expect_exact("Ctrl-D leaves")
    child.send("/quote speaker:Doe\r")
    child.expect_exact(
        "unknown command '/quote'; valid commands: /summary, /quotes, /topic, /briefs"
    )
    child.send("/topic fin\t\r")
    child.expect_exact("Topic: Budget")
    child.send("exit\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_run_without_token_on_a_terminal_opens_the_console(spawn: Spawn, tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    child = spawn("run", cwd=tmp_path, BRIEFBOT_BRIEFS_DIR=str(root))
    child.expect_exact(
        "briefbot: no Discord token (DISCORD_TOKEN), so here is the offline console."
    )
    child.expect_exact(PROMPT)
    child.send("/quotes speaker:mayor doe\r")
    child.expect_exact("Quotes by Jane Doe")
    assert leave(child) == 0


def test_console_without_a_terminal_reads_lines_until_end_of_input(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--briefs", str(root)],
        check=False,
        cwd=REPO,
        env=environment(tmp_path),
        input="/briefs\n\n/topic finance\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert PROMPT not in result.stdout
    assert result.stdout.index("Briefs (1)") < result.stdout.index("Topic: Budget")
    assert not (tmp_path / ".briefbot_history").exists()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "",
            [
                "/summary ",
                "/quotes ",
                "/topic ",
                "/briefs ",
                "/search ",
                "/brief history ",
                "help ",
                "reload ",
                "about ",
                "exit ",
            ],
        ),
        ("/qu", ["/quotes "]),
        ("/quotes ", ["speaker:", "brief:"]),
        ("/quotes brief:council-budget ", ["speaker:"]),
        ("/quotes speaker:mayor", ['speaker:"Jane Doe" ']),
        ('/quotes speaker:"Jane D', ['Doe" ']),
        ("/quotes speaker:Jane D", ["Doe "]),
        ("/quotes speaker:Roe b", ["brief:"]),
        ("/summary brief:coun", ["brief:council-budget "]),
        ("/topic bus", ["transport "]),
        ("/briefs x", []),
        ("/nothing sp", []),
        ("/bri", ["/briefs ", "/brief history "]),
        ("/brief ", ["history "]),
        ("brief hi", ["history "]),
        ("/brief history ", ["brief:"]),
        ("/brief history brief:coun", ["brief:council-budget "]),
        ("/brief draft ", []),
    ],
)
def test_completion_of_each_part_of_a_line(
    briefs_dir: Path, line: str, expected: list[str]
) -> None:
    console = Console(briefs_dir)
    begidx = line.rfind(" ") + 1  # readline's word: after the last space
    matches, _ = console.readline_matches(line, begidx)
    assert [m.text for m in matches] == expected


def test_values_come_from_the_bots_own_autocomplete(briefs_dir: Path) -> None:
    library = load_library(briefs_dir)
    completer = Completer(lambda: library)
    _, found = completer.complete("/quotes speaker:")
    assert [(c.text, c.shown) for c in found] == [
        ('speaker:"Jane Doe" ', "Jane Doe — Mayor"),
        ('speaker:"Sam Roe" ', "Sam Roe — Councillor"),
    ]


def test_the_console_never_sends_control_characters_to_the_terminal(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--briefs", str(root)],
        check=False,
        cwd=REPO,
        env=environment(tmp_path),
        input="/quotes speaker:\x1b[2J\x1b[HDoe\n/quo\x1b]0;x\x07tes\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b[2J\\x1b[HDoe" in result.stdout  # the reply quotes what was typed, escaped


def test_about_in_the_console_shows_the_version_and_briefs(briefs_dir: Path) -> None:
    out = io.StringIO()
    console = Console(briefs_dir, stdin=io.StringIO("about\n"), stdout=out)
    assert console.run() == 0
    assert "About briefbot" in out.getvalue()
    assert "Loaded: 1" in out.getvalue()
    assert "Gateway: offline (console)" in out.getvalue()
