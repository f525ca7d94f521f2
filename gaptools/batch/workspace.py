"""The run's private working folder: the validated pupil table, kernel connection files, scratch.

Pupil-level working data never goes into the output folder (which a trust
shares): it lives in a folder only this user can read (mode 0700, from
:func:`tempfile.mkdtemp`), removed when the run ends, however it ends. A run
killed outright (``kill -9``) cannot clean up after itself, so every run first
removes the folders of earlier runs whose process is gone.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

PREFIX = "gaptools-run-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphans(root: str | Path | None = None) -> list[Path]:
    """Remove the working folders of runs that died without cleaning up.

    Only this user's folders named ``gaptools-run-<pid>-*`` whose process no
    longer exists are removed.

    Returns
    -------
    list of Path
        The folders removed.
    """
    root = Path(root or tempfile.gettempdir())
    removed = []
    for path in root.glob(f"{PREFIX}*"):
        try:
            pid = int(path.name[len(PREFIX):].split("-", 1)[0])
            st = path.lstat()
        except (ValueError, OSError):
            continue
        if path.is_symlink() or st.st_uid != os.getuid() or _alive(pid):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


@contextmanager
def private_folder(root: str | Path | None = None):
    """A folder only this user can open (0700), removed on leaving, also after an error or Ctrl-C.

    Yields
    ------
    Path
    """
    remove_orphans(root)
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
