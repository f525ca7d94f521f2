"""Benchmark: the review of every school's activities (issue 27: 400 schools in under 30 s).

A generated trust of ``--schools`` KS4 schools, two results years of ``--per-school``
pupils each, and an activity register (CSV, written to a temporary folder) of
``--activities`` activities per school and year, each for the pupils furthest
behind, with sessions and costs. Timed: ``load_activities`` (reading the CSV and
checking it against the pupil table) and ``activity_impact`` (every estimate).

    python benchmarks/bench_activities.py [--schools 400] [--per-school 180] [--activities 5]
"""
from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def trust(schools: int, per_school: int, activities: int, seed: int = 27) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frames, registers = [], []
    for year in (2024, 2025):
        n = schools * per_school
        school = np.repeat(np.arange(schools), per_school)
        dis = rng.random(n) < 0.3
        prior = np.clip(rng.normal(104, 6.5, n) - 3 * dis, 80, 120)
        sen = np.where(rng.random(n) < 0.13, "K", np.where(rng.random(n) < 0.03, "E", "N"))
        att = np.clip(95 - 3 * dis + rng.normal(0, 3, n), 40, 100)
        eng = np.clip(np.round(4.4 + 0.25 * (prior - 104) - 0.5 * dis + rng.normal(0, 1, n)), 0, 9)
        ids = np.char.add(f"Y{year}P", np.arange(n).astype(str))
        sid = (100000 + school).astype(str)
        frames.append(pd.DataFrame({"school_id": sid, "year": year, "key_stage": "KS4", "pupil_id": ids,
                                    "disadvantaged": dis, "sen": sen, "prior_attainment": prior,
                                    "attendance_pct": att.round(1), "grade_english": eng,
                                    "grade_maths": np.clip(eng + rng.integers(-1, 2, n), 0, 9)}))
        need = -prior + 5 * dis + rng.normal(0, 3, n)
        for a in range(activities):
            size = int(rng.integers(8, 30))
            rank = pd.Series(need + rng.normal(0, 2, n)).groupby(school).rank(ascending=False).to_numpy()
            chosen = rank <= size
            k = int(chosen.sum())
            planned = rng.integers(8, 20, k)
            registers.append(pd.DataFrame({
                "school_id": sid[chosen], "pupil_id": ids[chosen], "activity": f"Activity {a + 1}",
                "tier": ["teaching", "targeted", "wider"][a % 3], "year": year,
                "measure": ["grade_english", "grade_maths", "attendance_pct"][a % 3],
                "sessions_planned": planned, "sessions_attended": rng.binomial(planned, 0.8), "cost": 250}))
    return pd.concat(frames, ignore_index=True), pd.concat(registers, ignore_index=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=400)
    parser.add_argument("--per-school", type=int, default=180)
    parser.add_argument("--activities", type=int, default=5)
    args = parser.parse_args(argv)
    import gaptools

    pupils_raw, register = trust(args.schools, args.per_school, args.activities)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pupils = gaptools.load_pupils(pupils_raw)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "register.csv"
            register.to_csv(path, index=False)
            start = time.perf_counter()
            loaded = gaptools.load_activities(path, pupils=pupils)
            read = time.perf_counter() - start
            start = time.perf_counter()
            out = gaptools.activity_impact(pupils, loaded)
            estimate = time.perf_counter() - start
    total = read + estimate
    print(f"activities: {args.schools} schools, {len(pupils):,} pupils, {len(register):,} register rows, "
          f"{len(out):,} estimates ({out['withheld_reason'].isna().sum():,} shown): read and checked "
          f"{read:.1f} s, estimated {estimate:.1f} s, total {total:.1f} s (goal: under 30 s) "
          f"{'OK' if total < 30 else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
