"""A synthetic activity register for the sample trust (no real pupil), for demos and tests.

``make_activities`` lists the sample trust's pupils in a few Pupil Premium
activities the way a school would choose them: the pupils behind (low prior
attainment, disadvantaged) for tutoring and small-group work, everyone for a
whole-school approach. The sample's results were made before any activity, so
no activity has a real effect: the review should find none (and says how large
an effect it could have detected). It also holds what registers hold in the
wild: a pupil the results table does not have, a group of five, a cohort with
no prior attainment (KS4 2025). ``python -m gaptools.io.sample_activities``
writes ``data/sample_year/activities.csv``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .files import atomic_write_text

COLUMNS = ["school_id", "pupil_id", "activity", "tier", "year", "measure", "start", "end",
           "sessions_planned", "sessions_attended", "cost"]


def _chosen(cohort: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """The ``n`` pupils a school would pick: furthest behind on entry, disadvantaged pupils first."""
    prior = pd.to_numeric(cohort.get("prior_attainment"), errors="coerce") if "prior_attainment" in cohort else None
    need = -(prior.fillna(prior.mean()) if prior is not None and prior.notna().any()
             else pd.Series(100.0, index=cohort.index))
    need = need + 4 * cohort["disadvantaged"].astype(bool) + rng.normal(0, 2, len(cohort))
    return cohort.loc[need.sort_values(ascending=False).index[:n]]


def _rows(pupils, sid, year, activity, tier, measure, n, rng, *, sessions=None, cost_each=None, start="", end=""):
    cohort = pupils[(pupils["school_id"] == sid) & (pupils["year"] == year)]
    chosen = cohort if n is None else _chosen(cohort, n, rng)
    out = pd.DataFrame({"school_id": sid, "pupil_id": chosen["pupil_id"].astype(str).to_numpy(), "activity": activity,
                        "tier": tier, "year": year, "measure": measure, "start": start, "end": end})
    if sessions:
        out["sessions_planned"] = sessions
        out["sessions_attended"] = np.minimum(sessions, rng.binomial(sessions, 0.8, len(out)))
    if cost_each:
        out["cost"] = cost_each
    return out


def make_activities(pupils: pd.DataFrame, seed: int = 2025) -> pd.DataFrame:
    """The sample trust's activity register (see the module's docstring for what it holds)."""
    rng = np.random.default_rng(seed)
    parts = [
        _rows(pupils, "900101", 2024, "Small-group English tutoring", "targeted", "grade_english", 30, rng,
              sessions=15, cost_each=450, start="2023-10-02", end="2024-03-22"),
        _rows(pupils, "900101", 2024, "Maths mastery catch-up", "targeted", "grade_maths", 24, rng,
              sessions=12, cost_each=300, start="2023-11-06", end="2024-04-26"),
        _rows(pupils, "900101", 2025, "Small-group English tutoring", "targeted", "grade_english", 30, rng,
              sessions=15, cost_each=450, start="2024-10-07", end="2025-03-21"),
        _rows(pupils, "900101", 2025, "Metacognition and self-regulation (whole school)", "teaching",
              "attainment8", None, rng, start="2024-09-02", end="2025-07-18"),
        _rows(pupils, "900102", 2024, "Attendance mentoring", "wider", "attendance_pct", 25, rng,
              sessions=20, cost_each=120, start="2023-09-11", end="2024-07-12"),
        _rows(pupils, "900103", 2024, "Maths intervention group", "targeted", "grade_maths", 5, rng,
              sessions=10, cost_each=200, start="2024-01-08", end="2024-03-29"),
        _rows(pupils, "900201", 2025, "Reading catch-up", "targeted", "reading_score", 12, rng,
              sessions=30, cost_each=150, start="2024-09-16", end="2025-04-04"),
    ]
    register = pd.concat(parts, ignore_index=True)
    # a pupil who left before the results (not in the results table): the review counts and says so
    gone = register.iloc[[0]].assign(pupil_id="A999010199999")
    register = pd.concat([register, gone], ignore_index=True)
    for c in ("sessions_planned", "sessions_attended", "cost"):
        register[c] = register[c].astype("Int64")
    return register[COLUMNS]


def write_activities(register: pd.DataFrame, path: str | Path) -> Path:
    """Write the register as CSV (atomically, byte for byte the same each time)."""
    return atomic_write_text(path, register.to_csv(index=False, lineterminator="\n"))


if __name__ == "__main__":  # pragma: no cover - regenerates the committed file
    import warnings

    from .loading import load_pupils

    root = Path(__file__).resolve().parents[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trust = load_pupils(root / "data" / "sample")
    (root / "data" / "sample_year").mkdir(exist_ok=True)
    print(write_activities(make_activities(trust), root / "data" / "sample_year" / "activities.csv"))
