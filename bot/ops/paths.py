"""Whether this user may keep files where briefbot keeps its derived data (the brief index)."""

from __future__ import annotations

import os
from pathlib import Path

# SQLite writes these beside the index in write-ahead-log mode.
_SIDECARS = ("", "-wal", "-shm")


def unwritable(folder: Path) -> str | None:
    """Why this user cannot keep files in `folder` (created on first use if missing), or None."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        if existing == folder:
            return f"{folder} is a file, not a folder"
        return f"{folder} cannot be created: {existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == folder:
            return f"{folder} is not writable by this user"
        return f"{folder} cannot be created by this user ({existing} is not writable)"
    return None


def index_problem(index_path: Path) -> str | None:
    """Why the shared brief index at `index_path` cannot be used by this user, or None."""
    problem = unwritable(index_path.parent)
    if problem is not None:
        return problem
    for suffix in _SIDECARS:
        path = index_path.with_name(index_path.name + suffix)
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            return f"{path} is not writable by this user"
    return None


def briefs_folder_problem(
    folder: Path, *, readable: bool = True, setting: str = "set BRIEFBOT_BRIEFS_DIR to"
) -> str | None:
    """Why the briefs folder cannot be served, or None (`readable=False`: whether it is a
    folder at all; the loader names an unreadable one in its own errors). `setting`: how the
    user names the folder (the fix says it)."""
    setting = f"{setting} the folder of your briefs"
    # A relative path is relative to where briefbot started (a service's working directory).
    named = str(folder) if folder.is_absolute() else f"{folder} ({folder.absolute()})"
    if not folder.exists():
        return f"briefs folder {named} does not exist: {setting} (or create it)"
    if not folder.is_dir():
        return f"briefs folder {named} is not a folder: {setting}"
    if readable and not os.access(folder, os.R_OK | os.X_OK):
        return f"briefs folder {named} cannot be read: {setting}, or let briefbot read it"
    return None
