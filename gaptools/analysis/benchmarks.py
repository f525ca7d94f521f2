"""Published benchmarks: national, local authority, similar schools, percentiles, progress."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..io.published_tables import HEADLINE, PROGRESS


def withheld_counts(table: pd.DataFrame) -> pd.DataFrame:
    """How many cells are withheld, by year and reason."""
    w = table[table["status"] != "ok"]
    return w.groupby(["year", "status"]).size().rename("cells").reset_index()


def wide_table(table, measure, levels=("school", "special school")):
    t = table[(table["measure"] == measure) & table["level"].isin(levels)]
    return t.pivot_table(index=["urn", "year"], columns="group", values="value", aggfunc="first")


def benchmarks(table: pd.DataFrame, urns, *, measure: str | None = None, k: int = 10) -> pd.DataFrame:
    """Each chosen school's disadvantaged pupils against national other pupils, the local
    authority, similar schools and all schools, for every year in the table.

    Parameters
    ----------
    table : DataFrame
        From :func:`read_performance_tables`.
    urns : list of str
    measure : str, optional
        Default the headline: RWM expected (KS2) or Attainment 8 (KS4).
    k : int
        How many similar schools (nearest by % disadvantaged and prior attainment).

    Returns
    -------
    DataFrame
        One row per school and year: ``disadvantaged``, ``other`` (in school),
        ``national_other``, ``gap_national`` (national other minus disadvantaged),
        ``la_disadvantaged``, ``la_other``, ``similar_disadvantaged`` (median of
        the similar schools), ``percentile`` (of the school's disadvantaged
        figure among all schools with one), ``status`` (why a figure is missing),
        and the change from the previous year in the file (``change_disadvantaged``,
        ``change_gap_national``).
    """
    urns = [str(u) for u in urns]
    ks = table["key_stage"].iloc[0]
    measure = measure or HEADLINE.get(ks, "PTRWM_EXP")
    rows = []
    for year, t in table.groupby("year"):
        m = t[t["measure"] == measure]
        # every LA file repeats the national row: one value per group
        nat = m[m["level"] == "national"].groupby("group")["value"].first()
        schools = wide_table(t, measure)
        schools = schools.xs(year, level="year") if len(schools) else schools
        status = m[m["level"].isin(["school", "special school"]) & (m["group"] == "disadvantaged")] \
            .set_index("urn")["status"]
        features = similarity_features(t)
        for urn in urns:
            if urn not in set(t["urn"].dropna()):
                continue
            la = t[t["urn"] == urn]["la"].iloc[0]
            la_row = m[(m["level"] == "local authority") & (m["la"] == la)].groupby("group")["value"].first()
            dis = schools.loc[urn, "disadvantaged"] if urn in schools.index and "disadvantaged" in schools else np.nan
            oth = schools.loc[urn, "other"] if urn in schools.index and "other" in schools else np.nan
            valid = schools["disadvantaged"].dropna() if "disadvantaged" in schools else pd.Series(dtype=float)
            pct = float(((valid < dis).sum() + 0.5 * (valid == dis).sum()) / len(valid) * 100) \
                if pd.notna(dis) and len(valid) else np.nan
            similar = similar_schools(features, urn, k=k)
            sim_values = valid.reindex(similar).dropna()
            rows.append({
                "urn": urn, "school_name": t[t["urn"] == urn]["school_name"].iloc[0], "year": year,
                "measure": measure, "disadvantaged": dis, "other": oth,
                "national_other": nat.get("other", np.nan), "gap_national": nat.get("other", np.nan) - dis,
                "la_disadvantaged": la_row.get("disadvantaged", np.nan), "la_other": la_row.get("other", np.nan),
                "similar_disadvantaged": float(sim_values.median()) if len(sim_values) else np.nan,
                "n_similar": len(sim_values), "percentile": pct,
                "status": status.get(urn, "not in file"),
            })
    out = pd.DataFrame(rows)
    if len(out):
        out = out.sort_values(["urn", "year"])
        out["change_disadvantaged"] = out.groupby("urn")["disadvantaged"].diff()
        out["change_gap_national"] = out.groupby("urn")["gap_national"].diff()
    return out.reset_index(drop=True)


def similarity_features(t: pd.DataFrame) -> pd.DataFrame:
    """% disadvantaged and prior attainment for every school (KS2: KS1 average; KS4: KS2 average)."""
    share = t[(t["measure"] == "share_disadvantaged") & t["level"].isin(["school", "special school"])] \
        .set_index("urn")["value"]
    prior_measure = "TKS1AVERAGE" if t["key_stage"].iloc[0] == "KS2" else "KS2APS"
    prior = t[(t["measure"] == prior_measure) & (t["group"] == "all") & t["level"].isin(["school", "special school"])] \
        .set_index("urn")["value"] if prior_measure in set(t["measure"]) else pd.Series(dtype=float)
    return pd.DataFrame({"share": share, "prior": prior}).dropna(subset=["share"])


def similar_schools(features: pd.DataFrame, urn: str, *, k: int = 10) -> list[str]:
    """The ``k`` schools nearest to ``urn`` in standardised % disadvantaged and prior attainment."""
    if urn not in features.index:
        return []
    f = features.dropna(axis=1, how="all")
    f = f.dropna()
    if urn not in f.index or len(f) < 2:
        return []
    z = (f - f.mean()) / f.std(ddof=0).replace(0, 1)
    d = np.sqrt(((z - z.loc[urn]) ** 2).sum(axis=1)).drop(urn)
    return list(d.nsmallest(k).index)


def progress(table: pd.DataFrame, urns) -> pd.DataFrame:
    """Published progress scores of disadvantaged and other pupils with their intervals."""
    ks = table["key_stage"].iloc[0]
    t = table[table["measure"].isin(PROGRESS.get(ks, ())) & table["urn"].isin([str(u) for u in urns])
              & table["group"].isin(["disadvantaged", "other"])]
    return t[["urn", "school_name", "year", "measure", "group", "value", "lower", "upper", "status"]] \
        .sort_values(["urn", "measure", "group", "year"]).reset_index(drop=True)


def gap_by_school(table: pd.DataFrame, measure: str | None = None) -> pd.DataFrame:
    """Every school's published gap (other minus disadvantaged) with its number of disadvantaged pupils."""
    ks = table["key_stage"].iloc[0]
    measure = measure or HEADLINE.get(ks, "PTRWM_EXP")
    wide = wide_table(table, measure).reset_index()
    counts = table[(table["measure"] == "pupils") & (table["group"] == "disadvantaged")] \
        .set_index(["urn", "year"])["value"]
    names = table.dropna(subset=["urn"]).groupby("urn")["school_name"].first()
    wide["n_disadvantaged"] = [counts.get((u, y), np.nan) for u, y in zip(wide["urn"], wide["year"])]
    wide["gap"] = wide.get("other") - wide.get("disadvantaged")
    wide["school_name"] = wide["urn"].map(names)
    return wide.dropna(subset=["gap", "n_disadvantaged"])


def national_figures(table: pd.DataFrame, measure: str | None = None) -> pd.DataFrame:
    """National disadvantaged and other figures by year (one value, however many files repeat it)."""
    ks = table["key_stage"].iloc[0]
    measure = measure or HEADLINE.get(ks, "PTRWM_EXP")
    t = table[(table["measure"] == measure) & (table["level"] == "national")]
    return t.groupby(["year", "group"])["value"].first().unstack("group").reset_index()
