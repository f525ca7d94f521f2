"""``cohort_profile``: who the disadvantaged pupils are, beside their peers."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.measures import prior_band
from ..domain.suppression import (
    DEFAULT_THRESHOLD,
    PROTECTS_ANOTHER_GROUP,
    TOO_FEW_DISADVANTAGED,
    TOO_FEW_OTHERS,
    protect,
)

COLUMNS = ["school_id", "key_stage", "year", "characteristic", "value", "group", "n", "pct", "suppressed",
           "withheld_reason"]
ATTENDANCE_BANDS = (("95% or more", 95, np.inf), ("90% to 95%", 90, 95),
                    ("50% to 90% (persistently absent)", 50, 90), ("below 50% (severely absent)", -np.inf, 50))
SEN_NAMES = {"N": "no SEN", "K": "SEN support", "E": "EHC plan"}


def _characteristics(p: pd.DataFrame) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    if "sex" in p:
        out["sex"] = p["sex"].map({"F": "female", "M": "male"})
    if "sen" in p:
        out["sen"] = p["sen"].map(SEN_NAMES)
    for flag, yes, no in (("eal", "EAL", "English first language"), ("fsm", "FSM now", "not FSM now")):
        if flag in p:
            out[flag] = p[flag].map({True: yes, False: no})
    if "prior_attainment" in p and p["prior_attainment"].notna().any():
        out["prior_band"] = prior_band(p["prior_attainment"])
    if "attendance_pct" in p and p["attendance_pct"].notna().any():
        a = p["attendance_pct"].astype("float64")
        band = pd.Series(pd.NA, index=p.index, dtype="string")
        for name, lo, hi in ATTENDANCE_BANDS:
            band[(a >= lo) & (a < hi)] = name
        out["attendance"] = band
    if "ethnicity" in p:
        out["ethnicity"] = p["ethnicity"]
    overlaps = {}
    # yes, no or unknown: a pupil with either part unknown (no KS2 results) is unknown, never "no"
    sen_any = p["sen"].isin(["K", "E"]).astype("boolean").mask(p["sen"].isna()) if "sen" in p else None
    pa = p["persistent_absence"].astype("boolean") if "persistent_absence" in p else None
    low = ((p["prior_attainment"] < 100).astype("boolean").mask(p["prior_attainment"].isna())
           if "prior_attainment" in p else None)

    def both(a, b):
        return (a & b).mask(a.isna() | b.isna())

    if sen_any is not None and pa is not None:
        overlaps["SEN and persistently absent"] = both(sen_any, pa)
    if sen_any is not None and low is not None and p["prior_attainment"].notna().any():
        overlaps["SEN and low prior attainment"] = both(sen_any, low)
    if low is not None and pa is not None and p["prior_attainment"].notna().any():
        overlaps["low prior attainment and persistently absent"] = both(low, pa)
    if overlaps:
        # one pupil may have several overlaps: each is a yes/no of its own
        for name, flag in overlaps.items():
            flag = flag.astype(object).mask(flag.isna())
            out[f"overlap: {name}"] = flag.map({True: "yes", False: "no"})  # NA: unknown
    return out


def cohort_profile(pupils: pd.DataFrame, *, school_id=None, key_stage: str | None = None,
                   year: int | None = None, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Counts and shares of disadvantaged and other pupils by characteristic.

    Parameters
    ----------
    pupils : DataFrame
        From :func:`gaptools.load_pupils`.
    school_id, key_stage, year : optional
        Restrict to one school, key stage or year.
    threshold : int, default 6
        A value (both groups' counts) is withheld where either group has 1 to
        ``threshold - 1`` pupils, and further values, smallest first, until no
        withheld count follows from the shown ones and the totals
        (:func:`gaptools.domain.suppression.protect`). Where a group's total
        is withheld, so is everything about that group.

    Returns
    -------
    DataFrame
        Tidy rows: ``school_id, key_stage, year, characteristic, value, group
        ('disadvantaged'/'other'), n, pct`` (share of that group, 0-1) and
        ``suppressed`` and ``withheld_reason`` (as in the gap table:
        ``too_few_disadvantaged``, ``too_few_others``, ``protects_another_group``;
        None where shown). ``characteristic == 'all'`` gives group sizes, with
        ``pct`` the share of the cohort. Missing values count as ``unknown``.
    """
    p = pupils
    if school_id is not None:
        p = p[p["school_id"].isin([school_id] if isinstance(school_id, str) else list(school_id))]
    if key_stage is not None:
        p = p[p["key_stage"] == key_stage]
    if year is not None:
        p = p[p["year"] == year]
    if p.empty:
        return pd.DataFrame(columns=COLUMNS)
    keys = ["school_id", "key_stage", "year"]
    base = p[keys].astype({"school_id": str, "key_stage": str, "year": "int64"}).assign(
        group=np.where(p["disadvantaged"].astype(bool), "disadvantaged", "other"))
    grouped = base.groupby(keys + ["group"])
    totals = grouped.size()
    all_rows = totals.reset_index(name="n")
    cohort_n = all_rows.groupby(keys)["n"].transform("sum")
    all_rows = all_rows.assign(characteristic="all", value="all pupils", pct=all_rows["n"] / cohort_n)
    # Each characteristic is counted with one bincount over (cohort and group) x value, in
    # the order a sorted group-by gives: a frame per characteristic costs far more here.
    cell = grouped.ngroup().to_numpy()  # the pupil's row of all_rows
    total = totals.to_numpy()
    cohort = all_rows.groupby(keys, sort=False).ngroup().to_numpy()
    row_parts, count_parts, characteristic, value = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)], [], []
    for name, v in _characteristics(p).items():
        code, uniques = pd.factorize(v.astype(object).where(v.notna(), "unknown"), sort=True)
        k = len(uniques)
        n = np.bincount(cell * k + code, minlength=len(total) * k).reshape(len(total), k)
        # a value nobody in this cohort has (in either group) says nothing: drop it
        both = np.zeros((cohort.max() + 1, k), dtype=n.dtype)
        np.add.at(both, cohort, n)
        keep = (both[cohort] > 0).ravel()
        row_parts.append(np.repeat(np.arange(len(total)), k)[keep])
        count_parts.append(n.ravel()[keep])
        value.extend(np.asarray(uniques, dtype=object)[np.tile(np.arange(k), len(total))[keep]])
        characteristic.extend([name] * int(keep.sum()))
    row, count = np.concatenate(row_parts), np.concatenate(count_parts)
    counted = all_rows.iloc[row][keys + ["group"]].reset_index(drop=True).assign(
        characteristic=pd.array(characteristic, dtype=all_rows["characteristic"].dtype),
        value=pd.array(value, dtype=all_rows["value"].dtype), n=count, pct=count / total[row])
    out = pd.concat([all_rows, counted], ignore_index=True)
    out = _suppress_counts(out, threshold)
    return out[COLUMNS].reset_index(drop=True)


def _suppress_counts(t: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Withhold counts (and shares) through the one disclosure-control mechanism.

    Each value of a characteristic is a row showing two cells (its
    disadvantaged and its other pupils). Partitions: the cohort (public: its
    size is on every page) into the two groups; each group into the values of
    every characteristic.
    """
    t = t.reset_index(drop=True)
    def ids(*cols):
        return t.groupby(list(cols), sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64)

    cohort = ids("school_id", "key_stage", "year")
    row = ids("school_id", "key_stage", "year", "characteristic", "value")
    is_all = (t["characteristic"] == "all").to_numpy()
    n = t["n"].to_numpy(dtype=float)
    # each group's total: the cell of its "all" row
    group_key = ids("school_id", "key_stage", "year", "group")
    total_cell = np.zeros(int(group_key.max()) + 1, dtype=np.int64)
    total_cell[group_key[is_all]] = np.flatnonzero(is_all)
    split = ids("school_id", "key_stage", "year", "characteristic", "group")
    first = np.unique(split, return_index=True)[1]
    n_cohorts = int(cohort.max()) + 1
    # partitions: one per cohort (whole: a public cell appended below), then one per
    # characteristic and group (whole: the group's total)
    part = np.where(is_all, cohort, n_cohorts + split)
    whole = np.concatenate([len(t) + np.arange(n_cohorts), total_cell[group_key[first]]])
    cohort_n = np.bincount(cohort, weights=np.where(is_all, n, 0.0), minlength=n_cohorts)
    cells_n = np.concatenate([n, cohort_n])
    cells_part = np.concatenate([part, np.full(n_cohorts, -1)])
    public = np.r_[np.zeros(len(t), dtype=bool), np.ones(n_cohorts, dtype=bool)]
    value_rank = t["value"].astype(str).rank(method="dense").to_numpy(dtype=np.int64)
    order = np.concatenate([value_rank, np.zeros(n_cohorts, dtype=np.int64)])
    small = (n > 0) & (n < threshold)
    primary = np.bincount(row, weights=small, minlength=int(row.max()) + 1) > 0
    hidden = protect(cells_n, cells_part, whole, row, np.arange(len(t)), primary, threshold,
                     public=public, order=order)
    t["suppressed"] = hidden[row]
    # why (the words of the gap table): a row with a small disadvantaged (or other) group is withheld for
    # that; any other withheld row only protects a smaller group elsewhere (e.g. SEN support, for an EHC
    # group of 1)
    dis = (t["group"] == "disadvantaged").to_numpy()
    m = int(row.max()) + 1
    small_dis = np.bincount(row, weights=small & dis, minlength=m) > 0
    small_other = np.bincount(row, weights=small & ~dis, minlength=m) > 0
    # numpy takes None as an object scalar (a missing reason); its stubs type only numbers and text
    t["withheld_reason"] = np.where(~t["suppressed"], None, np.where(  # type: ignore[call-overload]
        small_dis[row], TOO_FEW_DISADVANTAGED, np.where(small_other[row], TOO_FEW_OTHERS, PROTECTS_ANOTHER_GROUP)))
    t["n"] = t["n"].astype("Int64").mask(t["suppressed"])
    t["pct"] = t["pct"].mask(t["suppressed"])
    return t
