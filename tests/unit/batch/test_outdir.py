"""The output folder belongs to the user: gaptools' record of its own files, the swap, the lock, links.

These exercise :class:`gaptools.batch.outdir.OutputFolder` directly with real files and real
file-system operations (no kernels), so every edge can be tried quickly; the end-to-end
runs are in test_batch_safety.py.
"""
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import threading

import pytest

from gaptools.batch.outdir import REQUIRED, OutputFolder, check_output_folder
from gaptools.errors import UsageError


def _stage(folder: OutputFolder, name: str, version: str):
    """A finished school folder as a job leaves it (its contents marked with ``version``)."""
    stage = folder.stage / name
    (stage / "notebooks").mkdir(parents=True)
    for rel in REQUIRED:
        (stage / rel).write_text(json.dumps({"gaps": [], "v": version}) if rel == "results.json" else version)
    (stage / "notebooks" / "01_cohort_overview.ipynb").write_text(version)
    return stage


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_commit_records_hashes_and_keeps_the_users_files(tmp_path):
    out = tmp_path / "out"
    with OutputFolder(out) as folder:
        outputs = folder.commit("S1", "S1", "h1", _stage(folder, "S1", "one"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(outputs) == sorted(f"S1/{r}" for r in [*REQUIRED, "notebooks/01_cohort_overview.ipynb"])
    for rel in outputs:  # every file recorded with the SHA-256 of what is on disk
        assert manifest["files"][rel] == _sha(out / rel)
    assert manifest["folders"] == {"S1": {"school_id": "S1", "input_hash": "h1"}}
    # the user adds files beside and inside gaptools' own
    (out / "S1" / "my_edits.md").write_text("mine")
    (out / "S1" / "notes").mkdir()
    (out / "S1" / "notes" / "a.txt").write_text("a")
    (out / "S1" / "notebooks" / "mine.ipynb").write_text("{}")
    (out / "README.txt").write_text("top")
    with OutputFolder(out) as folder:
        folder.commit("S1", "S1", "h2", _stage(folder, "S1", "two"))
    assert (out / "S1" / "01_cohort_overview.html").read_text() == "two"
    assert (out / "S1" / "my_edits.md").read_text() == "mine"
    assert (out / "S1" / "notes" / "a.txt").read_text() == "a"
    assert (out / "S1" / "notebooks" / "mine.ipynb").read_text() == "{}"
    assert (out / "README.txt").read_text() == "top"
    recorded = json.loads((out / "manifest.json").read_text())["files"]
    assert "S1/my_edits.md" not in recorded and "S1/notes/a.txt" not in recorded
    assert sorted(os.listdir(out / ".gaptools")) == ["lock"]  # no stage, no old folder left


def test_an_edited_file_or_the_users_own_under_our_name_is_kept_beside_the_new_one(tmp_path):
    """Issue 30: a note added to a file gaptools wrote (its SHA-256 no longer the recorded one), or a
    file of the user's own under a name gaptools writes, is never overwritten: it is kept under a
    dated name, recorded in the manifest's ``kept_edits``; an unchanged file of ours is just replaced."""
    from datetime import date

    out = tmp_path / "out"
    with OutputFolder(out) as folder:
        folder.commit("S1", "S1", "h1", _stage(folder, "S1", "one"))
        folder.write_text("index.html", "index one")
        folder.save()
    edited = out / "S1" / "02_gap_analysis.html"
    edited.write_text("one, with the head's note")
    (out / "S1" / "extra.pdf").write_bytes(b"the clerk's own PDF")
    with OutputFolder(out) as folder:
        stage = _stage(folder, "S1", "two")
        (stage / "extra.pdf").write_bytes(b"gaptools' PDF")
        folder.commit("S1", "S1", "h2", stage)
        folder.write_text("index.html", "index two")  # unchanged since the last run: replaced, no copy
        manifest = folder.save()
    day = date.today().isoformat()
    assert edited.read_text() == "two" and (out / "S1" / "extra.pdf").read_bytes() == b"gaptools' PDF"
    assert (out / "S1" / f"02_gap_analysis.edited-{day}.html").read_text() == "one, with the head's note"
    assert (out / "S1" / f"extra.edited-{day}.pdf").read_bytes() == b"the clerk's own PDF"
    assert sorted(k["file"] for k in manifest["kept_edits"]) == ["S1/02_gap_analysis.html", "S1/extra.pdf"]
    assert not list(out.glob("index.edited-*")) and (out / "index.html").read_text() == "index two"
    # the kept copies are the user's files from now on: a third run keeps them and adds none
    with OutputFolder(out) as folder:
        folder.commit("S1", "S1", "h3", _stage(folder, "S1", "three"))
        (out / "index.html").write_text("index, annotated")
        folder.write_text("index.html", "index three")
        manifest = folder.save()
    assert [k["file"] for k in manifest["kept_edits"]] == ["index.html"]
    assert (out / f"index.edited-{day}.html").read_text() == "index, annotated"
    assert len(list((out / "S1").glob("*.edited-*"))) == 2


def test_verified_needs_every_file_intact_and_the_same_inputs(tmp_path):
    out = tmp_path / "out"
    with OutputFolder(out) as folder:
        folder.commit("S1", "S1", "h1", _stage(folder, "S1", "one"))
        assert folder.verified("S1", "S1", "h1")
        assert folder.verified("S1", "S1", "other-data") is None
        assert folder.verified("S1", "S2", "h1") is None
        # a truncated results.json with the hash updated to match still fails: it must parse
        path = out / "S1" / "results.json"
        path.write_text('{"gaps": [')
        assert folder.verified("S1", "S1", "h1") is None
        folder.files["S1/results.json"] = _sha(path)
        assert folder.verified("S1", "S1", "h1") is None
        # a file replaced by a link to an identical copy elsewhere is not ours
        (tmp_path / "copy.json").write_text(json.dumps({"gaps": [], "v": "one"}))
        path.unlink()
        path.symlink_to(tmp_path / "copy.json")
        folder.files["S1/results.json"] = _sha(tmp_path / "copy.json")
        assert folder.verified("S1", "S1", "h1") is None


def test_a_symlinked_school_folder_is_never_written_through_nor_counted(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    with OutputFolder(out) as folder:
        folder.commit("S1", "S1", "h1", _stage(folder, "S1", "one"))
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("keep")
    (out / "S2").symlink_to(elsewhere, target_is_directory=True)
    with OutputFolder(out) as folder:
        folder.folders["S2"] = {"school_id": "S2", "input_hash": "h1"}
        for rel in REQUIRED:
            folder.files[f"S2/{rel}"] = None
        assert folder.verified("S2", "S2", "h1") is None
        with pytest.raises(OSError, match="symbolic link"):
            folder.commit("S2", "S2", "h1", _stage(folder, "S2", "two"))
        folder.files["S2/precious.txt"] = None
        folder.remove_folder("S2")
    assert (elsewhere / "precious.txt").read_text() == "keep"
    assert sorted(os.listdir(elsewhere)) == ["precious.txt"]


def test_a_linked_work_area_is_refused_before_any_work(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (elsewhere / "victim.txt").write_text("keep")
    (out / ".gaptools").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UsageError, match="will not write through it"):
        check_output_folder(out)
    assert sorted(os.listdir(elsewhere)) == ["victim.txt"]


def test_a_run_killed_between_the_two_renames_is_put_back(tmp_path):
    out = tmp_path / "out"
    with OutputFolder(out) as folder:
        folder.commit("S1", "S1", "h1", _stage(folder, "S1", "one"))
    (out / "S1" / "my_edits.md").write_text("mine")
    # what a kill -9 between "old folder aside" and "new folder in place" leaves
    (out / ".gaptools" / "old").mkdir()
    os.rename(out / "S1", out / ".gaptools" / "old" / "S1")
    (out / ".gaptools" / "stage-999999" / "S1").mkdir(parents=True)
    with OutputFolder(out) as folder:
        assert folder.verified("S1", "S1", "h1")
    assert (out / "S1" / "my_edits.md").read_text() == "mine"
    assert sorted(os.listdir(out / ".gaptools")) == ["lock"]


def test_remove_folder_removes_only_gaptools_files(tmp_path):
    out = tmp_path / "out"
    with OutputFolder(out) as folder:
        folder.commit("S1", "S1", "h1", _stage(folder, "S1", "one"))
        folder.commit("S2", "S2", "h1", _stage(folder, "S2", "one"))
    (out / "S2" / "my_edits.md").write_text("mine")
    with OutputFolder(out) as folder:
        folder.remove_folder("S1")
        folder.remove_folder("S2")
    assert not (out / "S1").exists()
    assert sorted(p.name for p in (out / "S2").rglob("*")) == ["my_edits.md"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["folders"] == {} and manifest["files"] == {}


def test_foreign_folder_file_and_lock(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("x")
    with pytest.raises(UsageError, match="not a gaptools output.*--force"):
        check_output_folder(foreign)
    check_output_folder(foreign, force=True)
    with pytest.raises(UsageError, match="is a file"):
        check_output_folder(foreign / "thesis.docx")
    # a folder another process holds is refused, and the lock goes with the holder
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path;"
         "from gaptools.batch.outdir import OutputFolder;"
         f"f = OutputFolder(Path({str(out)!r})).__enter__(); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UsageError, match=f"another gaptools run is writing this folder \\(pid {holder.pid}"):
            OutputFolder(out).__enter__()
        # and before any work: the check a run makes first says so too
        with pytest.raises(UsageError, match=f"another gaptools run is writing this folder \\(pid {holder.pid}"):
            check_output_folder(out)
    finally:
        holder.kill()  # like kill -9: no clean-up, yet the lock does not stay stuck
        holder.wait()
    check_output_folder(out)  # the holder gone, the folder is free (its lock file stays)
    with OutputFolder(out) as folder:
        assert folder.stage.is_dir()
    # another run's check as it starts holds the lock a moment (shared): that does not refuse this run
    checking = os.open(out / ".gaptools" / "lock", os.O_RDONLY)
    fcntl.flock(checking, fcntl.LOCK_SH)
    threading.Timer(0.03, os.close, [checking]).start()
    with OutputFolder(out) as folder:
        assert folder.stage.is_dir()
