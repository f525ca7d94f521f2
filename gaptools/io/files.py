"""Writing files so that a reader never sees half of one: the one atomic writer.

Who may read a file follows what is in it: a page or file made to be shared
(an index, a gap analysis, ``results.json``) gets the permissions the user's
umask gives any new file, as an editor's would; a file that names pupils
(a school's pupil list, its targeting page) is ``private``: readable by its
owner only (0600), whatever the umask.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: The mode of a file that names pupils.
PRIVATE_MODE = 0o600


def user_umask() -> int:
    """The process's umask, read without changing it (``os.umask`` would, for a moment, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)  # no /proc (macOS): the brief change errs on the private side
    os.umask(mask)
    return mask


def shared_mode() -> int:
    """The mode a new file to share gets: read and write as the user's umask allows (0644 under 022)."""
    return 0o666 & ~user_umask()


def set_mode(path: str | Path, *, private: bool = False) -> Path:
    """Give ``path`` the mode its content calls for: :data:`PRIVATE_MODE` if ``private``, else :func:`shared_mode`."""
    os.chmod(path, PRIVATE_MODE if private else shared_mode())
    return Path(path)


def atomic_write_bytes(path: str | Path, data: bytes, *, private: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically.

    The bytes go to a temporary file beside ``path`` (same file system), are
    flushed to disk, then renamed over ``path``. On any failure (a full disk, a
    read-only folder) the temporary file is removed and the error is raised:
    no partial file and no ``.tmp`` file is ever left behind.

    Parameters
    ----------
    path : str or Path
        The file to write; its folder must exist.
    data : bytes
    private : bool, default False
        The file names pupils: readable by its owner only (0600). Otherwise it
        is readable as the user's umask allows, like any file they make.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:  # mkstemp made it 0600: never readable by others before its time
            if not private:
                os.fchmod(fh.fileno(), shared_mode())
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8", *, private: bool = False) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode(encoding), private=private)
