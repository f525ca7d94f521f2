"""The manifest's journal (issue 31): a run records each school in a constant number of bytes, the manifest
read back (with its journal) is at every moment what rewriting it whole would have written, and a run killed
mid-way is resumed from what the journal recorded.

Real files and a real OutputFolder, no notebooks; the end-to-end kill -9 and --resume of a run is in
test_batch_safety.py.
"""
import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
from dataclasses import asdict

import pytest
from conftest import ROOT

from gaptools.batch import manifest as manifest_module
from gaptools.batch.manifest import JOURNAL, MANIFEST, load_manifest, read_manifest
from gaptools.batch.outdir import REQUIRED, OutputFolder
from gaptools.batch.school import SchoolOutcome


def _stage(folder: OutputFolder, name: str, version: str):
    stage = folder.stage / name
    (stage / "notebooks").mkdir(parents=True)
    for rel in REQUIRED:
        (stage / rel).write_text(json.dumps({"gaps": [], "v": version}) if rel == "results.json" else version)
    (stage / "notebooks" / "01_cohort_overview.ipynb").write_text(version)
    return stage


def _entry(sid, outputs, status="ok"):
    return asdict(SchoolOutcome(sid, f"School {sid}", sid, status, None, 1.5, outputs, "h1"))


def _run(out, schools, whole: bool):
    """A run as the runner records it: the start written whole, each school committed and its entry
    recorded, the end written whole. ``whole``: every change rewrites manifest.json (as before the journal).
    Returns the manifest as read back after every change."""
    seen = []
    with OutputFolder(out) as folder:
        if whole:
            folder.record = lambda schools=None, durable=False: folder.save(  # type: ignore[method-assign]
                **({"schools": {**folder.fields["schools"], **schools}} if schools else {}))
        folder.save(schema_version=2, status="running", trust={"status": "running"},
                    schools={s: _entry(s, [], "running") for s in schools})
        for sid in schools:
            outputs = folder.commit(sid, sid, "h1", _stage(folder, sid, "v"))
            seen.append(read_manifest(out))
            folder.record(schools={sid: _entry(sid, outputs)})
            seen.append(read_manifest(out))
        folder.save(status="complete", trust={"status": "ok"})
    return seen


def test_the_manifest_read_back_is_what_whole_writes_gave_at_every_step_and_at_the_end(tmp_path, monkeypatch):
    monkeypatch.setattr(manifest_module, "WHOLE_BELOW", 0)  # journal from the first change (a small trust)
    schools = [f"S{i}" for i in range(12)]
    journaled = _run(tmp_path / "journal", schools, whole=False)
    whole = _run(tmp_path / "whole", schools, whole=True)
    assert journaled == whole  # every step, read back with the journal replayed, is what a whole write gave
    final = (tmp_path / "journal" / MANIFEST).read_text()
    assert final == (tmp_path / "whole" / MANIFEST).read_text()  # the same file, byte for byte, at the end
    assert not (tmp_path / "journal" / JOURNAL).exists()  # a run that ends leaves no journal
    doc = json.loads(final)
    assert list(doc["schools"]) == schools and all(s["status"] == "ok" for s in doc["schools"].values())
    for sid in schools:
        for rel in doc["schools"][sid]["outputs"]:  # each file's hash is that of the file on disk
            assert doc["files"][rel] == hashlib.sha256((tmp_path / "journal" / rel).read_bytes()).hexdigest()


def test_a_run_records_each_school_in_constant_bytes_not_a_rewrite_of_the_whole(tmp_path, monkeypatch):
    """150 schools (a manifest of about 160 KB): what is written to manifest.json and its journal in all
    stays within a few times the final manifest; rewriting it three times a school wrote about 250 times it.
    (Measured without the floor under which a small manifest is written whole every time: that floor adds
    a constant, the same for a trust of any size.)"""
    from gaptools.batch import outdir

    monkeypatch.setattr(manifest_module, "WHOLE_BELOW", 0)
    written = {"whole": 0, "writes": 0, "journal": 0}
    real_write, real_append = outdir.atomic_write_text, manifest_module.Journal.append

    def whole(path, text, **kw):
        written["whole"] += len(text.encode())
        written["writes"] += 1
        return real_write(path, text, **kw)

    def append(self, record, **kw):
        before = self.size
        real_append(self, record, **kw)
        written["journal"] += self.size - before

    monkeypatch.setattr(outdir, "atomic_write_text", whole)
    monkeypatch.setattr(manifest_module.Journal, "append", append)
    schools = [f"{100000 + i}" for i in range(150)]
    out = tmp_path / "out"
    with OutputFolder(out) as folder:
        folder.save(schema_version=2, status="running", schools={s: _entry(s, [], "running") for s in schools})
        for sid in schools:
            # what commit records, without the files themselves: the record is what is measured here
            rels = [f"{sid}/{r}" for r in (*REQUIRED, "targets.csv", "strategy.md")]
            for rel in rels:
                folder.files[rel] = None
            folder.folders[sid] = {"school_id": sid, "input_hash": None}
            folder.record()
            for rel in rels:
                folder.files[rel] = hashlib.sha256(rel.encode()).hexdigest()
            folder.folders[sid] = {"school_id": sid, "input_hash": "h1"}
            folder.record()
            folder.record(schools={sid: _entry(sid, rels)})
        folder.save(status="complete")
    final = (out / MANIFEST).stat().st_size
    assert final > 150_000
    total = written["whole"] + written["journal"]
    assert total < 5 * final, (written, final)
    assert written["writes"] < 12, written  # the start, the end and a few as the journal caught up
    assert written["journal"] < 2 * final


def test_a_run_killed_mid_way_is_resumed_from_its_journal(tmp_path):
    """A process records schools (journal on from the first change) and is killed with SIGKILL: the next
    OutputFolder takes every school whose folder was in place and recorded as done, and the school caught
    being swapped is made again, never taken as done."""
    out = tmp_path / "out"
    script = f"""
import json, os, signal
from dataclasses import asdict
from pathlib import Path
from gaptools.batch import manifest
manifest.WHOLE_BELOW = 0
from gaptools.batch.outdir import REQUIRED, OutputFolder
from gaptools.batch.school import SchoolOutcome

def entry(sid, outputs, status="ok"):
    return asdict(SchoolOutcome(sid, f"School {{sid}}", sid, status, None, 1.5, outputs, "h1"))

def stage(folder, name):
    here = folder.stage / name
    (here / "notebooks").mkdir(parents=True)
    for rel in REQUIRED:
        (here / rel).write_text(json.dumps({{"gaps": []}}) if rel == "results.json" else "v")
    return here

folder = OutputFolder(Path({str(out)!r})).__enter__()
# a trust of 200 schools (a manifest of about 70 KB): the journal of these few changes stays smaller
schools = {{s: entry(s, [], "running") for s in ["A", "B", "C", *(f"Z{{i}}" for i in range(197))]}}
folder.save(schema_version=2, status="running", schools=schools)
for sid in ("A", "B"):
    folder.record(schools={{sid: entry(sid, folder.commit(sid, sid, "h1", stage(folder, sid)))}})
# C: its files recorded as being written (not yet verified), then killed before its folder moves
here = stage(folder, "C")
for p in here.rglob("*"):
    if p.is_file():
        folder.files["C/" + p.relative_to(here).as_posix()] = None
folder.folders["C"] = {{"school_id": "C", "input_hash": None}}
folder.record(durable=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == -signal.SIGKILL, r.stderr
    on_disk = json.loads((out / MANIFEST).read_text())  # written whole only at the start
    assert {s: on_disk["schools"][s]["status"] for s in "ABC"} == {"A": "running", "B": "running",
                                                                  "C": "running"}
    assert (out / JOURNAL).is_file()
    doc, _, replayed = load_manifest(out)
    assert replayed == 7  # A and B: three records each; C: one
    assert {s: doc["schools"][s]["status"] for s in "ABC"} == {"A": "ok", "B": "ok", "C": "running"}
    with OutputFolder(out) as folder:  # the next run (--resume)
        assert folder.verified("A", "A", "h1") == doc["schools"]["A"]["outputs"]
        assert folder.verified("B", "B", "h1") == doc["schools"]["B"]["outputs"]
        assert folder.verified("C", "C", "h1") is None  # caught mid-swap: made again
        assert folder.verified("A", "A", "other inputs") is None
    # the journal was written into the manifest as the next run opened the folder, then removed
    assert not (out / JOURNAL).exists()
    assert json.loads((out / MANIFEST).read_text())["folders"]["A"] == {"school_id": "A", "input_hash": "h1"}


def test_a_journal_that_does_not_follow_this_manifest_or_ends_cut_short_claims_nothing_more(tmp_path,
                                                                                           monkeypatch):
    monkeypatch.setattr(manifest_module, "WHOLE_BELOW", 0)
    out = tmp_path / "out"
    with OutputFolder(out) as folder:
        folder.save(schema_version=2, schools={"A": _entry("A", [], "running")})
        folder.record(schools={"A": _entry("A", ["A/x"])})
        folder.journal.close()
        journal = (out / JOURNAL).read_text()
        manifest = (out / MANIFEST).read_text()
    # killed after writing the manifest whole, before removing the journal: it is already in the manifest
    (out / MANIFEST).write_text(manifest.replace('"running"', '"interrupted"'))
    (out / JOURNAL).write_text(journal)
    assert read_manifest(out)["schools"]["A"]["status"] == "interrupted"
    # killed in the middle of a line: the changes before it count, the one cut short never happened
    (out / MANIFEST).write_text(manifest)
    (out / JOURNAL).write_text(journal + '{"folders": {"A": {"school_id": "A", "input_ha')
    doc, _, replayed = load_manifest(out)
    assert replayed == 1 and doc["schools"]["A"]["outputs"] == ["A/x"] and doc["folders"] == {}
    os.remove(out / JOURNAL)
    assert read_manifest(out)["schools"]["A"]["outputs"] == []


def test_a_record_is_changed_one_key_at_a_time():
    from gaptools.batch.manifest import Tracked

    record = Tracked({"a": 1, "b": 2})
    record["c"] = 3
    record.pop("a")
    del record["b"]
    record.pop("never there", None)
    assert record.changes() == ({"c": 3}, ["a", "b", "never there"])
    assert record.changes() == ({}, [])
    with pytest.raises(TypeError):
        record.update({"d": 4})  # a change the journal would not see
    record["d"] = 4
    copied = pickle.loads(pickle.dumps(record))
    assert copied == {"c": 3, "d": 4} and copied.changes() == ({}, [])  # a snapshot, nothing pending
    assert record.changes() == ({"d": 4}, [])


def test_the_journal_is_never_written_through_a_link(tmp_path, monkeypatch):
    monkeypatch.setattr(manifest_module, "WHOLE_BELOW", 0)
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    victim.write_text("someone's file")
    with OutputFolder(out) as folder:
        folder.save(schema_version=2, schools={f"S{i}": _entry(f"S{i}", [], "running") for i in range(50)})
        os.symlink(victim, out / JOURNAL)  # planted after the manifest was written whole
        folder.record(schools={"S1": _entry("S1", ["S1/x"])})
    assert victim.read_text() == "someone's file"
    assert not (out / JOURNAL).is_symlink()
    assert json.loads((out / MANIFEST).read_text())["schools"]["S1"]["outputs"] == ["S1/x"]  # written whole


def test_after_a_journal_write_fails_nothing_is_appended_after_it(tmp_path, monkeypatch):
    """A full disk cuts a line short: the manifest is written whole instead, and no later record follows
    the cut line (a replay stops there, and would drop them)."""
    from gaptools.batch import outdir

    monkeypatch.setattr(manifest_module, "WHOLE_BELOW", 0)
    out = tmp_path / "out"
    real_write = os.write
    with OutputFolder(out) as folder:
        folder.save(schema_version=2, schools={f"S{i}": _entry(f"S{i}", [], "running") for i in range(50)})
        folder.record(schools={"S0": _entry("S0", ["S0/a"])})  # journaled
        monkeypatch.setattr(manifest_module.os, "write", lambda fd, data: real_write(fd, data[:10]))
        monkeypatch.setattr(outdir, "atomic_write_text", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "full")))
        with pytest.raises(OSError):
            folder.record(schools={"S1": _entry("S1", ["S1/a"])})  # cut short, and no room to write it whole
        monkeypatch.undo()
        monkeypatch.setattr(manifest_module, "WHOLE_BELOW", 0)
        assert folder.journal.due  # the next change is written whole
        lines = (out / JOURNAL).read_text().splitlines()
        folder.record(schools={"S2": _entry("S2", ["S2/a"])})
    doc = json.loads((out / MANIFEST).read_text())
    assert [doc["schools"][s]["outputs"] for s in ("S0", "S1", "S2")] == [["S0/a"], ["S1/a"], ["S2/a"]]
    assert len(lines) == 3 and not (out / JOURNAL).exists()
