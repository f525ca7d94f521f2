"""Benchmark: load_pupils + gap_table for a national-size KS4 cohort.

~540,000 KS4 pupils in 3,000 schools (generated, vectorised). Compared, in the
same process, with the floor the issue sets: a bare pandas group-by computing
count/mean/std of the same measures (every measure gap_table reports, derived
ones included, as plain float columns) per school and disadvantaged group.
Goal (issue 3): load + gap_table at most 10x that floor, and under 2 GiB peak
memory. For scale, the same group-by over only the 5 measures the generated
input holds is printed too. Each timing is the best of ``--repeat`` runs. Peak
memory is the process's maximum resident set size.

    python benchmarks/bench_gaps.py [--schools 3000] [--per-school 180] [--repeat 5]
"""
from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
import pandas as pd


def national_cohort(schools: int, per_school: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = schools * per_school
    school = np.repeat(np.arange(schools), per_school)
    share = rng.uniform(0.05, 0.65, schools)[school]
    dis = rng.random(n) < share
    z = rng.normal(0, 1, n) - 0.45 * dis
    prior = np.clip(np.round((104.5 + 6.5 * z) * 2) / 2, 80, 120)
    effect = rng.normal(0, 0.3, schools)[school]
    eng = np.clip(np.round(4.4 + 1.6 * z + effect - 0.5 * dis + rng.normal(0, 1, n)), 0, 9)
    mat = np.clip(np.round(4.2 + 1.7 * z + effect - 0.5 * dis + rng.normal(0, 1, n)), 0, 9)
    sci = np.clip(np.round(4.3 + 1.6 * z + effect - 0.5 * dis + rng.normal(0, 1.1, n)), 0, 9)
    a8 = np.clip(2 * eng + 2 * mat + 3 * sci + 3 * np.clip(sci + rng.normal(0, 1, n), 0, 9), 0, 90)
    return pd.DataFrame({
        "school_id": pd.array((100000 + school).astype(str), dtype="string"),
        "year": 2024, "key_stage": "KS4",
        "pupil_id": pd.array(np.arange(n).astype(str), dtype="string"),
        "disadvantaged": dis,
        "sex": np.where(rng.random(n) < 0.5, "F", "M"),
        "sen": np.where(rng.random(n) < 0.13, "K", "N"),
        "prior_attainment": prior,
        "attendance_pct": np.clip(100 - rng.gamma(1.6, 3.6, n) - 4 * dis, 30, 100).round(1),
        "attainment8": a8.round(1),
        "grade_english": eng.astype(int), "grade_maths": mat.astype(int), "grade_science": sci.astype(int),
    })


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=3000)
    ap.add_argument("--per-school", type=int, default=180)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    import gaptools

    raw = national_cohort(args.schools, args.per_school)
    print(f"cohort: {len(raw):,} KS4 pupils in {args.schools:,} schools")
    measures = ["attainment8", "grade_english", "grade_maths", "grade_science", "attendance_pct"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_load, pupils = best(lambda: gaptools.load_pupils(raw), args.repeat)
        t_gaps, gaps = best(lambda: gaptools.gap_table(pupils), args.repeat)
    # the floor: the same measures, as plain float columns, by school and disadvantaged group
    va = gaptools.value_added(pupils)
    reported = list(gaps["measure"].unique())
    same = raw[["school_id", "disadvantaged"]].copy()
    for c in reported:
        same[c] = (va[c] if c in va.columns else pupils[c]).to_numpy(dtype="float64", na_value=np.nan)

    def floor():
        return same.groupby(["school_id", "disadvantaged"])[reported].agg(["count", "mean", "std"])

    def floor_input():
        return raw.groupby(["school_id", "disadvantaged"])[measures].agg(["count", "mean", "std"])

    t_floor, _ = best(floor, args.repeat)
    t_input, _ = best(floor_input, args.repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2  # KiB -> GiB
    total = t_load + t_gaps
    print(f"floor (group-by count/mean/std of the {len(reported)} measures reported): {t_floor:.3f} s")
    print(f"load_pupils (validate, type, derive P8 and measures):      {t_load:.3f} s")
    print(f"gap_table (all measures, 4 splits, national, value added): {t_gaps:.3f} s  ({len(gaps):,} rows)")
    print(f"load + gap_table: {total:.3f} s = {total / t_floor:.1f}x the floor (goal <= 10x)")
    print(f"(group-by of the {len(measures)} input measures only: {t_input:.3f} s; load + gap_table "
          f"= {total / t_input:.1f}x that)")
    print(f"peak memory: {peak:.2f} GiB (goal < 2 GiB)")


if __name__ == "__main__":
    main()
