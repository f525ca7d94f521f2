"""A school's priority areas from its clear gaps, with the evidence for each."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.findings import HEADLINE, SUBGROUP_WORDS
from ..analysis.gaps import SPLITS, gap_table
from ..analysis.trends import gap_trends, with_verdicts
from ..domain.formatting import amount, number, row_trend_text
from ..domain.labels import subgroup_words
from ..domain.registry import measure_splits, needs
from ..domain.suppression import DEFAULT_THRESHOLD
from .evidence import NEEDS, approaches_for, describe

#: Which need a measure speaks to.
MEASURE_NEEDS = needs()  # the registry's


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


def cohort(pupils, school_id, year, key_stage):
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


def format_gap(row, value, unit: bool = True) -> str:
    """A gap figure as the findings write it, with its unit in words (the one formatter)."""
    if unit:
        return amount(value, row["unit"], row["measure"], row.get("kind"))
    return number(value, row["unit"], row["measure"], row.get("kind"))


#: The splits "Concentrated in" looks at (headline measures only: a GCSE option group is too narrow to act on).
CONCENTRATION_SPLITS = ("prior_band", "sex", "sen")
#: How sure the page must be that one group's gap is larger than each other group's (two-sided 95%).
CONCENTRATION_Z = 1.96


def concentrated(split_rows: pd.DataFrame):
    """The group of one split (prior band, sex, SEN, ...) where a gap is clearly larger, or None.

    Clearly larger: the group's own gap is positive with a 95% interval above
    zero, and it exceeds the gap of every other shown group of the split by
    more than 1.96 standard errors of the difference (and by at least half
    again). Withheld groups take no part.

    Parameters
    ----------
    split_rows : DataFrame
        Gap-table rows (``detail=True``: with ``se``) of one measure, one split.

    Returns
    -------
    Series or None
        The row of that group.
    """
    rows = split_rows[split_rows["gap"].notna() & split_rows["se"].notna()]
    if len(rows) < 2:
        return None
    top = rows.loc[rows["gap"].astype(float).idxmax()]
    rest = rows[rows.index != top.name]
    gap, se = float(top["gap"]), float(top["se"])
    if not (gap > 0 and float(top["ci_low"]) > 0):
        return None
    others = rest["gap"].astype(float)
    diff_se = np.sqrt(se ** 2 + rest["se"].astype(float) ** 2)
    if ((gap - others) / diff_se > CONCENTRATION_Z).all() and (others <= gap / 1.5).all():
        return top
    return None


def _evidence_text(r) -> str:
    """'GCSE English grade: 1.3 grades behind (95% interval 0.8 to 1.7; 75 disadvantaged pupils)'."""
    how = "behind" if r["higher_is_better"] else "higher for disadvantaged pupils"
    return (f"{r['label']}: {format_gap(r, r['gap'])} {how} (95% interval {format_gap(r, r['ci_low'], False)} to "
            f"{format_gap(r, r['ci_high'], False)}; {int(r['n_disadvantaged'])} disadvantaged pupils)")


def priorities(pupils: pd.DataFrame, school_id: str, *, year: int | None = None,
               key_stage: str | None = None, threshold: int = DEFAULT_THRESHOLD,
               gaps: pd.DataFrame | None = None, max_approaches: int = 4, cohorts=None) -> pd.DataFrame:
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
        The school's results model (or ``gap_table(..., detail=True)``), if
        already computed; its trend verdicts are the ones given here.
    max_approaches : int, default 4
        Toolkit approaches given for each priority.
    cohorts : optional
        Several cohorts at once (instead of ``year`` and ``key_stage``):
        ``SchoolReport.cohorts`` or ``(key_stage, year)`` pairs. Their
        priorities one cohort after another, each ranked within its cohort.

    Returns
    -------
    DataFrame
        ``rank, need, area, score, year, key_stage, n_disadvantaged, evidence``
        (the gaps with intervals, in words), ``concentrated_in``, ``trend``,
        ``approaches`` (a DataFrame of toolkit strands) and ``measures``.
    """
    if cohorts is not None:
        pairs = [c if isinstance(c, tuple) else (c.key_stage, c.year) for c in cohorts]
        parts = [priorities(pupils, school_id, year=int(y), key_stage=ks, threshold=threshold, gaps=gaps,
                            max_approaches=max_approaches) for ks, y in pairs]
        parts = [p for p in parts if len(p)]  # (an empty frame would change the columns' types)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=PRIORITY_COLUMNS)
    key_stage, year = cohort(pupils, school_id, year, key_stage)
    if gaps is None or not set(measure_splits()) & {s.split("=")[0] for s in gaps["subgroup"].dropna()}:
        gaps = gap_table(pupils, school_id=str(school_id), key_stage=key_stage, threshold=threshold,
                         subgroups=SPLITS, detail=True)
    phase = "primary" if key_stage == "KS2" else "secondary"
    g = gaps[(gaps["key_stage"] == key_stage)]
    now = g[(g["year"] == year) & (g["comparison"] == "in_school")]
    whole = now[now["subgroup"].isna() & now["clear"].fillna(False).astype(bool) & (now["gap"] > 0)]
    if "trend" not in g.columns and "se" in g.columns:
        g = with_verdicts(g, gap_trends(g))  # a plain gap table: give each row the model's verdict
        now = g[(g["year"] == year) & (g["comparison"] == "in_school")]
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
        split = now["subgroup"].fillna("").str.split("=").str[0]
        subs = now[now["measure"].isin([m for m in measures if m in HEADLINE]) & split.isin(CONCENTRATION_SPLITS)
                   & ~now["suppressed"]]
        for (_measure, _split), s in subs.groupby(["measure", subs["subgroup"].str.split("=").str[0]], sort=False):
            t = concentrated(s)
            if t is not None:
                conc.append(f"{subgroup_words(t['subgroup'])} "
                            f"({t['label']}: {format_gap(t, t['gap'])} behind)")
        # the results model's verdict on the lead measure's gap, as every page gives it
        lead_now = now[(now["measure"] == lead["measure"]) & now["subgroup"].isna()]
        trend = (row_trend_text(lead_now.iloc[0]) or None
                 if len(lead_now) and "trend" in lead_now.columns else None)
        out.append({
            "need": need, "area": NEEDS[need], "score": round(area["score"], 3), "year": year,
            "key_stage": key_stage, "n_disadvantaged": int(lead["n_disadvantaged"]), "evidence": evidence,
            "concentrated_in": "; ".join(dict.fromkeys(conc)) or None, "trend": trend,
            "approaches": approaches_for(need, phase=phase, limit=max_approaches, matched=True), "measures": measures,
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
