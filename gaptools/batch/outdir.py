"""The output folder belongs to the user: gaptools changes only the files it wrote.

``manifest.json`` records every file gaptools wrote there, with its SHA-256
(``files``), and which data each school folder was made from (``folders``).
From that record alone a later run knows which files are its own to replace
or remove, and whether a school's folder is complete and current; any other
file (a note a teacher added to a school folder) is kept. Nothing is written
through a symbolic link, and a school folder is replaced whole, atomically:

1. the new folder is built aside, in ``.gaptools/stage-*``;
2. the manifest records the new files as gaptools' own (not yet verified);
3. the user's files in the old folder get a second name (a hard link) in the new one;
4. old folder -> ``.gaptools/old/``, new folder -> its place (two renames);
5. the old folder is removed and the manifest records the new files' hashes.

A run killed between the renames leaves the old folder in ``.gaptools/old``;
the next run puts it back before anything else. A run holds
``.gaptools/lock`` (an ``flock``, released by the system when the process
ends, however it ends) so that two runs never write the same folder at once.

Each of those steps is recorded as it happens, in the manifest's journal
(:class:`gaptools.batch.manifest.Journal`): a few hundred bytes a school,
whatever the size of the trust; ``manifest.json`` itself is written whole at
the run's milestones (:meth:`OutputFolder.save`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

from ..io.files import atomic_write_bytes, atomic_write_text
from .edits import NOT_OURS, keep_if_edited, sha256_file
from .manifest import JOURNAL, MANIFEST, Journal, Tracked, file_record, load_manifest, read_manifest
from .outlock import LOCK, check_output_folder, take_lock
from .school import SCHOOL_NOTEBOOKS, WORK
from .swap import link_user_files, recover

__all__ = ["JOURNAL", "LOCK", "MANIFEST", "REQUIRED", "OutputError", "OutputFolder", "check_output_folder",
           "read_manifest"]

#: What makes a school's folder complete (besides every recorded file being intact).
REQUIRED = ("results.json", *(f"{name}.html" for name, _ in SCHOOL_NOTEBOOKS))


class OutputError(OSError):
    """The output folder cannot be written as asked (a symbolic link in the way, a file for a folder)."""


class OutputFolder:
    """The output folder of one run: its lock, its record of gaptools' files, its changes.

    Use as a context manager (it takes the lock on entering and releases it,
    removing its work area, on leaving).

    Parameters
    ----------
    path : Path
        The output folder, already resolved to an absolute path.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.work = self.path / WORK
        self.files: Tracked = Tracked()            # relative path -> sha256 (None: being written)
        self.folders: Tracked = Tracked()          # school folder -> {"school_id", "input_hash"}
        self.fields: dict = {}                     # the rest of the manifest (the runner's)
        self.kept: list[dict] = []                 # this run's edited files kept: {"file", "kept_as"}
        self.stage: Path | None = None
        self.journal = Journal(self.path)
        self._kept_journaled = 0                   # how many of self.kept the journal holds
        self._lock_fd: int | None = None

    # ----------------------------------------------------------- lock and recovery
    def __enter__(self) -> OutputFolder:
        self.path.mkdir(parents=True, exist_ok=True)
        if self.work.is_symlink():
            raise OutputError(f"{self.work} is a symbolic link; gaptools will not write through it")
        self.work.mkdir(mode=0o700, exist_ok=True)
        self._lock()
        try:
            self._recover()
            self._read_record()
            self.stage = self.work / f"stage-{os.getpid()}"
            self.stage.mkdir(mode=0o700)
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.journal.close()
        try:
            if self.stage is not None:
                shutil.rmtree(self.stage, ignore_errors=True)
            shutil.rmtree(self.work / "old", ignore_errors=True)
        finally:
            self._unlock()

    def _lock(self) -> None:
        self._lock_fd = take_lock(self.path)

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def _recover(self) -> None:
        """Undo what a killed run left half done (see :func:`gaptools.batch.swap.recover`)."""
        recover(self.path, self.work, keep=LOCK)

    def _read_record(self) -> None:
        found, digest, replayed = load_manifest(self.path)
        doc = found or {}
        self.previous = doc
        files, folders = file_record(doc)
        self.files, self.folders = Tracked(files), Tracked(folders)
        self.fields = {k: v for k, v in doc.items() if k not in ("files", "folders", "kept_edits")}
        if replayed:  # a killed run's journal: written into the manifest before this run adds its own
            self.save()
            return
        self.journal.restart(None)  # a journal that follows no manifest here is stale
        if found is not None and "files" in doc:  # this run's changes are journaled after this manifest
            self.journal.base, self.journal.base_size = digest, (self.path / MANIFEST).stat().st_size

    # ----------------------------------------------------------- paths
    def _inside(self, rel: str) -> Path | None:
        """``path/rel`` if no part of it below the output folder is a symbolic link, else None."""
        parts = Path(rel).parts
        if not parts or ".." in parts or Path(rel).is_absolute():
            return None
        here = self.path
        for part in parts:
            here = here / part
            if here.is_symlink():
                return None
        return here

    def real_dir(self, rel: str) -> Path:
        """The folder ``path/rel``, created if missing; refused if it is a link or a file."""
        here = self._inside(rel)
        if here is None or (here.exists() and not here.is_dir()):
            raise OutputError(f"{self.path / rel} is a symbolic link or a file; gaptools will not write through it")
        here.mkdir(parents=True, exist_ok=True)
        return here

    def owned(self, folder: str) -> dict[str, str | None]:
        """gaptools' own files in school folder ``folder`` (paths relative to it)."""
        head = folder + "/"
        return {rel[len(head):]: h for rel, h in self.files.items() if rel.startswith(head)}

    # ----------------------------------------------------------- schools
    def verified(self, folder: str, school_id: str, input_hash: str) -> list[str] | None:
        """The school's outputs if its folder is complete, intact and made from these inputs, else None.

        Complete: every file gaptools recorded there is a regular file (not a
        link) with the recorded SHA-256, the reports and ``results.json`` are
        among them, and ``results.json`` parses.
        """
        meta = self.folders.get(folder)
        if input_hash is None or not meta or meta.get("input_hash") != input_hash or meta.get("school_id") != school_id:
            return None
        files = self.owned(folder)
        if not set(REQUIRED) <= set(files):
            return None
        for rel, digest in files.items():
            path = self._inside(f"{folder}/{rel}")
            try:
                if digest is None or path is None or not stat.S_ISREG(path.lstat().st_mode) \
                        or sha256_file(path) != digest:
                    return None
            except OSError:
                return None
        try:
            doc = json.loads((self.path / folder / "results.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(doc, dict) or not isinstance(doc.get("gaps"), list):
            return None
        return sorted(f"{folder}/{rel}" for rel in files)

    def commit(self, folder: str, school_id: str, input_hash: str, stage: Path) -> list[str]:
        """Put a finished school folder in place of the old one, keeping the user's files in it.

        Returns
        -------
        list of str
            The school's outputs, relative to the output folder.

        Raises
        ------
        OSError
            The folder could not be replaced (the old one, if any, is still in place).
        """
        final = self.path / folder
        if final.is_symlink() or (final.exists() and not final.is_dir()):
            raise OutputError(f"{final} is a symbolic link or a file, not a folder gaptools made; "
                              "gaptools will not replace it")
        new = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
        ours = self.owned(folder)
        if final.is_dir():  # an edited file of ours, or the user's own under one of our names, is kept aside
            for rel in new:
                self._keep(f"{folder}/{rel}", ours.get(rel, NOT_OURS))
        for rel in new:  # journal first: whatever is on disk next, the record claims no more than is true
            self.files[f"{folder}/{rel}"] = None
        self.folders[folder] = {"school_id": school_id, "input_hash": None}
        self.record(durable=True)  # on disk before the folders swap
        if final.is_dir():
            link_user_files(final, stage, skip=set(ours) | set(new))
        old = self.work / "old" / folder
        shutil.rmtree(old, ignore_errors=True)
        old.parent.mkdir(exist_ok=True)
        if final.exists():
            os.rename(final, old)
        try:
            os.rename(stage, final)  # the whole folder appears at once
        except OSError:
            if old.exists() and not final.exists():
                os.rename(old, final)
            raise
        shutil.rmtree(old, ignore_errors=True)
        for rel in set(ours) - set(new):  # our old files that are not made any more went with the old folder
            self.files.pop(f"{folder}/{rel}", None)
        for rel in new:
            self.files[f"{folder}/{rel}"] = sha256_file(final / rel)
        self.folders[folder] = {"school_id": school_id, "input_hash": input_hash}
        self.record()
        return [f"{folder}/{rel}" for rel in new]

    def remove_folder(self, folder: str) -> None:
        """Remove gaptools' own files of a school folder (and the folder, if nothing else is left)."""
        dirs: set[str] = set()
        for rel in list(self.owned(folder)):
            path = self._inside(f"{folder}/{rel}")
            if path is not None:
                try:
                    if not stat.S_ISDIR(path.lstat().st_mode):
                        path.unlink()
                except FileNotFoundError:
                    pass
                dirs.update(str(Path(folder, rel).parents[i]) for i in range(len(Path(rel).parts)))
            self.files.pop(f"{folder}/{rel}", None)
        for d in sorted(dirs, key=lambda d: -len(Path(d).parts)):
            path = self._inside(d)
            if path is not None:
                try:
                    path.rmdir()  # only when empty: the user's files stay
                except OSError:
                    pass
        self.folders.pop(folder, None)
        self.record()

    def remove_file(self, rel: str) -> None:
        """Remove one of gaptools' own files (never through a link) and forget it."""
        path = self._inside(rel)
        if rel in self.files:
            try:
                if path is not None and not stat.S_ISDIR(path.lstat().st_mode):
                    path.unlink()
            except FileNotFoundError:
                pass
        self.files.pop(rel, None)

    # ----------------------------------------------------------- pages and the record
    def write_text(self, rel: str, text: str) -> str:
        """Write a page of the run (``index.html``, ``trust/...``) atomically, recorded as gaptools'."""
        parent = str(Path(rel).parent)
        folder = self.path if parent == "." else self.real_dir(parent)
        self._keep(rel, self.files.get(rel, NOT_OURS))
        self.files[rel] = None
        atomic_write_text(folder / Path(rel).name, text)
        self.files[rel] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return rel

    def write_bytes(self, rel: str, data: bytes) -> str:
        """Write a file of the run (``trust/...pdf``) atomically, recorded as gaptools'."""
        parent = str(Path(rel).parent)
        folder = self.path if parent == "." else self.real_dir(parent)
        self._keep(rel, self.files.get(rel, NOT_OURS))
        self.files[rel] = None
        atomic_write_bytes(folder / Path(rel).name, data)
        self.files[rel] = hashlib.sha256(data).hexdigest()
        return rel

    def _keep(self, rel: str, recorded) -> None:
        """Before ``rel`` is written: keep the user's edit of it (see :mod:`gaptools.batch.edits`)."""
        path = self._inside(rel)
        kept = keep_if_edited(path, recorded) if path is not None else None
        if kept is not None:
            self.kept.append({"file": rel, "kept_as": kept.relative_to(self.path).as_posix()})

    def save(self, **fields) -> dict:
        """Write ``manifest.json`` whole: the runner's fields (updated with ``fields``) and the record of
        files, with ``kept_edits`` when this run kept someone's edited copy of a file it wrote again.
        For the run's milestones; the changes in between are journaled by :meth:`record`."""
        self.fields.update(fields)
        doc = {"generator": "gaptools", **self.fields, **({"kept_edits": self.kept} if self.kept else {}),
               "files": dict(sorted(self.files.items())), "folders": dict(sorted(self.folders.items()))}
        text = json.dumps(doc, indent=1, ensure_ascii=False)
        atomic_write_text(self.path / MANIFEST, text)
        self.journal.restart(text)  # (killed before this: the old journal follows another manifest, ignored)
        self.files.changes()
        self.folders.changes()
        self._kept_journaled = len(self.kept)
        return doc

    def record(self, schools: dict[str, dict] | None = None, *, durable: bool = False) -> None:
        """Record what changed since the manifest was last written: appended to its journal (a few
        hundred bytes), or the manifest written whole when the journal has grown as large as it.

        Parameters
        ----------
        schools : dict, optional
            School id -> its entry in the manifest's ``schools``, replacing the one there.
        durable : bool
            Flush the journal to disk before returning: for a change that must be recorded
            before what it announces happens. Otherwise the record is written (a process
            killed next leaves it) but may be lost to a power cut, which costs no more than
            that school being made again: a folder is taken as done only once its files'
            hashes are recorded and match what is on disk.
        """
        if schools:
            self.fields.setdefault("schools", {}).update(schools)
        if self.journal.due:
            self.save()
            return
        (files, files_gone), (folders, folders_gone) = self.files.changes(), self.folders.changes()
        entry = {"files": files, "files_removed": files_gone, "folders": folders, "folders_removed": folders_gone,
                 "schools": schools or {}, "kept_edits": self.kept[self._kept_journaled:]}
        try:
            self.journal.append({k: v for k, v in entry.items() if v}, durable=durable)
        except OSError:  # (a file in the journal's way): the manifest written whole records it all
            self.save()
            return
        self._kept_journaled = len(self.kept)
