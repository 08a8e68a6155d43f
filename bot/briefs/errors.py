"""Reading YAML safely, with every error located: file, line, column and field.

This is the full path: a node tree kept for locating errors, shape checks against alias bombs
and deep nesting, duplicate keys refused, pydantic errors mapped back to their lines. The fast
path (`bot.briefs.fast`) hands every file it cannot vouch for to this one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.briefs.excerpt import escape_controls, excerpt, first_control, one_line
from bot.briefs.files import BriefsFolder, FileRefused

try:  # The C parser is several times faster; fall back to pure Python where libyaml is missing.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

# The YAML loader both paths build on.
SafeLoader = _Loader

MAX_FILE_BYTES = 1024 * 1024
# A brief is a few hundred nodes; these bounds stop alias bombs and pathological nesting
# long before they cost memory or time.
MAX_NODES = 100_000
MAX_DEPTH = 40

# The longest YAML problem phrase quoted: it may hold a tag or alias name from the file.
_PROBLEM_WIDTH = 100
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
        # Escaped here too (defence in depth): an error is printed to terminals and logs.
        return escape_controls(f"{where}: {self.field or '(file)'}: {self.message}")


class BriefFileError(Exception):
    """A file could not be loaded; carries every error found in it."""

    def __init__(self, errors: list[LoadError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def read_text(path: Path) -> str:
    """The file's text, refusing unsafe (see files.py), oversize, binary and non-UTF-8 files."""
    try:
        raw = BriefsFolder(path.parent).read(path, MAX_FILE_BYTES)
    except FileRefused as exc:
        raise BriefFileError([LoadError(path, exc.reason)]) from exc
    if b"\x00" in raw:
        raise BriefFileError([LoadError(path, "binary file (contains NUL bytes), not YAML")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise BriefFileError(
            [LoadError(path, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})", line=line)]
        ) from exc


def parse_located(path: Path, text: str) -> tuple[Any, yaml.Node | None]:
    """The full parse: node tree, shape checks, SafeConstructor; every error located."""
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_shape(path, node)
        try:
            return loader.construct_document(node), node
        except (ValueError, OverflowError) as exc:  # e.g. the date 2026-02-30
            bad = _unreadable_scalar(loader, node)
            why = one_line(str(exc), _PROBLEM_WIDTH)
            if bad is None:
                raise BriefFileError([LoadError(path, f"YAML error: {why}")]) from exc
            message = f"YAML error: {excerpt(bad.value)} is not a valid value ({why})"
            line = bad.start_mark.line + 1
            raise BriefFileError([LoadError(path, message, line=line)]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # Never str(exc): PyYAML's message quotes the offending line. Problem and context are
        # short phrases, but may quote a tag or alias of any length: clipped.
        problem = one_line(exc.problem or "cannot parse", _PROBLEM_WIDTH)
        if exc.context:
            started = f" (started on line {exc.context_mark.line + 1})" if exc.context_mark else ""
            problem = f"{one_line(exc.context, _PROBLEM_WIDTH)}{started}: {problem}"
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
        why = one_line(str(exc), _PROBLEM_WIDTH)
        raise BriefFileError([LoadError(path, f"YAML error: {why}")]) from exc
    finally:
        loader.dispose()


def _unreadable_scalar(loader: Any, root: yaml.Node) -> yaml.Node | None:
    """The first scalar whose value cannot be built (a shape-checked tree: bounded)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            build = loader.yaml_constructors.get(node.tag)
            try:
                if build is not None:
                    build(loader, node)
            except (ValueError, OverflowError):
                return node
        elif isinstance(node, yaml.MappingNode):
            stack.extend(child for pair in reversed(node.value) for child in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return None


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
                                    f"duplicate key {excerpt(str(key.value))} "
                                    f"(first on line {seen[key.value]})",
                                    field=one_line(str(key.value), 40),
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


def locate(node: yaml.Node | None, loc: tuple[int | str, ...]) -> yaml.Node | None:
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


def validation_errors(path: Path, node: yaml.Node | None, exc: ValidationError) -> list[LoadError]:
    errors = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "string_pattern_mismatch" and isinstance(err["input"], str):
            message = _pattern_message(err["input"], message)
        # Cross-field checks run on the whole model; they name their field as "a.0.b: message".
        match = _FIELD_PREFIX.match(message)
        if match and not loc:
            loc = tuple(int(p) if p.isdigit() else p for p in match.group(1).split("."))
            message = match.group(2)
        target = locate(node, loc)
        errors.append(
            LoadError(
                path,
                message,
                # A location may hold a key from the file (an unknown field): kept short.
                field=".".join(one_line(str(p), 40) for p in loc) or None,
                line=target.start_mark.line + 1 if target is not None else None,
                column=target.start_mark.column + 1 if target is not None else None,
            )
        )
    return errors


def _pattern_message(value: str, message: str) -> str:
    """A pattern mismatch in words: a control character is named, escaped, with its place."""
    found = first_control(value)
    if found is None:
        return message
    position, control = found
    return (
        f"contains the control character {control} (character {position + 1}); "
        "brief text must be plain text"
    )
