"""The loader: valid files load; each broken file gives a located error and harms no other."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.briefs.library import load_library
from bot.briefs.loader import MAX_FILE_BYTES, load_directory
from tests.conftest import BRIEF, write_briefs


def errors_for(root: Path, name: str) -> list[str]:
    return [str(e) for e in load_library(root).errors if e.path.name == name]


def test_valid_directory_loads_every_brief(briefs_dir: Path) -> None:
    library = load_library(briefs_dir)
    assert library.errors == ()
    assert [b.id for b in library.briefs] == ["council-budget"]
    brief = library.briefs[0]
    assert brief.quotes[0].speaker == "Jane Doe"
    # Aliases in a brief resolve to vocabulary ids: "finance" is budget, "buses" transport.
    assert brief.key_points[1].topics == ("housing", "budget")
    assert brief.quotes[0].topics == ("budget", "transport")


BROKEN = {
    "syntax.yaml": (
        "id: x\ntitle: [unclosed\nsummary: y\n",
        "syntax.yaml:3",
        "YAML syntax error: while parsing a flow sequence (started on line 2)",
    ),
    "wrong-type.yaml": (
        BRIEF.replace("id: council-budget", "id: wrong-type").replace(
            "key_points:\n", "key_points: 5\nx_points:\n", 1
        ),
        "wrong-type.yaml:",
        "key_points",
    ),
    "missing.yaml": (
        "id: missing\ntitle: Only a title\n",
        "missing.yaml:1",
        "summary: Field required",
    ),
    "speaker.yaml": (
        BRIEF.replace("id: council-budget", "id: speaker-bad").replace(
            "  - speaker: Sam Roe", "  - speaker: Sam Row"
        ),
        "speaker.yaml:26: quotes.1.speaker",
        "'Sam Row' is not the canonical name",
    ),
    "topic.yaml": (
        BRIEF.replace("id: council-budget", "id: topic-bad").replace(
            "topics: [budget, housing, transport]", "topics: [budget, housng]"
        ),
        "topics.1",
        "unknown topic 'housng'; add it to topics.yaml or use one of: housing",
    ),
    "dup-key.yaml": (
        BRIEF.replace("id: council-budget", "id: dup-key\nid: again"),
        "dup-key.yaml:2: id",
        "duplicate key 'id' (first on line 1)",
    ),
    "bomb.yaml": (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
            for i in range(8)
        ),
        "bomb.yaml",
        "anchors/aliases",
    ),
    "deep.yaml": ("id: deep\nx: " + "[" * 200 + "]" * 200 + "\n", "deep.yaml", "nesting deeper"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_file_is_located_and_others_still_load(tmp_path: Path, name: str) -> None:
    text, where, message = BROKEN[name]
    root = write_briefs(tmp_path / "b", **{name: text})
    library = load_library(root)
    found = [str(e) for e in library.errors]
    assert any(where in e and message in e for e in found), found
    assert [b.id for b in library.briefs] == ["council-budget"]


def test_oversize_file_refused_before_reading(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    (root / "huge.yaml").write_bytes(b"# " + b"x" * (10 * 1024 * 1024) + b"\n")
    assert errors_for(root, "huge.yaml") == [
        f"{root / 'huge.yaml'}: (file): file is {10 * 1024 * 1024 + 3:,} bytes; "
        f"the limit is {MAX_FILE_BYTES:,}"
    ]
    assert len(load_library(root).briefs) == 1


def test_non_utf8_names_the_line(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    (root / "latin1.yaml").write_bytes("id: x\ntitle: caf\xe9\n".encode("latin-1"))
    assert errors_for(root, "latin1.yaml") == [
        f"{root / 'latin1.yaml'}:2: (file): not valid UTF-8 (byte 0xe9)"
    ]


def test_binary_file_refused(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    (root / "image.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "binary file" in errors_for(root, "image.yaml")[0]


def test_yaml_tags_that_build_objects_are_refused(tmp_path: Path) -> None:
    root = write_briefs(
        tmp_path / "b", **{"evil.yaml": "id: !!python/object/apply:os.system ['echo pwned']\n"}
    )
    error = errors_for(root, "evil.yaml")[0]
    assert "evil.yaml:1" in error and "could not determine a constructor" in error


def test_duplicate_ids_name_both_files(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b", **{"z-copy.yaml": BRIEF})
    library = load_library(root)
    assert [b.id for b in library.briefs] == ["council-budget"]
    assert [str(e) for e in library.errors] == [
        f"{root / 'z-copy.yaml'}: id: duplicate id 'council-budget': already used by "
        f"{root / 'council.yaml'}"
    ]


def test_quote_not_in_source_fails_naming_the_quote(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    text = BRIEF.replace("a missed chance", "a missed opportunity")
    (root / "council.yaml").write_text(text, encoding="utf-8")
    errors = [str(e) for e in load_library(root).errors]
    assert errors == [
        f"{root / 'council.yaml'}:27: quotes.1.text: quote by Sam Roe 'a missed opportunity' "
        "does not appear verbatim in sources/council.txt"
    ]


def test_grounding_normalises_only_whitespace_and_quote_marks(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    # Straight quotes and a line break where the source has curly quotes and one space: fine.
    ok = BRIEF.replace("text: a missed chance", 'text: "called it \\"a missed\\n   chance\\""')
    (root / "council.yaml").write_text(ok, encoding="utf-8")
    assert load_library(root).errors == ()
    # A changed letter is not fine.
    (root / "council.yaml").write_text(BRIEF.replace("libraries open", "library open"), "utf-8")
    assert "quotes.0.text" in str(load_library(root).errors[0])


def test_quotes_are_never_grounded_in_excluded_lines(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    text = BRIEF.replace("text: a missed chance", "text: do not quote me")
    (root / "council.yaml").write_text(text, encoding="utf-8")
    assert "does not appear verbatim" in str(load_library(root).errors[0])


def test_figures_must_be_in_source(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    (root / "council.yaml").write_text(BRIEF.replace("{value: $12 million", "{value: $13 million"))
    assert "claims.0.figures.0.value: figure '$13 million' does not appear" in str(
        load_library(root).errors[0]
    )


def test_source_outside_directory_refused(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    (tmp_path / "secret.txt").write_text("This budget keeps the buses running")
    (root / "council.yaml").write_text(BRIEF.replace("sources/council.txt", "../secret.txt"))
    assert "must lie inside the briefs directory" in str(load_library(root).errors[0])


def test_inferred_date_needs_basis(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    (root / "council.yaml").write_text(BRIEF.replace("status: stated", "status: inferred"))
    assert "date: an inferred date needs a 'basis'" in str(load_library(root).errors[0])


def test_broken_vocabulary_is_reported(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    (root / "topics.yaml").write_text("topics:\n  - id: a\n    label: A\n  - id: b\n    label: a\n")
    assert "'a' names both topic 'a' and topic 'b'" in str(load_library(root).errors[0])


def test_broken_edit_keeps_last_good_version(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    index = tmp_path / "index.sqlite3"
    load_library(root, index)
    (root / "council.yaml").write_text(BRIEF.replace("title: Council", "title: [Council"))
    again = load_library(root, index)
    assert [b.title for b in again.briefs] == ["Council approves budget"]
    assert (
        "council.yaml:3: (file): YAML syntax error: "
        "while parsing a flow sequence (started on line 2)" in str(again.errors[0])
    )


def test_unchanged_files_are_not_parsed_again(tmp_path: Path) -> None:
    root = write_briefs(tmp_path / "b")
    first = load_directory(root)
    second = load_directory(root, {lb.path: lb for lb in first.briefs})
    assert second.briefs[0] is first.briefs[0]
