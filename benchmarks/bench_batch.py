"""Benchmark: `gaptools run` against the hand-written loop and the in-process floor (issue 15).

One invocation measures, on the same notebooks, parameters and trust:

1. the loop a trust analyst would write: for every school and notebook one
   `papermill` CLI call and one `jupyter nbconvert --to html --no-input` call,
   one after another, then the trust overview the same way;
2. `gaptools run` (the command, from a cold start, as a user runs it);
3. the in-process floor: every code cell of the school notebooks run in one
   already-started Python with its imports warm (:mod:`floor`): the notebooks'
   own work, no kernel start-up and no HTML;

then the speed-up of `gaptools run` over the loop (goal at least 10x on a
2-core machine) and its seconds per notebook against the floor. All three must
produce the same results.json for every school, or the benchmark stops.

    python benchmarks/bench_batch.py [--data data/sample] [--repeat 1]

With ``--repeat N`` each measurement is taken N times, interleaved; the table
shows the best (the least disturbed by other work) and the median. CPU
seconds (of the processes each way starts, kernels included) are shown beside
the wall-clock times: on a busy machine they are the steadier measure.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
BIN = Path(sys.executable).parent
NOTEBOOKS = ["01_cohort_overview", "02_gap_analysis", "03_intervention_targeting"]


def children_cpu() -> float:
    """CPU seconds used so far by this process's finished children (and theirs: kernels, workers)."""
    import resource

    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def hand_loop(data: Path, out: Path, schools: list[str]) -> float:
    """The hand-written loop: papermill then nbconvert, CLI calls one at a time. Seconds taken."""
    start = time.perf_counter()
    for school in schools:
        folder = out / school
        folder.mkdir(parents=True)
        for nb in NOTEBOOKS:
            executed = folder / f"{nb}.ipynb"
            subprocess.run([BIN / "papermill", "-k", "python3", "--cwd", ROOT / "notebooks",
                            ROOT / "notebooks" / f"{nb}.ipynb", executed, "-p", "data", str(data),
                            "-p", "school_id", school, "-p", "out_dir", str(folder), "--log-level", "ERROR"],
                           check=True, capture_output=True)
            subprocess.run([BIN / "jupyter", "nbconvert", "--to", "html", "--no-input", executed],
                           check=True, capture_output=True)
    executed = out / "04_trust_overview.ipynb"
    subprocess.run([BIN / "papermill", "-k", "python3", "--cwd", ROOT / "notebooks",
                    ROOT / "notebooks" / "04_trust_overview.ipynb", executed, "-p", "results_dir", str(out),
                    "--log-level", "ERROR"], check=True, capture_output=True)
    subprocess.run([BIN / "jupyter", "nbconvert", "--to", "html", "--no-input", executed],
                   check=True, capture_output=True)
    return time.perf_counter() - start


def gaptools_run(data: Path, out: Path) -> float:
    """`gaptools run DATA --out OUT --quiet`, as a user runs it. Seconds taken."""
    start = time.perf_counter()
    subprocess.run([BIN / "gaptools", "run", str(data), "--out", str(out), "--quiet"], check=True,
                   capture_output=True)
    return time.perf_counter() - start


def floor(data: Path, work: Path, schools: list[str]) -> tuple[float, float]:
    """The school notebooks' code cells in this (warm) process. Seconds and CPU seconds taken."""
    from floor import run_floor, validated_copy

    work.mkdir(parents=True)
    times = run_floor(validated_copy(data, work), schools, work)
    return times.total_s, times.cpu_s


def same_results(reference: Path, other: Path, what: str) -> None:
    from compare_results import compare

    if compare(reference, other):
        raise SystemExit(f"{what} gave different results.json from gaptools run: the comparison is void")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    ap.add_argument("--repeat", type=int, default=1, help="take each measurement this many times")
    args = ap.parse_args()
    data = args.data.resolve()
    import warnings

    import gaptools

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schools = sorted(gaptools.load_pupils(data)["school_id"].unique())
    n_school = len(schools) * len(NOTEBOOKS)
    n_all = n_school + 1  # and the trust overview
    times: dict[str, list[float]] = {"loop": [], "gaptools": [], "floor": []}
    cpu: dict[str, list[float]] = {"loop": [], "gaptools": [], "floor": []}
    work = Path(tempfile.mkdtemp(prefix="gaptools-bench-"))
    try:
        for r in range(args.repeat):
            ours, loop, flr = work / f"ours{r}", work / f"loop{r}", work / f"floor{r}"
            before = children_cpu()
            times["gaptools"].append(gaptools_run(data, ours))
            cpu["gaptools"].append(children_cpu() - before)
            before = children_cpu()
            times["loop"].append(hand_loop(data, loop, schools))
            cpu["loop"].append(children_cpu() - before)
            wall, used = floor(data, flr, schools)
            times["floor"].append(wall)
            cpu["floor"].append(used)
            print(f"repeat {r + 1}/{args.repeat}: loop {times['loop'][-1]:.1f} s, gaptools run "
                  f"{times['gaptools'][-1]:.1f} s, floor {times['floor'][-1]:.1f} s "
                  f"(CPU {cpu['loop'][-1]:.0f}, {cpu['gaptools'][-1]:.0f}, {cpu['floor'][-1]:.0f} s)", flush=True)
            with open(os.devnull, "w") as quiet:
                stdout, sys.stdout = sys.stdout, quiet
                try:
                    same_results(ours, loop, "the hand-written loop")
                    same_results(ours, flr, "the in-process floor")
                finally:
                    sys.stdout = stdout
            for folder in (ours, loop, flr):
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    best = {k: min(v) for k, v in times.items()}
    med = {k: statistics.median(v) for k, v in times.items()}
    best_cpu = {k: min(v) for k, v in cpu.items()}
    floor_nb, floor_cpu = best["floor"] / n_school, best_cpu["floor"] / n_school
    print()
    print(f"{data.name}: {len(schools)} schools, {n_school} school notebooks + 1 trust overview; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} now; best of {args.repeat} (median)")
    print(f"{'':50} {'seconds':>16} {'s/notebook':>15} {'x floor':>7} {'CPU s/notebook':>15} {'x floor':>7}")
    rows = [("hand-written loop (papermill + nbconvert CLIs)", "loop", n_all),
            ("gaptools run", "gaptools", n_all),
            ("in-process floor (school notebooks' cells only)", "floor", n_school)]
    for label, key, n in rows:
        print(f"{label:50} {best[key]:7.1f} ({med[key]:6.1f}) {best[key] / n:6.2f} ({med[key] / n:6.2f}) "
              f"{best[key] / n / floor_nb:6.1f}x {best_cpu[key] / n:15.2f} {best_cpu[key] / n / floor_cpu:6.1f}x")
    print(f"\nspeed-up, loop / gaptools run: {best['loop'] / best['gaptools']:.1f}x "
          f"(median {med['loop'] / med['gaptools']:.1f}x; goal >= 10x); in CPU seconds "
          f"{best_cpu['loop'] / best_cpu['gaptools']:.1f}x")
    print(f"gaptools run per notebook against the floor: {best['gaptools'] / n_all:.2f} s against {floor_nb:.2f} s "
          f"({best['gaptools'] / n_all / floor_nb:.1f}x); CPU {best_cpu['gaptools'] / n_all:.2f} s against "
          f"{floor_cpu:.2f} s ({best_cpu['gaptools'] / n_all / floor_cpu:.1f}x). The floor has no kernel, "
          "no HTML and no trust overview.")
    print("results.json identical for every school in all three")


if __name__ == "__main__":
    main()
