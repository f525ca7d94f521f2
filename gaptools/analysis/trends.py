"""Is a gap closing or widening? Change between years, with its interval.

Cohorts in different years are different pupils, so the standard error of a
change is ``sqrt(se_a^2 + se_b^2)``. A change is called closing or widening
only when its 95% interval excludes zero and it survives false-discovery-rate
control (Benjamini-Hochberg) across the school's changes of the same span,
whole-cohort and subgroup changes counted as separate families; otherwise
"no clear change".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .stats import bh_qvalues

COLUMNS = ["school_id", "key_stage", "measure", "comparison", "subgroup", "span", "year_from", "year_to",
           "gap_from", "gap_to", "change", "ci_low", "ci_high", "p_value", "q_value", "direction"]


def gap_trends(gaps: pd.DataFrame, *, fdr: float = 0.05, level: float = 0.95) -> pd.DataFrame:
    """Year-on-year and first-to-last changes of each gap.

    Parameters
    ----------
    gaps : DataFrame
        From :func:`gaptools.gap_table` with ``detail=True`` (needs ``se``).
    fdr : float, default 0.05
        Benjamini-Hochberg rate across each school and key stage's changes.

    Returns
    -------
    DataFrame
        One row per series and pair of years: ``span`` is ``previous_year`` or
        ``first_to_last``; ``change`` < 0 means the gap narrowed; ``direction``
        is ``closing``, ``widening`` or ``no clear change`` (``None`` where a
        year is withheld).
    """
    if "se" not in gaps.columns:
        raise ValueError("gap_trends needs gap_table(..., detail=True)")
    keys = ["school_id", "key_stage", "measure", "comparison", "subgroup"]
    g = gaps.assign(subgroup=gaps["subgroup"].fillna("")).sort_values(keys + ["year"])
    g = g[["school_id", "key_stage", "measure", "comparison", "subgroup", "year", "gap", "se", "suppressed"]]
    rows = []
    prev = g.groupby(keys, sort=False).shift(1)
    pairs = g.assign(year_from=prev["year"], gap_from=prev["gap"], se_from=prev["se"],
                     supp_from=prev["suppressed"]).dropna(subset=["year_from"])
    pairs = pairs.assign(span="previous_year")
    rows.append(pairs)
    first = g.groupby(keys, sort=False).head(1).set_index(keys)
    last = g.groupby(keys, sort=False).tail(1)
    span = last.join(first[["year", "gap", "se", "suppressed"]].rename(
        columns={"year": "year_from", "gap": "gap_from", "se": "se_from", "suppressed": "supp_from"}), on=keys)
    span = span[span["year"] - span["year_from"] >= 2].assign(span="first_to_last")
    rows.append(span)
    t = pd.concat(rows, ignore_index=True)
    if t.empty:
        return pd.DataFrame(columns=COLUMNS)
    # scipy.special, as in .stats: the numbers of scipy.stats.norm (ppf is ndtri, sf is ndtr of -x),
    # imported here, not where only results are read (the batch runner)
    from scipy import special

    z = special.ndtri(0.5 + level / 2)
    gap_to, gap_from = t["gap"].astype("float64"), t["gap_from"].astype("float64")
    se = np.sqrt(t["se"].astype("float64") ** 2 + t["se_from"].astype("float64") ** 2)
    change = gap_to - gap_from
    withheld = t["suppressed"].astype(bool) | t["supp_from"].astype(bool)
    out = pd.DataFrame({
        "school_id": t["school_id"], "key_stage": t["key_stage"], "measure": t["measure"],
        "comparison": t["comparison"], "subgroup": t["subgroup"].replace("", None), "span": t["span"],
        "year_from": t["year_from"].astype("int64"), "year_to": t["year"].astype("int64"),
        "gap_from": gap_from, "gap_to": gap_to, "change": change,
        "ci_low": change - z * se, "ci_high": change + z * se,
        "p_value": 2 * special.ndtr(-np.abs(change / se)),
    })
    for c in ("gap_from", "gap_to", "change", "ci_low", "ci_high", "p_value"):
        out.loc[withheld, c] = np.nan
    # families: one school and key stage's whole-cohort changes of one span; subgroup
    # changes (exploratory, many more of them) form families of their own
    family = (out["school_id"] + "|" + out["key_stage"] + "|" + out["span"] + "|"
              + out["subgroup"].isna().map({True: "whole", False: "subgroups"}))
    out["q_value"] = bh_qvalues(out["p_value"].to_numpy(), family.to_numpy())
    clear = out["q_value"] < fdr
    out["direction"] = np.where(clear & (out["ci_high"] < 0), "closing",
                                np.where(clear & (out["ci_low"] > 0), "widening", "no clear change"))
    out.loc[withheld | out["p_value"].isna(), "direction"] = None
    return out[COLUMNS].sort_values(["school_id", "key_stage", "measure", "comparison", "subgroup", "span",
                                     "year_to"], na_position="first", kind="stable").reset_index(drop=True)


#: The trend columns of the results model (see :func:`with_verdicts`).
VERDICT_COLUMNS = ["trend", "trend_from", "trend_change", "trend_ci_low", "trend_ci_high", "trend_q_value"]


def with_verdicts(gaps: pd.DataFrame, trends: pd.DataFrame) -> pd.DataFrame:
    """Each gap row with the one trend verdict every page gives for it.

    The verdict for a gap in year Y is the change over the longest view ending
    in Y that :func:`gap_trends` tests: first year to last where the series has
    one (three or more years) and neither end is withheld, otherwise the
    previous year to Y. ``trend`` is
    ``closing``, ``widening``, ``no clear change``, or None where there is no
    earlier year or either year is withheld.

    Parameters
    ----------
    gaps : DataFrame
        A gap table.
    trends : DataFrame
        :func:`gap_trends` of the same gaps.

    Returns
    -------
    DataFrame
        ``gaps`` with :data:`VERDICT_COLUMNS` added (same rows, same order).
    """
    keys = ["school_id", "key_stage", "measure", "comparison", "subgroup"]
    # the longest view with a verdict; a span with a withheld year gives way to a shorter one
    rank = 2 * trends["direction"].notna().astype(int) + (trends["span"] == "first_to_last").astype(int)
    t = trends.assign(subgroup=trends["subgroup"].fillna(""), _rank=rank)
    t = t.sort_values("_rank", ascending=False, kind="stable").drop_duplicates(keys + ["year_to"])
    t = t.rename(columns={"year_to": "year", "direction": "trend", "year_from": "trend_from",
                          "change": "trend_change", "ci_low": "trend_ci_low", "ci_high": "trend_ci_high",
                          "q_value": "trend_q_value"})
    t = t[keys + ["year"] + VERDICT_COLUMNS]
    left = gaps.drop(columns=[c for c in VERDICT_COLUMNS if c in gaps.columns])
    left = left.assign(_sub=left["subgroup"].fillna("").astype(str), _year=left["year"].astype("int64"),
                       _row=np.arange(len(left)))
    t = t.assign(_year=t["year"].astype("int64"), _sub=t["subgroup"].astype(str)).drop(columns=["year", "subgroup"])
    merged = left.merge(t.astype({k: str for k in ("school_id", "key_stage", "measure", "comparison")}),
                        on=["school_id", "key_stage", "measure", "comparison", "_sub", "_year"], how="left")
    merged = merged.sort_values("_row").drop(columns=["_sub", "_year", "_row"]).set_index(gaps.index)
    merged["trend"] = merged["trend"].astype(object).where(merged["trend"].notna(), None)
    merged["trend_from"] = merged["trend_from"].astype("Int64")
    for c in ("trend_change", "trend_ci_low", "trend_ci_high", "trend_q_value"):
        merged[c] = merged[c].astype("float64")
    return merged
