"""``manifest.json``: gaptools' record of a run and of every file it wrote in the output folder."""
from __future__ import annotations

import json
from pathlib import Path

MANIFEST = "manifest.json"


def read_manifest(path: Path) -> dict | None:
    """The gaptools manifest in folder ``path``; None when there is none or it is not gaptools'."""
    try:
        doc = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    if doc.get("generator") == "gaptools" and isinstance(doc.get("files"), dict) \
            and isinstance(doc.get("folders"), dict):
        return doc
    if isinstance(doc.get("schools"), dict) and "trust" in doc and "schema_version" in doc:
        return doc  # written by gaptools before the record of files
    return None


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
