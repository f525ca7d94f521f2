"""The two renames that replace a school's folder whole (see :mod:`gaptools.batch.outdir`): the user's
files carried into the new folder first, and a swap a killed run left half done put back."""
from __future__ import annotations

import os
import shutil
from pathlib import Path


def recover(path: Path, work: Path, keep: str) -> None:
    """Undo what a killed run left half done in output folder ``path``: put back a folder caught between
    two renames, and remove stages and working files of earlier runs (and versions) from ``work``,
    all but the entry named ``keep`` (the lock)."""
    old = work / "old"
    if old.is_dir() and not old.is_symlink():
        for moved in old.iterdir():
            final = path / moved.name
            if not final.exists() and not final.is_symlink():
                os.rename(moved, final)
            else:  # the new folder is in place; every user file in it has its own link
                shutil.rmtree(moved, ignore_errors=True)
    for entry in work.iterdir():
        if entry.name == keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def link_user_files(final: Path, stage: Path, skip: set[str]) -> None:
    """Give every file in ``final`` that gaptools did not write a second name in ``stage``.

    Hard links cost nothing and mean the file always has a name in the output
    folder or in ``.gaptools/old`` while the folders swap; where a file system
    has no hard links, the file is copied. Links are linked, never followed.
    """
    for root, dirs, files in os.walk(final):
        here = Path(root)
        rel_dir = here.relative_to(final)
        for name in [*files, *(d for d in dirs if (here / d).is_symlink())]:
            rel = (rel_dir / name).as_posix()
            if rel in skip:
                continue
            dest = stage / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(here / name, dest, follow_symlinks=False)
            except OSError:
                shutil.copy2(here / name, dest, follow_symlinks=False)
        for d in dirs:
            if not (here / d).is_symlink():
                (stage / rel_dir / d).mkdir(parents=True, exist_ok=True)
