"""``manifest.json``: gaptools' record of a run and of every file it wrote in the output folder.

Rewriting the whole manifest after every school would cost a run time that
grows with the square of its schools (0.6 s a write at 20,000 schools, three
writes a school). So between whole writes each change is appended to
``manifest.journal.jsonl`` beside it (JSON lines), and ``manifest.json`` is
written whole only at the run's milestones (its start, its end, an
interruption) and whenever the journal has grown as large as the manifest,
which keeps the cost of the record a constant a school (see
:class:`Journal`); a small manifest (under :data:`WHOLE_BELOW`) is written
whole every time, as appending would save nothing. Reading the manifest replays the journal over it
(:func:`read_manifest`), so a run killed at any moment is resumed from
everything it recorded.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

MANIFEST = "manifest.json"
#: The changes since ``manifest.json`` was last written whole (absent when there are none).
JOURNAL = "manifest.journal.jsonl"
#: The journal's first line: ``{"journal": JOURNAL_VERSION, "manifest_sha256": ...}``.
JOURNAL_VERSION = 1
#: A manifest smaller than this (about 35 schools) is simply written whole at every change: that costs
#: no more than appending to a journal (flushing to disk dominates both).
WHOLE_BELOW = 64 * 1024


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_manifest(path: Path) -> tuple[dict | None, str | None, int]:
    """The gaptools manifest in folder ``path`` with its journal replayed, the SHA-256 of
    ``manifest.json`` as it is on disk, and how many journal records were replayed.

    ``(None, None, 0)`` when there is no manifest or it is not gaptools'. A
    journal is replayed only over the manifest it follows (its first line
    names that file's SHA-256): one left behind by a run killed just after it
    wrote the manifest whole is already in it, and is ignored.
    """
    try:
        text = (path / MANIFEST).read_text(encoding="utf-8")
        doc = json.loads(text)
    except (OSError, ValueError):
        return None, None, 0
    if not isinstance(doc, dict):
        return None, None, 0
    if doc.get("generator") == "gaptools" and isinstance(doc.get("files"), dict) \
            and isinstance(doc.get("folders"), dict):
        digest = _sha(text)
        return doc, digest, _replay(path / JOURNAL, doc, digest)
    if isinstance(doc.get("schools"), dict) and "trust" in doc and "schema_version" in doc:
        return doc, _sha(text), 0  # written by gaptools before the record of files (and the journal)
    return None, None, 0


def read_manifest(path: Path) -> dict | None:
    """The gaptools manifest in folder ``path`` (with the changes its journal holds); None when there
    is none or it is not gaptools'."""
    return load_manifest(path)[0]


def _replay(journal: Path, doc: dict, digest: str) -> int:
    """Apply the journal's records to ``doc`` in order (when it follows this manifest); how many."""
    try:
        with journal.open(encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, ValueError):
        return 0
    try:
        head = json.loads(lines[0]) if lines else None
    except ValueError:
        return 0
    if not isinstance(head, dict) or head.get("journal") != JOURNAL_VERSION or head.get("manifest_sha256") != digest:
        return 0
    done = 0
    for line in lines[1:]:
        try:
            record = json.loads(line)
        except ValueError:  # the last line, cut short by a crash: the change it began never happened
            break
        for part in ("files", "folders"):
            doc[part].update(record.get(part, {}))
            for key in record.get(f"{part}_removed", []):
                doc[part].pop(key, None)
        if record.get("schools"):
            doc.setdefault("schools", {}).update(record["schools"])
        if record.get("kept_edits"):
            doc["kept_edits"] = [*doc.get("kept_edits", []), *record["kept_edits"]]
        done += 1
    return done


class Tracked(dict):
    """A dict that notes which keys were set or removed since :meth:`changes` was last called."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._changed: set = set()

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self._changed.add(key)

    def __delitem__(self, key) -> None:
        super().__delitem__(key)
        self._changed.add(key)

    def pop(self, key, *default):
        self._changed.add(key)
        return super().pop(key, *default)

    def __reduce__(self):  # a copy (or pickle) is the record as it is, with no changes pending
        return type(self), (dict(self),)

    def _refused(self, *args, **kwargs):
        raise TypeError("change a record one key at a time (item assignment, del or pop)")

    update = setdefault = popitem = clear = _refused

    def changes(self) -> tuple[dict, list]:
        """The keys set (with their values) and the keys removed since the last call; forgets them."""
        changed, self._changed = self._changed, set()
        return ({k: self[k] for k in changed if k in self}, sorted(k for k in changed if k not in self))


class Journal:
    """``manifest.journal.jsonl``: the changes appended since ``manifest.json`` was last written whole.

    Each record is one line, written before the caller goes on (a process
    killed at any moment leaves it); a *durable* one is also flushed to disk
    (as a whole write of the manifest is), for a change that must be on disk
    before what it announces happens (a folder about to be swapped), so that
    whatever is on disk after a power cut, the record claims no more than is
    true. :meth:`restart` after each whole
    write of the manifest; :attr:`due` says when the journal has grown as
    large as the manifest and the next write should be whole: the bytes a
    whole write costs are then paid for by the appends before it, so the
    record costs a constant a school, and replaying the journal costs no
    more than reading the manifest.
    """

    def __init__(self, folder: Path):
        self.path = Path(folder) / JOURNAL
        self.base: str | None = None       # SHA-256 of the manifest.json the journal follows
        self.base_size = 0
        self.size = 0
        self._fd: int | None = None

    @property
    def due(self) -> bool:
        """Whether the manifest should be written whole now: no base to follow, a small manifest
        (under :data:`WHOLE_BELOW`), or a journal grown as large as the manifest."""
        return self.base is None or self.base_size < WHOLE_BELOW or self.size >= self.base_size

    def restart(self, manifest_text: str | None) -> None:
        """``manifest.json`` was just written whole (``manifest_text``; None: it is not ours): an empty journal."""
        self.close()
        if self.path.exists() or self.path.is_symlink():
            self.path.unlink()
        self.base = _sha(manifest_text) if manifest_text is not None else None
        self.base_size = len(manifest_text.encode("utf-8")) if manifest_text is not None else 0
        self.size = 0

    def append(self, record: dict, *, durable: bool = True) -> None:
        """Add one record after the base manifest (flushed to disk when ``durable``, with those before it).

        Raises
        ------
        OSError
            It could not be written (the caller writes the manifest whole instead).
        """
        from ..io.files import shared_mode

        assert self.base is not None  # (restart has named the manifest it follows)
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        if self._fd is None:
            # a new file, never through a link (restart removed the last journal)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_APPEND, 0o600)
            os.fchmod(self._fd, shared_mode())  # what manifest.json holds: readable as the umask allows
            head = json.dumps({"journal": JOURNAL_VERSION, "manifest_sha256": self.base}) + "\n"
            line = head + line
        data = line.encode("utf-8")
        try:
            if os.write(self._fd, data) != len(data):
                raise OSError("the manifest's journal was written in part (a full disk?)")
            if durable:
                os.fsync(self._fd)
        except OSError:
            # nothing more is appended after a line that may be cut short: the manifest is written whole next
            self.close()
            self.base = None
            raise
        self.size += len(data)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def file_record(doc: dict) -> tuple[dict[str, str | None], dict[str, dict]]:
    """The record of files (relative path -> SHA-256, None when unknown) and of school folders
    (folder -> ``{"school_id", "input_hash"}``) in manifest ``doc`` (empty: no manifest)."""
    if "files" in doc and "folders" in doc:
        return ({str(k): v for k, v in doc["files"].items()},
                {str(k): dict(v) for k, v in doc["folders"].items()})
    files: dict[str, str | None] = {}
    folders: dict[str, dict] = {}
    # written by an older gaptools: its files are known, their hashes are not
    for s in doc.get("schools", {}).values():
        if s.get("folder"):
            folders[s["folder"]] = {"school_id": s.get("school_id"), "input_hash": None}
        for rel in s.get("outputs") or []:
            files[rel] = None
    for rel in (doc.get("trust") or {}).get("outputs") or []:
        files[rel] = None
    if doc:
        files["index.html"] = None
    return files, folders
