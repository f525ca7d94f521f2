"""Benchmark: what `gaptools run` costs a school as a trust grows (issue 31): 12, 160 and 500 schools.

For each size a synthetic trust is made once with ``gaptools sample --schools N --years 3 --seed S``
(kept in a cache folder, so a second benchmark starts at once) and
``gaptools run DATA --out OUT --workers W --quiet`` is run on it, as a user runs it. Measured:

- CPU seconds of the run and every process it started (kernels, the warm parent), from
  ``wait4`` (the kernel's count for the run and all its waited-for descendants), and per school;
- the peak memory (resident set) of its largest process (``ru_maxrss`` of the same count: the
  largest of the run and its descendants, not their sum);
- the wall seconds of each phase, as the run records them in ``manifest.json`` (``phases_s``:
  validation, schools, overview, index).

CPU time is the steady measure on a shared machine; wall time is not (other work slows it). The
table at the end is Markdown, for the README. The issue's goal is checked when the sizes include 12
and a larger one: the larger trust costs no more CPU a school (within 5%, the agreement of
repeats on this machine) and its largest process stays under 1 GiB.

    python benchmarks/bench_scale.py [--schools 12 160 500] [--workers 2] [--repeat 1] [--cache DIR]

or ``make bench-scale SCALE="12 160"`` (``make bench`` runs 12, 160 and 500). 500 schools take
about 1.5 GB of disk for the reports (removed after each size unless ``--keep``) and, on 2 quiet
cores, about 15-25 minutes.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PHASES = ("validation", "schools", "overview", "index")
#: Disk taken by one school's reports (about 2.3 MB measured at 12 schools), with room to spare.
BYTES_A_SCHOOL = 4 * 2 ** 20
#: A larger trust may cost this much more CPU a school than the smallest and still count as no more:
#: repeats of one size agree within 5% on this machine.
TOLERANCE = 0.05
GIB = 2 ** 30


@dataclass
class Measured:
    """One ``gaptools run`` of a trust of ``schools`` schools."""

    schools: int
    pupils: int
    cpu_s: float
    max_rss: int  # bytes, the largest process
    wall_s: float
    phases: dict[str, float] = field(default_factory=dict)
    ok: int = 0
    status: str = ""

    @property
    def cpu_a_school(self) -> float:
        return self.cpu_s / self.schools


def generator_key() -> str:
    """A fingerprint of the sample generator: a cached trust made by other code is made again."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "gaptools" / "io").glob("sample*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def sample_trust(n: int, seed: int, cache: Path) -> tuple[Path, int]:
    """The trust of ``n`` schools (made once, then read from ``cache``) and its number of pupil rows."""
    folder = cache / f"trust-{n}-seed{seed}-{generator_key()}"
    done = folder / ".complete"
    if not done.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"making a trust of {n} schools in {folder} ...", flush=True)
        made = subprocess.run([BIN / "gaptools", "sample", "--out", str(folder), "--schools", str(n),
                               "--years", "3", "--seed", str(seed)], capture_output=True, text=True)
        if made.returncode:
            raise SystemExit(f"gaptools sample --schools {n} failed:\n{made.stderr}")
        rows = int(made.stdout.split(": ", 1)[1].split()[0])  # "wrote 13 files to X: 5045 pupil rows, 12 schools"
        done.write_text(str(rows))
    return folder, int(done.read_text())


def measure(data: Path, out: Path, n: int, pupils: int, workers: int) -> Measured:
    """``gaptools run`` of one trust: its CPU (itself and every descendant it waited for), its largest
    process, its wall time and its phases."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    with open(out.parent / f"run-{n}.log", "w") as log:
        proc = subprocess.Popen([BIN / "gaptools", "run", str(data), "--out", str(out), "--workers", str(workers),
                                 "--quiet"], stdout=log, stderr=subprocess.STDOUT)
        # wait4, not Popen.wait: the kernel's resource count of this run alone (RUSAGE_CHILDREN of this
        # process would add up every size measured so far, and its maxrss would be their largest)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    manifest = json.loads((out / "manifest.json").read_text()) if (out / "manifest.json").is_file() else {}
    schools = manifest.get("schools", {})
    return Measured(n, pupils, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, wall,
                    dict(manifest.get("phases_s") or {}), sum(s["status"] == "ok" for s in schools.values()),
                    f"exit {proc.returncode}, trust overview {manifest.get('trust', {}).get('status', '?')}")


def check_room(sizes: list[int], work: Path) -> None:
    """Refuse before any work if the largest size's reports would not fit on the disk."""
    free = shutil.disk_usage(work).free
    need = max(sizes) * BYTES_A_SCHOOL
    if free < need:
        raise SystemExit(f"{work}: {free / GIB:.1f} GiB free; {max(sizes)} schools need about {need / GIB:.1f} GiB "
                         "(choose another folder with TMPDIR or --work)")


def table(best: list[Measured]) -> str:
    """The Markdown table for the README."""
    lines = ["| schools | pupil rows | CPU s | CPU s a school | largest process | wall s | "
             + " | ".join(f"{p} s" for p in PHASES) + " |",
             "|" + "---|" * (6 + len(PHASES))]
    for m in best:
        lines.append(f"| {m.schools} | {m.pupils:,} | {m.cpu_s:.0f} | {m.cpu_a_school:.2f} | "
                     f"{m.max_rss / 2 ** 20:,.0f} MB | {m.wall_s:.0f} | "
                     + " | ".join(f"{m.phases[p]:.1f}" if p in m.phases else "" for p in PHASES) + " |")
    return "\n".join(lines)


def verdict(best: list[Measured]) -> list[str]:
    """The issue's goal for each size larger than the smallest: no more CPU a school, under 1 GiB."""
    small = best[0]
    said = []
    for m in best[1:]:
        ratio = m.cpu_a_school / small.cpu_a_school
        flat = "yes" if ratio <= 1 + TOLERANCE else "NO"
        under = "yes" if m.max_rss < GIB else "NO"
        said.append(f"{m.schools} against {small.schools} schools: {m.cpu_a_school:.2f} against "
                    f"{small.cpu_a_school:.2f} CPU s a school ({ratio:.2f}x; no more, within {TOLERANCE:.0%}: "
                    f"{flat}); largest process {m.max_rss / 2 ** 20:,.0f} MB (under 1 GiB: {under})")
    return said


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schools", type=int, nargs="+", default=[12, 160, 500], help="trust sizes to run")
    ap.add_argument("--workers", type=int, default=2, help="gaptools run --workers")
    ap.add_argument("--repeat", type=int, default=1, help="run each size this many times (interleaved); "
                    "the table shows the least CPU of each")
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "gaptools-bench-scale",
                    help="where the sample trusts are kept between benchmarks")
    ap.add_argument("--work", type=Path, default=None, help="where the reports are written (default: a temporary "
                    "folder, removed at the end)")
    ap.add_argument("--keep", action="store_true", help="keep each size's reports")
    args = ap.parse_args()
    sizes = sorted(set(args.schools))
    if sizes[0] < 2:
        raise SystemExit("--schools: at least 2 (a run of one school has no trust overview)")
    args.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gaptools-bench-scale-", dir=args.work))
    check_room(sizes, work)
    trusts = {n: sample_trust(n, args.seed, args.cache) for n in sizes}
    load = os.getloadavg()[0]
    runs: dict[int, list[Measured]] = {n: [] for n in sizes}
    try:
        for r in range(args.repeat):
            for n in sizes:
                data, pupils = trusts[n]
                m = measure(data, work / f"out-{n}", n, pupils, args.workers)
                runs[n].append(m)
                print(f"repeat {r + 1}/{args.repeat}: {n} schools: {m.ok} ok ({m.status}); CPU {m.cpu_s:.0f} s "
                      f"({m.cpu_a_school:.2f} a school), largest process {m.max_rss / 2 ** 20:,.0f} MB, "
                      f"wall {m.wall_s:.0f} s ("
                      + ", ".join(f"{p} {m.phases[p]:.0f} s" for p in PHASES if p in m.phases) + ")", flush=True)
                if m.ok != n:
                    print(f"  not every school ran: see {work / f'run-{n}.log'} and {work / f'out-{n}'}", flush=True)
                    args.keep = True
                if not args.keep:
                    shutil.rmtree(work / f"out-{n}", ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    best = [min(runs[n], key=lambda m: m.cpu_s) for n in sizes]
    print()
    print(f"gaptools run --workers {args.workers}, {os.cpu_count()} CPUs, load average {load:.1f} at the start and "
          f"{os.getloadavg()[0]:.1f} at the end (other work slows wall time, not CPU time); least CPU of "
          f"{args.repeat} run{'s' if args.repeat > 1 else ''} of each size")
    print()
    print(table(best))
    print()
    for line in verdict(best):
        print(line)
    if args.keep:
        print(f"reports kept in {work}")
    return 0 if all(m.ok == m.schools for m in best) else 1


if __name__ == "__main__":
    sys.exit(main())
