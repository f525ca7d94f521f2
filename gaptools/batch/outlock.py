"""Who may write an output folder: refused before any work if it is not a folder gaptools may write, and
``.gaptools/lock`` (an ``flock``, released by the system when the process ends, however it ends) held by
one run at a time. The folder itself is :class:`gaptools.batch.outdir.OutputFolder`."""
from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

from ..errors import UsageError
from .manifest import MANIFEST, read_manifest
from .school import WORK

LOCK = "lock"


def check_output_folder(path: Path, *, force: bool = False) -> None:
    """Refuse, before any work, an output folder gaptools must not write.

    Raises
    ------
    UsageError
        ``path`` is a file; its ``.gaptools`` is a link; another gaptools run
        is writing it; or it is a non-empty folder that no gaptools run wrote
        (unless ``force``).
    """
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {path}: this is a file, not a folder; give a folder for the reports")
    if not path.is_dir():
        return
    work = path / WORK
    if work.is_symlink() or (work.exists() and not work.is_dir()):
        raise UsageError(f"{work}: not a folder gaptools made (a link or a file); gaptools will not write through it. "
                         "Remove it, or choose another --out folder")
    try:
        entries = {p.name for p in path.iterdir()}
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot read this folder: {exc.strerror or exc}") from exc
    refuse_if_in_use(path)
    if entries - {WORK} and read_manifest(path) is None and not force:
        raise UsageError(
            f"--out {path}: this folder is not empty and is not a gaptools output (it has no gaptools "
            f"{MANIFEST}). Choose a new or empty folder, or add --force to write the reports into it "
            "(files gaptools does not write are kept)")


def in_use_error(path: Path, holder: str) -> UsageError:
    """The refusal of a folder another run is writing (``holder``: what its lock file says)."""
    return UsageError(f"--out {path}: another gaptools run is writing this folder ({holder or 'running'}); "
                      "wait for it to finish, or choose another --out folder")


def refuse_if_in_use(path: Path) -> None:
    """Refuse a folder another run holds, before any work (the lock itself is taken later, by
    :class:`OutputFolder`, and refuses a run that slips in between)."""
    import fcntl

    try:
        fd = os.open(path / WORK / LOCK, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:  # no lock file: no run has held this folder
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # released as the file closes
    except BlockingIOError:
        raise in_use_error(path, os.read(fd, 4096).decode("utf-8", "replace").strip()) from None
    finally:
        os.close(fd)



def take_lock(path: Path) -> int:
    """Hold the lock of output folder ``path`` (its ``.gaptools`` made): the open lock file's descriptor,
    which releases the lock as it closes.

    Raises
    ------
    UsageError
        Another run holds it.
    """
    import fcntl

    fd = os.open(path / WORK / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    for attempt in range(21):  # a check by another run starting (refuse_if_in_use) holds it a moment only
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if attempt == 20:
                holder = os.read(fd, 4096).decode("utf-8", "replace").strip()
                os.close(fd)
                raise in_use_error(path, holder) from None
            time.sleep(0.005)
    os.ftruncate(fd, 0)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, started {started}".encode(), 0)
    return fd
