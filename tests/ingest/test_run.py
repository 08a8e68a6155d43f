"""`briefbot ingest`: files written, nothing overwritten silently, failures named, drafts load."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from bot.briefs.library import load_library
from bot.cli import main
from bot.ingest.run import run_ingest
from tests.conftest import BRIEFS, REPO

SHARED = REPO.parent / "shared"
SEED = SHARED / "seed" / "article.txt"
DEVSET = SHARED / "ingest-devset"
VOCABULARY = BRIEFS / "topics.yaml"

STORY = """\
Riverton council backs flood walls
Riverton council voted on Tuesday to spend £4.5 million on flood walls.
“This keeps the river where it belongs,” said Ana Silva, the mayor.
Councillor Ben Ortiz called the plan “a missed chance” for housing.
Also Read | Riverton FC “ready for promotion”, says coach
"""


@pytest.fixture(autouse=True)
def _briefs_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_BRIEFS_DIR", str(BRIEFS))


def article(tmp_path: Path, name: str = "story.txt", text: str = STORY) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def checked(tmp_path: Path, drafts: Path) -> int:
    """Copy drafts beside the project's topics.yaml and run `briefbot check` on them."""
    live = tmp_path / "live"
    shutil.copytree(drafts, live)
    shutil.copy(VOCABULARY, live / "topics.yaml")
    return main(["check", str(live)])


def test_writes_the_draft_and_its_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "drafts"
    assert main(["ingest", article(tmp_path), "--out", str(out)]) == 0
    brief = out / "riverton-council-backs-flood-walls.yaml"
    source = out / "sources" / "riverton-council-backs-flood-walls.txt"
    assert source.read_text(encoding="utf-8") == STORY.rstrip("\n") + "\n"
    data = yaml.safe_load(brief.read_text(encoding="utf-8"))
    assert [(q["speaker"], q["text"]) for q in data["quotes"]] == [
        ("Ana Silva", "This keeps the river where it belongs"),
        ("Ben Ortiz", "a missed chance"),
    ]
    assert data["source"]["exclude_lines"] == [r"^Also Read\b"]
    assert data["date"] == {"status": "unknown"}
    assert data["source"]["outlet"] is None and data["source"]["url"] is None
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{brief}: 2 quotes, 2 speakers, ")
    assert line.endswith(f"<- {tmp_path / 'story.txt'}")
    assert checked(tmp_path, out) == 0


def test_an_existing_draft_is_never_overwritten_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "drafts"
    path = article(tmp_path)
    assert main(["ingest", path, "--out", str(out), "--id", "walls"]) == 0
    brief = out / "walls.yaml"
    brief.write_text("# edited by an analyst\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["ingest", path, "--out", str(out), "--id", "walls"]) == 1
    err = capsys.readouterr().err
    assert f"{brief} already exists; not overwritten (use --force to replace it)" in err
    assert brief.read_text(encoding="utf-8") == "# edited by an analyst\n"
    assert main(["ingest", path, "--out", str(out), "--id", "walls", "--force"]) == 0
    assert "(replaced the existing draft: --force)" in capsys.readouterr().out
    assert "id: walls" in brief.read_text(encoding="utf-8")


def test_a_failed_article_is_named_and_the_others_are_still_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "drafts"
    good = article(tmp_path)
    empty = article(tmp_path, "empty.txt", "")
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\x00\x01\x02 binary")
    assert main(["ingest", empty, good, str(binary), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"FAILED {empty}: empty file" in err
    assert f"FAILED {binary}: binary file" in err
    assert "2 of 3 article(s) failed" in err
    assert (out / "riverton-council-backs-flood-walls.yaml").is_file()
    assert sorted(p.name for p in out.glob("*.yaml")) == ["riverton-council-backs-flood-walls.yaml"]


def test_id_needs_exactly_one_article(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = article(tmp_path, "a.txt"), article(tmp_path, "b.txt")
    assert main(["ingest", a, b, "--id", "x", "--out", str(tmp_path / "d")]) == 2
    assert "--id names one draft" in capsys.readouterr().err


def test_standard_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(STORY.encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["ingest", "-", "--out", str(tmp_path / "d")]) == 0
    assert (tmp_path / "d" / "riverton-council-backs-flood-walls.yaml").is_file()


def test_a_folder_is_spread_over_worker_processes(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for i in range(10):
        article(folder, f"{i:02}.txt", STORY if i % 2 else STORY.replace("Riverton", f"Town{i}"))
    (folder / "notes.md").write_text("not an article", encoding="utf-8")
    out = tmp_path / "drafts"
    stdout = io.StringIO()
    assert run_ingest([str(folder)], out, vocabulary=VOCABULARY, workers=2, stdout=stdout) == 0
    assert len(stdout.getvalue().splitlines()) == 10
    names = sorted(p.stem for p in out.glob("*.yaml"))
    # Five articles share a headline: each gets its own id, none overwrites another.
    assert [n for n in names if n.startswith("riverton")] == [
        "riverton-council-backs-flood-walls",
        *(f"riverton-council-backs-flood-walls-{n}" for n in range(2, 6)),
    ]
    assert checked(tmp_path, out) == 0


@pytest.mark.skipif(not SEED.is_file(), reason="../shared/seed/article.txt is not here")
def test_seed_article_gives_the_shipped_briefs_quotes_speakers_claim_and_people(
    tmp_path: Path,
) -> None:
    out = tmp_path / "drafts"
    assert main(["ingest", str(SEED), "--out", str(out), "--id", "seed"]) == 0
    draft = yaml.safe_load((out / "seed.yaml").read_text(encoding="utf-8"))
    shipped = yaml.safe_load(
        (BRIEFS / "us-pakistan-rubio-dar-talks.yaml").read_text(encoding="utf-8")
    )

    def key(text: str) -> str:
        return " ".join(text.split()).rstrip(",")

    assert [(q["speaker"], key(q["text"])) for q in draft["quotes"]] == [
        (q["speaker"], key(q["text"])) for q in shipped["quotes"]
    ]
    # Both readout quotations are the spokesperson's words, not the Secretary's.
    assert [q["speaker"] for q in draft["quotes"][:2]] == ["Tammy Bruce", "Tammy Bruce"]
    figures = [(c["claimant"], f["value"]) for c in draft["claims"] for f in c["figures"]]
    assert ("Ishaq Dar", "$6-8 trillion") in figures
    assert {p["name"] for p in draft["people"]} == {p["name"] for p in shipped["people"]}
    assert draft["source"]["exclude_lines"] == [r"^Also Read\b"]
    assert checked(tmp_path, out) == 0


@pytest.mark.skipif(not DEVSET.is_dir(), reason="../shared/ingest-devset is not here")
def test_every_development_set_draft_passes_the_loader(tmp_path: Path) -> None:
    pages = sorted(DEVSET.glob("*/source.html"))
    assert len(pages) >= 8
    out = tmp_path / "drafts"
    err = io.StringIO()
    code = run_ingest(
        [str(p) for p in pages], out, vocabulary=VOCABULARY, stdout=io.StringIO(), stderr=err
    )
    assert code == 0, err.getvalue()
    shutil.copy(VOCABULARY, out / "topics.yaml")
    library = load_library(out)
    assert [str(e) for e in library.errors] == []
    assert len(library.briefs) == len(pages)
