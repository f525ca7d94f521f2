"""The run's private working folder: the validated pupil table, kernel connection files, scratch.

Pupil-level working data never goes into the output folder (which a trust
shares): it lives in a folder only this user can read (mode 0700, from
:func:`tempfile.mkdtemp`), removed when the run ends, however it ends. A run
killed outright (``kill -9``) cannot clean up after itself, so every run first
removes the folders of earlier runs that are provably gone: each run holds an
``flock`` on its folder's ``alive`` file, which the system releases when the
process ends, however it ends. A process id would not do: a run in another PID
namespace (another container sharing /tmp) has an id this one cannot see.

The temporary folder is ``$TMPDIR`` when it is set: one that is not a writable
folder is an error, never a silent fall-back to /tmp (where pupil-level working
data might not be meant to go).
"""
from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import UsageError

PREFIX = "gaptools-run-"
ALIVE = "alive"
#: A folder without an ``alive`` file (made by a gaptools before the lock, or this instant by a run that
#: has not taken its lock yet) is swept only when its process is gone and it is older than this.
UNLOCKED_GRACE_S = 3600


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _held(path: Path) -> bool | None:
    """Whether a live run holds ``path/alive`` (None when the folder has no such file)."""
    try:
        fd = os.open(path / ALIVE, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError:
        return True  # cannot tell: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock this probe took
    return False


def remove_orphans(root: str | Path | None = None) -> list[Path]:
    """Remove the working folders of runs that died without cleaning up.

    Only this user's folders named ``gaptools-run-<pid>-*`` whose ``alive`` lock no
    process holds are removed (see the module's note); one without the lock file only
    when its process is gone and it is over an hour old.

    Returns
    -------
    list of Path
        The folders removed.
    """
    root = Path(root or temp_root())
    removed = []
    for path in root.glob(f"{PREFIX}*"):
        try:
            pid = int(path.name[len(PREFIX):].split("-", 1)[0])
            st = path.lstat()
        except (ValueError, OSError):
            continue
        if path.is_symlink() or st.st_uid != os.getuid():
            continue
        held = _held(path)
        if held or (held is None and (_alive(pid) or time.time() - st.st_mtime < UNLOCKED_GRACE_S)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def temp_root() -> str:
    """The folder for private working folders: ``$TMPDIR`` if set (it must be a writable folder), else
    the system's.

    Raises
    ------
    UsageError
        ``TMPDIR`` is set but is not a folder this user can write.
    """
    chosen = os.environ.get("TMPDIR")
    if chosen:
        if not os.path.isdir(chosen) or not os.access(chosen, os.W_OK | os.X_OK):
            raise UsageError(f"TMPDIR is set to {chosen}, which is not a folder you can write; set TMPDIR to "
                             "one (gaptools keeps its working files there) or unset it")
        return chosen
    return tempfile.gettempdir()


@contextmanager
def private_folder(root: str | Path | None = None):
    """A folder only this user can open (0700), removed on leaving, also after an error or Ctrl-C.

    Yields
    ------
    Path
    """
    root = root or temp_root()
    remove_orphans(root)
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
    # held until this process ends: no other run sweeps the folder while it is in use (inherited by
    # nothing that outlives the run: Python opens it close-on-exec). Locked under another name, then
    # renamed: another run's sweep never finds an ``alive`` that is not yet locked.
    lock = os.open(path / f".{ALIVE}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    os.rename(path / f".{ALIVE}", path / ALIVE)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(lock)
