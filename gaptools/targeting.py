"""Turn a school's gaps into priorities and a list of pupils to focus on.

``priorities`` ranks the school's clear gaps by how much they matter and
attaches the approaches with the best evidence for each need; ``target_pupils``
scores each disadvantaged pupil on stated, explainable signals.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .evidence import NEEDS, approaches_for, describe
from .findings import HEADLINE, SUBGROUP_WORDS, _num, concentration
from .gaps import SPLITS, gap_table
from .progress import value_added
from .suppression import DEFAULT_THRESHOLD
from .trends import gap_trends

#: Which need a measure speaks to.
MEASURE_NEEDS = {
    "grade_english": "literacy", "va_grade_english": "literacy", "reading_score": "literacy",
    "gps_score": "literacy",
    "grade_maths": "maths", "va_grade_maths": "maths", "maths_score": "maths",
    "attainment8": "teaching", "progress8": "teaching", "va_attainment8": "teaching",
    "basics_4plus": "teaching", "basics_5plus": "teaching", "rwm_expected": "teaching",
    "rwm_higher": "teaching",
    "attendance_pct": "attendance", "persistent_absence": "attendance", "severe_absence": "attendance",
    "suspensions": "behaviour",
}
PRIORITY_COLUMNS = ["rank", "need", "area", "score", "year", "key_stage", "n_disadvantaged", "evidence",
                    "concentrated_in", "trend", "approaches", "measures"]
SUBGROUP_NAMES = SUBGROUP_WORDS


def _need_of(measure: str, pupils: pd.DataFrame) -> str | None:
    if measure in MEASURE_NEEDS:
        return MEASURE_NEEDS[measure]
    name = measure.lower()
    if any(w in name for w in ("read", "phonic", "writ", "spell", "english", "literacy", "language")):
        return "literacy"
    if any(w in name for w in ("math", "numer")):
        return "maths"
    if name.startswith("grade_"):
        return "teaching"
    return None


def _cohort(pupils, school_id, year, key_stage):
    rows = pupils[pupils["school_id"] == str(school_id)]
    if key_stage is None:
        key_stage = rows["key_stage"].mode().iloc[0] if len(rows) else None
    rows = rows[rows["key_stage"] == key_stage]
    if year is None and len(rows):
        year = int(rows["year"].max())
    return key_stage, year


def _effect(row) -> float:
    if row["kind"] == "score" and pd.notna(row["effect_size"]):
        return abs(float(row["effect_size"]))
    p1, p2 = float(row["mean_disadvantaged"]), float(row["mean_reference"])
    return abs(2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2)))


def _fmt(row, value, unit: bool = True) -> str:
    """A gap figure as the findings write it, with its unit in words."""
    words = {"%": "percentage points"}.get(row["unit"], row["unit"])
    return _num(value, row["unit"], row["measure"]) + (f" {words}" if unit else "")


def _evidence_text(r) -> str:
    """'GCSE English grade: 1.3 grades behind (95% interval 0.8 to 1.7; 75 disadvantaged pupils)'."""
    how = "behind" if r["higher_is_better"] else "higher for disadvantaged pupils"
    return (f"{r['label']}: {_fmt(r, r['gap'])} {how} (95% interval {_fmt(r, r['ci_low'], False)} to "
            f"{_fmt(r, r['ci_high'], False)}; {int(r['n_disadvantaged'])} disadvantaged pupils)")


def priorities(pupils: pd.DataFrame, school_id: str, *, year: int | None = None,
               key_stage: str | None = None, threshold: int = DEFAULT_THRESHOLD,
               gaps: pd.DataFrame | None = None, max_approaches: int = 4) -> pd.DataFrame:
    """The school's priority areas, most important first.

    A priority is a need (literacy, maths, attendance, behaviour, whole-cohort
    teaching) backed by at least one clear gap (surviving false-discovery-rate
    control) in the chosen year. Importance = size of gap (standardised) x
    number of disadvantaged pupils x confidence (1 - q-value), taking the
    strongest gap of the area. Nothing is proposed that the data does not support.

    Parameters
    ----------
    pupils : DataFrame
        From :func:`gaptools.load_pupils` (the trust: it sets value-added expectations).
    school_id : str
    year, key_stage : optional
        Default: the school's latest year and its main key stage.
    threshold : int, default 6
    gaps : DataFrame, optional
        ``gap_table(..., detail=True)`` for the school, if already computed.

    Returns
    -------
    DataFrame
        ``rank, need, area, score, year, key_stage, n_disadvantaged, evidence``
        (the gaps with intervals, in words), ``concentrated_in``, ``trend``,
        ``approaches`` (a DataFrame of toolkit strands) and ``measures``.
    """
    key_stage, year = _cohort(pupils, school_id, year, key_stage)
    if gaps is None or not {"persistent_absence"} & {s.split("=")[0] for s in gaps["subgroup"].dropna()}:
        gaps = gap_table(pupils, school_id=str(school_id), key_stage=key_stage, threshold=threshold,
                         subgroups=SPLITS, detail=True)
    phase = "primary" if key_stage == "KS2" else "secondary"
    g = gaps[(gaps["key_stage"] == key_stage)]
    now = g[(g["year"] == year) & (g["comparison"] == "in_school")]
    whole = now[now["subgroup"].isna() & now["clear"].fillna(False).astype(bool) & (now["gap"] > 0)]
    trends = gap_trends(g) if "se" in g.columns else None
    areas: dict[str, dict] = {}
    for _, row in whole.iterrows():
        need = _need_of(row["measure"], pupils)
        if need is None:
            continue
        score = _effect(row) * float(row["n_disadvantaged"]) * (1 - float(row["q_value"]))
        area = areas.setdefault(need, {"score": 0.0, "rows": []})
        area["rows"].append(row)
        area["score"] = max(area["score"], score)
    out = []
    for need, area in areas.items():
        # headline measures first (A8 before GCSE art), then by size of gap
        rows = sorted(area["rows"], key=lambda r: (r["measure"] not in HEADLINE, -_effect(r)))
        lead = rows[0]
        evidence = "; ".join(_evidence_text(r) for r in rows[:4])
        measures = [r["measure"] for r in rows]
        conc = []
        subs = now[now["measure"].isin(measures) & now["subgroup"].notna() & ~now["suppressed"]]
        for (measure, split), s in subs.groupby(["measure", subs["subgroup"].str.split("=").str[0]]):
            found = concentration(s)
            if found is not None:
                t = found[0]
                conc.append(f"{SUBGROUP_NAMES.get(t['subgroup'], t['subgroup'])} "
                            f"({t['label']}: {_fmt(t, t['gap'])} behind)")
        trend = None
        if trends is not None and len(trends):
            tr = trends[(trends["measure"] == lead["measure"]) & trends["subgroup"].isna()
                        & (trends["comparison"] == "in_school") & (trends["year_to"] == year)
                        & (trends["span"] == "previous_year")]
            if len(tr):
                r = tr.iloc[0]
                trend = (f"{r['direction']} since {r['year_from']}" if r["direction"] in ("closing", "widening")
                         else f"no clear change since {r['year_from']}") if r["direction"] else None
        out.append({
            "need": need, "area": NEEDS[need], "score": round(area["score"], 3), "year": year,
            "key_stage": key_stage, "n_disadvantaged": int(lead["n_disadvantaged"]), "evidence": evidence,
            "concentrated_in": "; ".join(dict.fromkeys(conc)) or None, "trend": trend,
            "approaches": approaches_for(need, phase=phase, limit=max_approaches), "measures": measures,
        })
    if not out:
        return pd.DataFrame(columns=PRIORITY_COLUMNS)
    result = pd.DataFrame(out).sort_values(["score", "need"], ascending=[False, True], kind="stable")
    result.insert(0, "rank", range(1, len(result) + 1))
    return result[PRIORITY_COLUMNS].reset_index(drop=True)


def approaches_table(prio: pd.DataFrame) -> pd.DataFrame:
    """One row per priority and approach, for display."""
    rows = []
    for _, p in prio.iterrows():
        for _, a in p["approaches"].iterrows():
            rows.append({"priority": p["rank"], "area": p["area"], "approach": a["strand"],
                         "tier": a["tier"], "evidence": describe(a), "note": a["note"] if pd.notna(a["note"]) else ""})
    return pd.DataFrame(rows, columns=["priority", "area", "approach", "tier", "evidence", "note"])


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
    key_stage, year = _cohort(pupils, school_id, year, key_stage)
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
    import os
    import tempfile
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if "school_id" in targets.columns and (targets["school_id"].astype(str) != str(school_id)).any():
        raise ValueError("targets hold pupils of another school: refusing to write them")
    written = []
    for name, text in (("targets.csv", targets.to_csv(index=False, lineterminator="\n")),
                       ("strategy.md", strategy)):
        fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, out / name)
        written.append(out / name)
    return written
