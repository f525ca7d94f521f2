"""Benchmark: the cost of keeping ``manifest.json`` as a run records its schools (issue 31).

No notebook runs: an :class:`gaptools.batch.outdir.OutputFolder` in a temporary folder is
given the manifest changes a run makes for each school (its new files recorded as being
written, then their SHA-256 once the folder is in place, then the school's entry), as
``gaptools run`` makes them. Timed two ways:

- *whole*: ``manifest.json`` rewritten whole at each of the three changes (gaptools before
  the journal did this). Its cost grows with the schools already recorded, so it is timed for
  one school at a few sizes of trust, and its run total is the sum over a run (the cost of a
  school grows in a straight line, measured).
- *journal*: each change appended to ``manifest.journal.jsonl``, the manifest written whole
  at the start, at the end and when the journal has grown as large as it; the whole run of
  ``--schools`` schools is timed.

    python benchmarks/bench_manifest.py [--schools 5000]
"""
from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from gaptools.batch.outdir import OutputFolder
from gaptools.batch.school import SchoolOutcome

PAGES = ("01_cohort_overview", "02_gap_analysis", "03_intervention_targeting")
FILES = (*(f"{p}.html" for p in PAGES), *(f"notebooks/{p}.ipynb" for p in PAGES),
         "results.json", "strategy.md", "targets.csv", "targets.xlsx")


def _school(i: int) -> tuple[str, list[str], dict]:
    sid = str(100000 + i)
    outputs = [f"{sid}/{rel}" for rel in FILES]
    entry = asdict(SchoolOutcome(sid, f"School {i}", sid, "ok", None, 31.4, outputs, "8f59a7b9b47609a1"))
    return sid, outputs, entry


def _changes(folder: OutputFolder, i: int, step) -> None:
    """One school's three changes to the record, each followed by ``step`` (save or record)."""
    sid, outputs, entry = _school(i)
    for rel in outputs:
        folder.files[rel] = None
    folder.folders[sid] = {"school_id": sid, "input_hash": None}
    step()
    for rel in outputs:
        folder.files[rel] = hashlib.sha256(rel.encode()).hexdigest()
    folder.folders[sid] = {"school_id": sid, "input_hash": "8f59a7b9b47609a1"}
    step()
    step(schools={sid: entry})


def _started(out: Path, schools: int) -> OutputFolder:
    folder = OutputFolder(out).__enter__()
    pending = {_school(i)[0]: {**_school(i)[2], "status": "running", "outputs": []} for i in range(schools)}
    folder.save(schema_version=2, status="running", trust={"status": "running"}, schools=pending)
    return folder


def whole_per_school(schools: int, out: Path) -> tuple[float, float]:
    """Seconds (wall, CPU) to record the last school of a trust of ``schools`` when each change rewrites
    the manifest."""
    folder = _started(out, schools)
    for i in range(schools - 1):  # the schools before it, already recorded
        _changes(folder, i, lambda **kw: None)
    folder.save()
    t, cpu = time.perf_counter(), time.process_time()
    _changes(folder, schools - 1, lambda schools=None: folder.save(**({"schools": {
        **folder.fields["schools"], **schools}} if schools else {})))
    took, cpu = time.perf_counter() - t, time.process_time() - cpu
    folder.__exit__(None, None, None)
    return took, cpu


def journal_run(schools: int, out: Path) -> tuple[float, float, float]:
    """Seconds to record a whole run of ``schools`` with the journal (start and end written whole),
    its CPU seconds, and the longest single school."""
    t, cpu = time.perf_counter(), time.process_time()
    folder = _started(out, schools)
    longest = 0.0
    for i in range(schools):
        s = time.perf_counter()
        _changes(folder, i, folder.record)
        longest = max(longest, time.perf_counter() - s)
    folder.save(status="complete")
    took, cpu = time.perf_counter() - t, time.process_time() - cpu
    folder.__exit__(None, None, None)
    return took, cpu, longest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schools", type=int, default=5000)
    args = parser.parse_args()
    n = args.schools
    with tempfile.TemporaryDirectory() as tmp:
        sizes = sorted({max(1, n // 4), max(1, n // 2), n})
        per = {k: whole_per_school(k, Path(tmp) / f"whole{k}") for k in sizes}
        for k, (s, c) in per.items():
            print(f"whole:   one school's three writes at {k:>6} schools: {s * 1000:8.1f} ms ({c * 1000:.1f} ms CPU)")
        wall, cpu = (v / n for v in per[n])  # a straight line through 0 (checked by the sizes above)
        print(f"whole:   a run of {n} schools, summed: about {wall * n * (n + 1) / 2:8.1f} s "
              f"({cpu * n * (n + 1) / 2:.1f} s CPU)")
        took, cpu, longest = journal_run(n, Path(tmp) / "journal")
        print(f"journal: a run of {n} schools, measured: {took:8.2f} s ({cpu:.2f} s CPU; "
              f"{took / n * 1000:.2f} ms a school, the longest school {longest * 1000:.1f} ms)")
        size = (Path(tmp) / "journal" / "manifest.json").stat().st_size
        print(f"manifest.json at the end: {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
