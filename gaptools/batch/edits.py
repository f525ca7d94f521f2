"""Edits survive a run: a file gaptools would replace that someone changed is kept beside it.

A teacher adds a note to ``targets.csv``; a head fills in the draft
``strategy.md``; a governor's clerk saves their own ``summary.pdf`` in a
school's folder. The next run (or ``--resume``) writes those names again. A file
whose SHA-256 differs from the one gaptools recorded when it wrote it, or a
file gaptools never wrote that has one of its names, is first given a name of
its own (``strategy.edited-2026-03-03.md``) and the run says so; only then is
the new file written.
"""
from __future__ import annotations

import hashlib
import os
import stat
from datetime import date
from pathlib import Path

#: ``recorded`` when gaptools has no record of the file (the user's own file with a gaptools name).
NOT_OURS = object()


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def edited_name(path: Path, today: date | None = None) -> Path:
    """A free name beside ``path`` for the user's copy: ``strategy.edited-2026-03-03.md`` (then ``-2``...)."""
    day = (today or date.today()).isoformat()
    stem, suffix = path.name.split(".", 1) if "." in path.name else (path.name, "")
    suffix = f".{suffix}" if suffix else ""
    candidate, n = path.with_name(f"{stem}.edited-{day}{suffix}"), 2
    while os.path.lexists(candidate):
        candidate, n = path.with_name(f"{stem}.edited-{day}-{n}{suffix}"), n + 1
    return candidate


def keep_if_edited(path: Path, recorded=NOT_OURS) -> Path | None:
    """Move ``path`` to an :func:`edited_name` when it is not gaptools' file as gaptools wrote it.

    Parameters
    ----------
    path : Path
        A file gaptools is about to write (no symbolic link in its path: the caller checked).
    recorded : str, None or NOT_OURS
        The SHA-256 gaptools recorded when it wrote ``path``; None while the record is being
        written (the file is taken as gaptools'); :data:`NOT_OURS` when gaptools never wrote it.

    Returns
    -------
    Path or None
        Where the user's file now is, or None when there was nothing to keep.
    """
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(mode):
        return None
    if recorded is not NOT_OURS and (recorded is None or sha256_file(path) == recorded):
        return None
    kept = edited_name(path)
    os.rename(path, kept)  # same folder: atomic, and the user's bytes are never rewritten
    return kept
