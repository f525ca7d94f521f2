"""Benchmark: `gaptools run` against the obvious hand-written loop.

The loop a trust analyst would write: for every school and notebook, one
`papermill` CLI call and one `jupyter nbconvert --to html --no-input` call, one
after another, then the trust overview. Same notebooks, same parameters, same
sample trust. Goal (issue 6): gaptools run at least 3x faster on this machine.

    python benchmarks/bench_batch.py [--data data/sample]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOTEBOOKS = ["01_cohort_overview", "02_gap_analysis", "03_intervention_targeting"]


def hand_loop(data: Path, out: Path, schools: list[str]) -> float:
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
    from gaptools.batch import run

    start = time.perf_counter()
    manifest = run(data, out, quiet=True)
    assert all(s["status"] == "ok" for s in manifest["schools"].values()), manifest
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    args = ap.parse_args()
    import gaptools

    schools = sorted(gaptools.load_pupils(args.data)["school_id"].unique())
    work = Path(tempfile.mkdtemp(prefix="gaptools-bench-"))
    try:
        t_ours = gaptools_run(args.data.resolve(), work / "ours")
        t_loop = hand_loop(args.data.resolve(), work / "loop", schools)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = len(schools) * len(NOTEBOOKS) + 1
    print(f"{len(schools)} schools, {n} notebooks")
    print(f"hand-written loop (papermill CLI + nbconvert CLI, one by one): {t_loop:.1f} s ({t_loop / n:.1f} s a notebook)")
    print(f"gaptools run:                                                 {t_ours:.1f} s ({t_ours / n:.1f} s a notebook)")
    print(f"speed-up: {t_loop / t_ours:.1f}x (goal >= 3x)")


if __name__ == "__main__":
    main()
