"""The `briefbot` command line, end to end through a subprocess, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import REPO, write_briefs


def briefbot(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BRIEFBOT_"))}
    # Run as a user would, but keep the index and any database in a folder of the test's own,
    # never the repository's data/ (which a developer's bot may be using).
    with tempfile.TemporaryDirectory(prefix="briefbot-cli-") as data:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            check=False,
            cwd=cwd,
            env={**base, "BRIEFBOT_DATA_DIR": data, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )


def test_check_passes_on_the_shipped_briefs() -> None:
    result = briefbot("check", "briefs")
    assert result.returncode == 0, result.stderr
    assert "0 error(s)" in result.stdout


def test_check_names_a_broken_file_and_still_loads_the_rest(tmp_path: Path) -> None:
    broken = "id: broken\ntitle: [not, a, string]\n"
    root = write_briefs(tmp_path / "b", **{"broken.yaml": broken})
    result = briefbot("check", str(root))
    assert result.returncode == 1
    assert f"{root / 'broken.yaml'}:2: title: Input should be a valid string" in result.stderr
    assert "1 brief(s) loaded," in result.stderr
    assert all("broken.yaml" in line for line in result.stderr.splitlines()[:-1])
    assert "ok  council-budget" in result.stdout


def test_ask_answers_like_discord(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    result = briefbot("ask", '/quotes speaker:"mayor doe"', "--briefs", str(root))
    assert result.returncode == 0, result.stderr
    assert "Quotes by Jane Doe" in result.stdout
    assert "“This budget keeps the buses running and the libraries open.”" in result.stdout
    assert "— Speech at the council meeting" in result.stdout


def test_ask_unknown_command_lists_valid_ones(tmp_path: Path) -> None:
    result = briefbot("ask", "/quote speaker:Dar")
    assert result.returncode == 2
    assert "valid commands: /summary, /quotes, /topic, /briefs" in result.stderr
    # ask answers these two as well (README, Operations and Publishing): say so.
    assert "offline also: /about, /brief history" in result.stderr


def test_ask_unknown_option_lists_valid_ones() -> None:
    result = briefbot("ask", "/topic subject:minerals")
    assert result.returncode == 2
    assert "/topic has no option 'subject'; valid options: name" in result.stderr


def test_run_without_token_points_to_env_example_and_ask(tmp_path: Path) -> None:
    result = briefbot("run", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()  # one line
    assert line.startswith("briefbot: no Discord token")
    assert ".env.example" in line and 'briefbot ask "/quotes speaker:Dar"' in line


def test_bad_setting_is_named(tmp_path: Path) -> None:
    result = briefbot("run", cwd=tmp_path, env={"BRIEFBOT_DEV_GUILD_ID": "my-server"})
    assert result.returncode == 2
    assert "BRIEFBOT_DEV_GUILD_ID must be a numeric Discord id, got 'my-server'" in result.stderr


def test_done_when_quotes_dar_prints_only_dars_quotes_with_context() -> None:
    result = briefbot("ask", "/quotes speaker:Dar")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Quotes by Ishaq Dar\n")
    assert out.count("“") == 4
    assert "Dar's statement on X about his meeting with Rubio" in out
    assert "Atlantic Council" in out
    assert "Secretary of State Marco Rubio met today" not in out  # Bruce's readout


def test_done_when_topic_minerals_shows_the_estimate_and_who_claimed_it() -> None:
    result = briefbot("ask", "/topic minerals")
    assert result.returncode == 0, result.stderr
    assert "Claimed by Ishaq Dar" in result.stdout
    assert "$6-8 trillion" in result.stdout


def test_done_when_misspelled_speaker_suggests_ishaq_dar() -> None:
    result = briefbot("ask", "/quotes speaker:Darr")
    assert result.returncode == 1
    assert "No one called 'Darr' appears in any brief." in result.stdout
    assert "Did you mean\n  - Ishaq Dar" in result.stdout


def test_check_and_ask_name_a_fifo_and_never_wait_on_it(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    os.mkfifo(root / "pipe.yaml")  # reading it would block forever: it is never opened
    check = briefbot("check", str(root))  # the helper's time limit fails a hang
    assert check.returncode == 1
    assert f"{root / 'pipe.yaml'}: (file): a FIFO (named pipe), not a regular file" in check.stderr
    assert "ok  council-budget" in check.stdout
    ask = briefbot("ask", "/quotes speaker:Doe", "--briefs", str(root))
    assert ask.returncode == 0 and "Quotes by Jane Doe" in ask.stdout


def test_ask_prints_what_the_user_typed_escaped() -> None:
    result = briefbot("ask", "/quotes speaker:\x1b[2J\x1b[HDar")
    assert "\x1b" not in result.stdout + result.stderr
    assert "\\x1b[2J\\x1b[HDar" in result.stdout + result.stderr
    bad = briefbot("ask", "/quo\x1b[31mtes x")
    assert bad.returncode == 2 and "unknown command" in bad.stderr and "\x1b" not in bad.stderr
