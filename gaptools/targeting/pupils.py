"""The pupils to focus on, with reasons, and the school's targeting files."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis.progress import value_added
from .priorities import cohort


@dataclass(frozen=True)
class Weights:
    """How much each signal adds to a pupil's priority score (shown in the notebook)."""

    below_expected: float = 2.0       # per grade (KS4) of value added below similar pupils, at -0.5 or worse, up to 3
    near_threshold: float = 3.0       # grade 3 in English or maths (KS4); scaled score 95-99 (KS2)
    persistent_absence: float = 3.0   # attendance below 90%
    severe_absence: float = 2.0       # attendance below 50%, on top
    suspension: float = 1.5           # per suspension, up to 3
    sen: float = 1.0                  # SEN support or EHC plan


TARGET_COLUMNS = ["rank", "pupil_id", "disadvantaged", "score", "reasons", "sen", "attendance_pct",
                  "suspensions", "grade_english", "grade_maths", "va_english", "va_maths",
                  "reading_score", "maths_score"]


def target_pupils(pupils: pd.DataFrame, school_id: str, year: int | None = None, *,
                  key_stage: str | None = None, all_pupils: bool = False,
                  weights: Weights = Weights()) -> pd.DataFrame:
    """The pupils to focus on, each with a priority score and plain reasons.

    Signals (weights in :class:`Weights`): value added below pupils with similar
    KS2 results across the trust (KS4 English and maths, -0.5 grades or worse);
    near a threshold that counts (grade 3 in English or maths at KS4; a
    scaled score of 95-99 at KS2); attendance below 90% (and below 50%);
    suspensions; SEN. Deterministic: ties are broken by pupil id.

    Parameters
    ----------
    pupils : DataFrame
        From :func:`gaptools.load_pupils` (the trust sets value-added expectations).
    school_id : str
    year : int, optional
        Default: the school's latest year.
    key_stage : str, optional
    all_pupils : bool, default False
        Include pupils who are not disadvantaged too.
    weights : Weights

    Returns
    -------
    DataFrame
        This school's pupils only, highest score first, with ``reasons``.
        Pupils with no signal are listed last with score 0 when
        ``all_pupils``; otherwise only pupils with a signal are listed.
    """
    key_stage, year = cohort(pupils, school_id, year, key_stage)
    mine = (pupils["school_id"] == str(school_id)) & (pupils["key_stage"] == key_stage) & (pupils["year"] == year)
    rows = pupils[mine]
    if not all_pupils:
        rows = rows[rows["disadvantaged"].astype(bool)]
    if rows.empty:
        return pd.DataFrame(columns=TARGET_COLUMNS)
    va = value_added(pupils[(pupils["key_stage"] == key_stage) & (pupils["year"] == year)],
                     ["grade_english", "grade_maths"]).reindex(rows.index) \
        if "prior_attainment" in pupils.columns else pd.DataFrame(index=rows.index)
    n = len(rows)
    score = np.zeros(n)
    reasons: list[list[str]] = [[] for _ in range(n)]

    def col(name):
        return rows[name].astype("float64").to_numpy() if name in rows.columns else np.full(n, np.nan)

    for subject, label in (("english", "English"), ("maths", "maths")):
        v = va[f"va_grade_{subject}"].to_numpy(dtype=float) if f"va_grade_{subject}" in va else np.full(n, np.nan)
        for i in np.flatnonzero(v <= -0.5):
            score[i] += weights.below_expected * min(-v[i], 3.0)
            reasons[i].append(f"{label} {-v[i]:.1f} grades below pupils with similar KS2 results")
        g = col(f"grade_{subject}")
        for i in np.flatnonzero(g == 3):
            score[i] += weights.near_threshold
            reasons[i].append(f"grade 3 in {label}: one grade from a standard pass")
    for name, label in (("reading_score", "reading"), ("maths_score", "maths")):
        s = col(name)
        for i in np.flatnonzero((s >= 95) & (s <= 99)):
            score[i] += weights.near_threshold
            reasons[i].append(f"{label} scaled score {int(s[i])}: {100 - int(s[i])} below the expected standard")
    att = col("attendance_pct")
    for i in np.flatnonzero(att < 90):
        score[i] += weights.persistent_absence + (weights.severe_absence if att[i] < 50 else 0)
        reasons[i].append(f"attendance {att[i]:.1f}%" + (" (severely absent)" if att[i] < 50 else ""))
    sus = col("suspensions")
    for i in np.flatnonzero(sus >= 1):
        score[i] += weights.suspension * min(sus[i], 3)
        reasons[i].append(f"{int(sus[i])} suspension{'s' if sus[i] > 1 else ''}")
    if "sen" in rows.columns:
        sen = rows["sen"].astype(object).to_numpy()
        for i in np.flatnonzero(np.isin(sen, ["K", "E"])):
            score[i] += weights.sen
            reasons[i].append("SEN support" if sen[i] == "K" else "EHC plan")
    out = pd.DataFrame({
        "pupil_id": rows["pupil_id"].astype(str).to_numpy(),
        "disadvantaged": rows["disadvantaged"].astype(bool).to_numpy(),
        "score": np.round(score, 2), "reasons": ["; ".join(r) for r in reasons],
        "sen": rows["sen"].to_numpy() if "sen" in rows else None,
        "attendance_pct": att, "suspensions": sus,
        "grade_english": col("grade_english"), "grade_maths": col("grade_maths"),
        "va_english": va["va_grade_english"].to_numpy(dtype=float).round(2) if "va_grade_english" in va else np.nan,
        "va_maths": va["va_grade_maths"].to_numpy(dtype=float).round(2) if "va_grade_maths" in va else np.nan,
        "reading_score": col("reading_score"), "maths_score": col("maths_score"),
    })
    if not all_pupils:
        out = out[out["score"] > 0]
    out = out.sort_values(["score", "pupil_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    keep = [c for c in TARGET_COLUMNS if c in out.columns and (c in ("rank", "pupil_id") or out[c].notna().any())]
    return out[keep]


def write_targeting_outputs(out_dir, school_id: str, targets: pd.DataFrame, strategy: str) -> list:
    """Write ``targets.csv`` (this school's pupils only) and ``strategy.md`` into ``out_dir``.

    Writes are atomic: a reader never sees half a file.
    """
    from pathlib import Path

    from ..io.files import atomic_write_text

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if "school_id" in targets.columns and (targets["school_id"].astype(str) != str(school_id)).any():
        raise ValueError("targets hold pupils of another school: refusing to write them")
    written = []
    for name, text in (("targets.csv", targets.to_csv(index=False, lineterminator="\n")),
                       ("strategy.md", strategy)):
        written.append(atomic_write_text(out / name, text))
    return written
