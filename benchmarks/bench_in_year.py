"""Benchmark: load_assessments + in_year_gaps for a trust's data drops (issue 28).

200 schools x 7 teaching groups x 3 drops (one year group of ~200 pupils, two subjects: about
250,000 rows), generated vectorised and written as CSV, then loaded and analysed as a run does.
Goal: under 30 s. Each timing is the best of ``--repeat`` runs.

    python benchmarks/bench_in_year.py [--schools 200] [--groups 7] [--drops 3] [--repeat 3]
"""
from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def drops(schools: int, groups: int, n_drops: int, per_group: int = 29, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = schools * groups * per_group
    school = np.repeat(np.arange(schools), groups * per_group)
    group = np.tile(np.repeat(np.arange(1, groups + 1), per_group), schools)
    dis = rng.random(n) < rng.uniform(0.1, 0.6, schools)[school]
    ability = rng.normal(0, 1, n) - 0.5 * dis
    frames = []
    for subject in ("English", "Maths"):
        for k in range(n_drops):
            score = np.clip(np.round(4.5 + 1.5 * (0.9 * ability + rng.normal(0, 0.4, n)), 1), 1, 9)
            frames.append(pd.DataFrame({
                "school_id": (100000 + school).astype(str), "pupil_id": np.char.add("P", np.arange(n).astype(str)),
                "year_group": 10, "subject": subject, "drop": f"Drop {k + 1}",
                "drop_date": (pd.Timestamp("2025-10-15") + pd.Timedelta(days=70 * k)).date().isoformat(),
                "score": score, "disadvantaged": dis,
                "teaching_group": np.char.add(f"10{subject[0]}", group.astype(str))}))
    return pd.concat(frames, ignore_index=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--groups", type=int, default=7)
    parser.add_argument("--drops", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from gaptools import in_year_gaps, load_assessments

    frame = drops(args.schools, args.groups, args.drops)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "assessments.csv"
        frame.to_csv(path, index=False)
        best_load = best_gaps = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a = load_assessments(path)
            loaded = time.perf_counter()
            table = in_year_gaps(a)
            done = time.perf_counter()
            best_load, best_gaps = min(best_load, loaded - start), min(best_gaps, done - loaded)
    total = best_load + best_gaps
    print(f"in-year: {len(frame):,} rows ({args.schools} schools x {args.groups} teaching groups x {args.drops} drops, "
          f"2 subjects): load {best_load:.2f} s + in_year_gaps {best_gaps:.2f} s = {total:.2f} s "
          f"({len(table):,} rows out; goal under 30 s: {'met' if total < 30 else 'MISSED'})")
    return 0 if total < 30 else 1


if __name__ == "__main__":
    raise SystemExit(main())
