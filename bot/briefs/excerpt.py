"""Brief text shown safely on a terminal or in an error: controls escaped, excerpts short."""

from __future__ import annotations

import re

from bot.text import clip

# C0 and C1 controls, DEL, and the Unicode controls that reorder or hide text on a terminal
# (bidirectional overrides and isolates). ESC (\x1b) and CSI (\x9b) start escape sequences:
# escaping them turns a whole sequence into harmless visible text.
_UNSAFE = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE_LAYOUT = re.compile(f"[{_UNSAFE}]")  # keeps \t and \n, which layout needs
_UNSAFE_ALL = re.compile(f"[\\t\\n{_UNSAFE}]")

# Brief text is refused at validation when it holds any of these (as models.NO_CONTROLS).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# The longest excerpt of a file's own text an error message quotes.
EXCERPT_WIDTH = 60


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x09:
        return "\\t"
    if code == 0x0A:
        return "\\n"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, *, keep_layout: bool = True) -> str:
    """`text` with control characters shown as `\\x1b`-style escapes (tabs and newlines kept)."""
    pattern = _UNSAFE_LAYOUT if keep_layout else _UNSAFE_ALL
    return pattern.sub(_escaped, text)


def one_line(text: str, width: int = EXCERPT_WIDTH) -> str:
    """At most `width` characters of `text` on one line, escaped, with `…` when cut."""
    return clip(escape_controls(text, keep_layout=False), width)


def excerpt(text: str, width: int = EXCERPT_WIDTH) -> str:
    """A short, escaped, quoted excerpt of a file's text, for an error message."""
    shown = one_line(text, width)
    quote = '"' if "'" in shown and '"' not in shown else "'"
    return f"{quote}{shown}{quote}"


def first_control(text: str) -> tuple[int, str] | None:
    """Where the first control character in `text` is, and itself escaped (e.g. `\\x1b`)."""
    found = CONTROL_CHARACTERS.search(text)
    return None if found is None else (found.start(), _escaped(found))
