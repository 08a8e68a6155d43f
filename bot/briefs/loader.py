"""Safe loading of brief files: YAML → validated models, with errors that name file, line, field."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.briefs.models import Brief, Vocabulary

log = logging.getLogger(__name__)

try:  # The C parser is several times faster; fall back to pure Python where libyaml is missing.
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_FILE_BYTES = 1024 * 1024
# A brief is a few hundred nodes; these bounds stop alias bombs and pathological nesting
# long before they cost memory or time.
MAX_NODES = 100_000
MAX_DEPTH = 40
VOCABULARY_FILE = "topics.yaml"
SOURCES_DIR = "sources"

_CURLY = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'"})
_FIELD_PREFIX = re.compile(r"^([A-Za-z_]\w*(?:\.\w+)*): (.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class LoadError:
    """One problem in one file, located as precisely as the file allows."""

    path: Path
    message: str
    field: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.field or '(file)'}: {self.message}"


class BriefFileError(Exception):
    """A file could not be loaded; carries every error found in it."""

    def __init__(self, errors: list[LoadError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class LoadedBrief:
    """A valid brief and the file it came from."""

    brief: Brief
    path: Path
    # (mtime_ns, size) of the file, the vocabulary and the source text when it was loaded:
    # an unchanged stamp lets a reload reuse the brief without parsing it again.
    stamp: tuple[tuple[int, int], ...] = ()


def file_stamp(path: Path, root: Path, source_text: str | None) -> tuple[tuple[int, int], ...]:
    """What must be unchanged for a loaded brief to still be valid."""
    stamps = []
    for p in (path, root / VOCABULARY_FILE, root / source_text if source_text else None):
        if p is None:
            continue
        try:
            st = p.stat()
        except OSError:
            stamps.append((-1, -1))
        else:
            stamps.append((st.st_mtime_ns, st.st_size))
    return tuple(stamps)


def normalise_quote_text(text: str) -> str:
    """Fold curly quote marks to straight ones and runs of whitespace to one space."""
    return " ".join(text.translate(_CURLY).split())


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Read one YAML file safely, returning its data and node tree (for locating errors)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BriefFileError([LoadError(path, f"cannot read file: {exc.strerror}")]) from exc
    if size > MAX_FILE_BYTES:
        raise BriefFileError(
            [LoadError(path, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")]
        )
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise BriefFileError([LoadError(path, "binary file (contains NUL bytes), not YAML")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise BriefFileError(
            [LoadError(path, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})", line=line)]
        ) from exc
    loader = _BaseLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_shape(path, node)
        return loader.construct_document(node), node
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        if exc.context:
            started = f" (started on line {exc.context_mark.line + 1})" if exc.context_mark else ""
            problem = f"{exc.context}{started}: {problem}"
        raise BriefFileError(
            [
                LoadError(
                    path,
                    f"YAML syntax error: {problem}",
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
            ]
        ) from exc
    except yaml.YAMLError as exc:
        raise BriefFileError([LoadError(path, f"YAML error: {exc}")]) from exc
    finally:
        loader.dispose()


def _check_shape(path: Path, root: yaml.Node) -> None:
    """Refuse duplicate keys, deep nesting and alias expansion beyond sane bounds."""
    visits = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        visits += 1
        if visits > MAX_NODES:
            raise BriefFileError(
                [
                    LoadError(
                        path,
                        f"document expands to more than {MAX_NODES:,} nodes "
                        "(YAML anchors/aliases used as a bomb?)",
                    )
                ]
            )
        if depth > MAX_DEPTH:
            raise BriefFileError(
                [
                    LoadError(
                        path,
                        f"nesting deeper than {MAX_DEPTH} levels",
                        line=node.start_mark.line + 1,
                    )
                ]
            )
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise BriefFileError(
                            [
                                LoadError(
                                    path,
                                    f"duplicate key {key.value!r} "
                                    f"(first on line {seen[key.value]})",
                                    field=str(key.value),
                                    line=key.start_mark.line + 1,
                                    column=key.start_mark.column + 1,
                                )
                            ]
                        )
                    seen[key.value] = key.start_mark.line + 1
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)


def _locate(node: yaml.Node | None, loc: tuple[int | str, ...]) -> yaml.Node | None:
    """The deepest node along a pydantic error location."""
    found = node
    for part in loc:
        if isinstance(found, yaml.MappingNode):
            nxt = next((v for k, v in found.value if str(k.value) == str(part)), None)
        elif isinstance(found, yaml.SequenceNode) and isinstance(part, int):
            nxt = found.value[part] if 0 <= part < len(found.value) else None
        else:
            nxt = None
        if nxt is None:
            break
        found = nxt
    return found


def _validation_errors(path: Path, node: yaml.Node | None, exc: ValidationError) -> list[LoadError]:
    errors = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        # Cross-field checks run on the whole model; they name their field as "a.0.b: message".
        match = _FIELD_PREFIX.match(message)
        if match and not loc:
            loc = tuple(int(p) if p.isdigit() else p for p in match.group(1).split("."))
            message = match.group(2)
        target = _locate(node, loc)
        errors.append(
            LoadError(
                path,
                message,
                field=".".join(str(p) for p in loc) or None,
                line=target.start_mark.line + 1 if target is not None else None,
                column=target.start_mark.column + 1 if target is not None else None,
            )
        )
    return errors


def load_vocabulary(path: Path) -> Vocabulary:
    """Load the shared topic vocabulary; raises BriefFileError."""
    data, node = read_yaml(path)
    try:
        return Vocabulary.model_validate(data)
    except ValidationError as exc:
        raise BriefFileError(_validation_errors(path, node, exc)) from exc


def load_brief(path: Path, vocabulary: Vocabulary, root: Path) -> Brief:
    """Load, validate and ground one brief file; raises BriefFileError."""
    data, node = read_yaml(path)
    if not isinstance(data, dict):
        raise BriefFileError([LoadError(path, "a brief must be a YAML mapping of fields", line=1)])
    try:
        brief = Brief.model_validate(data, context={"vocabulary": vocabulary})
    except ValidationError as exc:
        raise BriefFileError(_validation_errors(path, node, exc)) from exc
    if brief.source.text is not None:
        errors = _ground(path, node, brief, root)
        if errors:
            raise BriefFileError(errors)
    return brief


def _ground(path: Path, node: yaml.Node | None, brief: Brief, root: Path) -> list[LoadError]:
    """Every quote and figure must stand verbatim in the brief's own source text."""
    assert brief.source.text is not None
    source_path = (root / brief.source.text).resolve()
    field_node = _locate(node, ("source", "text"))
    line = field_node.start_mark.line + 1 if field_node is not None else None
    if not source_path.is_relative_to(root.resolve()):
        return [
            LoadError(path, "source text must lie inside the briefs directory", "source.text", line)
        ]
    try:
        if source_path.stat().st_size > MAX_FILE_BYTES:
            return [LoadError(path, "source text is larger than 1 MiB", "source.text", line)]
        text = source_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [
            LoadError(
                path, f"cannot read source text {brief.source.text}: {exc}", "source.text", line
            )
        ]
    excluded = [re.compile(p) for p in brief.source.exclude_lines]
    body = normalise_quote_text(
        "\n".join(ln for ln in text.splitlines() if not any(p.search(ln) for p in excluded))
    )
    errors = []
    for loc, needle, what in _grounded_texts(brief):
        if normalise_quote_text(needle) not in body:
            target = _locate(node, loc)
            errors.append(
                LoadError(
                    path,
                    f"{what} {_clip(needle)!r} does not appear verbatim in {brief.source.text}",
                    ".".join(str(p) for p in loc),
                    target.start_mark.line + 1 if target is not None else None,
                )
            )
    return errors


def _grounded_texts(brief: Brief) -> Iterator[tuple[tuple[int | str, ...], str, str]]:
    for i, quote in enumerate(brief.quotes):
        yield ("quotes", i, "text"), quote.text, f"quote by {quote.speaker}"
    for i, claim in enumerate(brief.claims):
        for j, figure in enumerate(claim.figures):
            yield ("claims", i, "figures", j, "value"), figure.value, "figure"


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True, slots=True)
class LoadReport:
    """The result of loading a directory: the good briefs, and every error."""

    vocabulary: Vocabulary | None
    briefs: tuple[LoadedBrief, ...]
    errors: tuple[LoadError, ...]


def brief_files(root: Path) -> list[Path]:
    """The brief files of a directory, in a stable order."""
    return sorted(
        p
        for p in root.iterdir()
        if p.suffix in {".yaml", ".yml"}
        and p.name != VOCABULARY_FILE
        and not p.name.startswith(".")
    )


def load_directory(root: Path, previous: dict[Path, LoadedBrief] | None = None) -> LoadReport:
    """Load every brief under `root`; a broken file never stops the others.

    With `previous` (the last good brief of each file), a file that fails keeps its last good
    version live, so a broken edit does not take a brief away from users.
    """
    if not root.is_dir():
        return LoadReport(None, (), (LoadError(root, "briefs directory does not exist"),))
    try:
        vocabulary = load_vocabulary(root / VOCABULARY_FILE)
    except BriefFileError as exc:
        return LoadReport(None, (), tuple(exc.errors))
    loaded: list[LoadedBrief] = []
    errors: list[LoadError] = []
    by_id: dict[str, Path] = {}
    for path in brief_files(root):
        before = (previous or {}).get(path)
        try:
            if before is not None and before.stamp == file_stamp(
                path, root, before.brief.source.text
            ):
                item = before
            else:
                # Stamp first: an edit landing mid-load then shows up as changed next time.
                stamp_now = file_stamp(path, root, None)
                brief = load_brief(path, vocabulary, root)
                stamp = file_stamp(path, root, brief.source.text)
                item = LoadedBrief(brief, path, stamp if stamp[:2] == stamp_now else ())
        except BriefFileError as exc:
            errors.extend(exc.errors)
            kept = (previous or {}).get(path)
            if kept is None:
                continue
            log.warning("keeping the last good version of %s live", path)
            item = kept
        first = by_id.get(item.brief.id)
        if first is not None:
            errors.append(
                LoadError(path, f"duplicate id {item.brief.id!r}: already used by {first}", "id")
            )
            continue
        by_id[item.brief.id] = path
        loaded.append(item)
    return LoadReport(vocabulary, tuple(loaded), tuple(errors))
