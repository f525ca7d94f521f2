"""``cohort_profile``: who the disadvantaged pupils are, beside their peers."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.measures import prior_band
from ..domain.registry import absence_rates, attendance_measures, attendance_score
from ..domain.suppression import (
    DEFAULT_THRESHOLD,
    PROTECTS_ANOTHER_GROUP,
    TOO_FEW_DISADVANTAGED,
    TOO_FEW_OTHERS,
    group_sizes_withheld,
    protect,
)

COLUMNS = ["school_id", "key_stage", "year", "characteristic", "value", "group", "n", "pct", "suppressed",
           "withheld_reason"]
ATTENDANCE_BANDS = (("95% or more", 95, np.inf), ("90% to 95%", 90, 95),
                    ("50% to 90% (persistently absent)", 50, 90), ("below 50% (severely absent)", -np.inf, 50))
SEN_NAMES = {"N": "no SEN", "K": "SEN support", "E": "EHC plan"}
SEVERE, PERSISTENT = ATTENDANCE_BANDS[3][0], ATTENDANCE_BANDS[2][0]
#: The registry's attendance measures: the pupil's attendance (%) and the absence rates, widest first.
ATTENDANCE, (PERSISTENT_ABSENCE, SEVERE_ABSENCE) = attendance_score(), absence_rates()
SEN_AND_PA, LOW_AND_PA = "overlap: SEN and persistently absent", "overlap: low prior attainment and persistently absent"
#: A gap-table subgroup as the profile names it: its count, for a measure every pupil of the
#: group has, is the profile's count of that value.
LEVELS = {**{f"sex={k}": ("sex", v) for k, v in (("F", "female"), ("M", "male"))},
          **{f"sen={k}": ("sen", v) for k, v in SEN_NAMES.items()},
          **{f"prior_band={v}": ("prior_band", v) for v in ("low", "middle", "high")}}


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
    if ATTENDANCE in p and p[ATTENDANCE].notna().any():
        a = p[ATTENDANCE].astype("float64")
        band = pd.Series(pd.NA, index=p.index, dtype="string")
        for name, lo, hi in ATTENDANCE_BANDS:
            band[(a >= lo) & (a < hi)] = name
        out["attendance"] = band
    if "ethnicity" in p:
        out["ethnicity"] = p["ethnicity"]
    overlaps = {}
    # yes, no or unknown: a pupil with either part unknown (no KS2 results) is unknown, never "no"
    sen_any = p["sen"].isin(["K", "E"]).astype("boolean").mask(p["sen"].isna()) if "sen" in p else None
    pa = p[PERSISTENT_ABSENCE].astype("boolean") if PERSISTENT_ABSENCE in p else None
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
                   year: int | None = None, threshold: int = DEFAULT_THRESHOLD, gaps=True) -> pd.DataFrame:
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
    gaps : bool or DataFrame, default True
        The gap table shown beside the profile (every report shows one):
        ``True`` works it out (:func:`gaptools.gap_table` of the same pupils
        and threshold, as a report does); a DataFrame is that table;
        ``False``: none (the pupils on roll now, whose gaps no page shows).
        A count its shown figures give exactly is shown, never withheld for
        show (the pupils below 50% attendance, from the severe-absence rate
        times its count; those without KS2 results, from the value-added
        count; the SEN pupils who are persistently absent, from the SEN
        groups' rates; a subgroup's count of a measure every pupil has), and
        the rest is withheld as above around it.

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
    chars = _characteristics(p)
    for name, v in chars.items():
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
    if gaps is True:
        from .gaps import gap_table

        gaps = gap_table(pupils, school_id=school_id, key_stage=key_stage, year=year, threshold=threshold)
    known, rated = (_given_by(out, gaps, threshold) if isinstance(gaps, pd.DataFrame)
                    else (np.zeros(len(out), dtype=bool), None))
    suppressed, reason = _suppress_counts(out, threshold, known, rated)
    out["n"] = out["n"].astype("Int64").mask(suppressed)
    out["pct"] = out["pct"].mask(suppressed)
    out["suppressed"] = suppressed
    out["withheld_reason"] = reason
    return out[COLUMNS].reset_index(drop=True)


def _given_by(t: pd.DataFrame, gaps: pd.DataFrame, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells of the profile (rows of ``t``) whose counts the gap table's shown rows give exactly,
    and those of groups whose persistent-absence rate it shows.

    A group's rate of a yes/no measure times its count is how many have it; a count of pupils
    with a value is the group's size less those without. Only where the group's size is shown
    (a withheld size withholds everything about the group), and only where the figure the gap
    table gives is the profile's own count (a school's own absence flags may not match its
    attendance).
    """
    keys = ["school_id", "key_stage", "year"]
    true_n = {(str(a), str(b), int(c), ch, v, g): int(n) for a, b, c, ch, v, g, n in
              t[keys + ["characteristic", "value", "group"] + ["n"]].itertuples(index=False)}
    given: dict[tuple, int] = {}
    rated: set[tuple] = set()  # (unit, group) whose persistent-absence rate is shown
    shown = gaps[~gaps["suppressed"].astype(bool)]
    exists = {(str(a), str(b), int(c), m, s) for a, b, c, m, s in
              gaps[keys + ["measure", "subgroup"]].itertuples(index=False)}
    figures: dict[tuple, dict] = {}  # (unit, group) -> (measure, subgroup) -> (n, mean)
    for r in shown[keys + ["measure", "subgroup", "comparison", "n_disadvantaged", "mean_disadvantaged",
                           "n_reference", "mean_reference"]].itertuples(index=False):
        unit = (str(r.school_id), str(r.key_stage), int(r.year))
        sub = r.subgroup if isinstance(r.subgroup, str) else None
        figures.setdefault((unit, "disadvantaged"), {})[r.measure, sub] = (r.n_disadvantaged, r.mean_disadvantaged)
        if r.comparison == "in_school":
            figures.setdefault((unit, "other"), {})[r.measure, sub] = (r.n_reference, r.mean_reference)
    for (unit, group), fig in figures.items():
        total = true_n.get((*unit, "all", "all pupils", group))
        n_dis = true_n.get((*unit, "all", "all pupils", "disadvantaged"), 0)
        n_all = n_dis + true_n.get((*unit, "all", "all pupils", "other"), 0)
        if total is None or group_sizes_withheld(n_dis, n_all, threshold):
            continue

        # how many have a yes/no measure: 0 where no pupil has the subgroup (fig, unit bound: defined in a loop)
        def count(measure, sub=None, *, fig=fig, unit=unit):
            if (measure, sub) in fig:
                n, mean = fig[measure, sub]
                return int(round(float(n) * float(mean)))
            return None if (*unit, measure, sub) in exists else 0

        def put(characteristic, value, n, *, unit=unit, group=group):
            if n is not None:
                given[(*unit, characteristic, value, group)] = n
        complete = {m for (m, sub), (n, _) in fig.items() if sub is None and int(n) == total}
        if complete:
            put("all", "all pupils", total)
        if (PERSISTENT_ABSENCE, None) in fig or any(
                sub == f"{PERSISTENT_ABSENCE}=True" and m in complete for m, sub in fig):
            rated.add((*unit, group))  # the persistently absent, from the rate or the subgroup's count
        for (m, sub), (n, _) in fig.items():
            if sub in LEVELS and m in complete:
                put(*LEVELS[sub], int(n))
            if sub is None and m.startswith("va_") and m[3:] in complete:  # all but those without KS2
                put("prior_band", "unknown", total - int(n))
            if sub is None and m in attendance_measures():
                put("attendance", "unknown", total - int(n))
        severe, persistent = count(SEVERE_ABSENCE), count(PERSISTENT_ABSENCE)
        put("attendance", SEVERE, severe if (SEVERE_ABSENCE, None) in fig else None)
        if (SEVERE_ABSENCE, None) in fig and (PERSISTENT_ABSENCE, None) in fig:
            put("attendance", PERSISTENT, persistent - severe)
        for name, subs, rest, char in ((SEN_AND_PA, ("sen=K", "sen=E"), ("sen=N",), "sen"),
                                       (LOW_AND_PA, ("prior_band=low",), ("prior_band=middle", "prior_band=high"),
                                        "prior_band")):
            if (PERSISTENT_ABSENCE, None) not in fig:
                continue
            parts = [count(PERSISTENT_ABSENCE, sub) for sub in subs]
            others = [count(PERSISTENT_ABSENCE, sub) for sub in rest]
            if None not in parts:
                yes = sum(parts)
            elif None not in others and not true_n.get((*unit, char, "unknown", group)):
                yes = persistent - sum(others)  # all the persistently absent but the other groups'
            else:
                continue
            put(name, "yes", yes)
            put(name, "no", total - yes)
    rows = zip(t["school_id"].astype(str), t["key_stage"].astype(str), t["year"].astype("int64"),
               t["characteristic"], t["value"], t["group"], t["n"])
    known, by_rate = [], []
    for a, b, c, ch, v, g, n in rows:
        known.append(given.get((a, b, int(c), ch, v, g)) == int(n))
        by_rate.append((a, b, int(c), g) in rated)
    return np.array(known, dtype=bool), np.array(by_rate, dtype=bool)


def _suppress_counts(t: pd.DataFrame, threshold: int, known: np.ndarray,
                     rated=None) -> tuple[np.ndarray, np.ndarray]:
    """Which cells (rows of ``t``) to withhold, and why, through the one disclosure-control mechanism.

    Each value of a characteristic is a row showing two cells (its
    disadvantaged and its other pupils). Partitions: the cohort (public: its
    size is on every page) into the two groups; each group into the values of
    every characteristic. ``known`` cells are public (given by figures shown
    elsewhere): never withheld, and no reason to withhold their row. In a
    group whose persistent-absence rate is shown (``rated``: its attendance
    cells), the persistently absent and the others are two public wholes
    of two bands each (the rate times the count, and the rest).
    """
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
    public = np.r_[known, np.ones(n_cohorts, dtype=bool)]
    value_rank = t["value"].astype(str).rank(method="dense").to_numpy(dtype=np.int64)
    order = np.concatenate([value_rank, np.zeros(n_cohorts, dtype=np.int64)])
    small = (n > 0) & (n < threshold) & ~known
    primary = np.bincount(row, weights=small, minlength=int(row.max()) + 1) > 0
    if rated is not None and rated.any():
        # nested partitions: the group's attendance into the unknown, the persistently absent
        # and the rest (public sums), each of those two into its two bands
        absent = t["value"].isin([PERSISTENT, SEVERE]).to_numpy()
        bands = rated & (t["characteristic"] == "attendance").to_numpy() & (t["value"] != "unknown").to_numpy()
        splits, at = np.unique(split[bands], return_inverse=True)
        k = len(splits)
        sub = 2 * at + absent[bands]  # 2j: present 90% or more, 2j + 1: persistently absent
        first_new, first_part = len(cells_n), len(whole)
        sums = np.bincount(sub, weights=n[bands], minlength=2 * k)
        cells_part = cells_part.copy()
        cells_part[np.flatnonzero(bands)] = first_part + sub
        cells_n = np.concatenate([cells_n, sums])
        cells_part = np.concatenate([cells_part, n_cohorts + np.repeat(splits, 2)])
        whole = np.concatenate([whole, first_new + np.arange(2 * k)])
        public = np.r_[public, np.ones(2 * k, dtype=bool)]
        order = np.r_[order, np.zeros(2 * k, dtype=np.int64)]
    hidden = protect(cells_n, cells_part, whole, row, np.arange(len(t)), primary, threshold,
                     public=public, order=order)
    suppressed = hidden[row] & ~known
    # why (the words of the gap table): a row with a small disadvantaged (or other) group is withheld for
    # that; any other withheld row only protects a smaller group elsewhere (e.g. SEN support, for an EHC
    # group of 1)
    dis = (t["group"] == "disadvantaged").to_numpy()
    m = int(row.max()) + 1
    small_dis = np.bincount(row, weights=small & dis, minlength=m) > 0
    small_other = np.bincount(row, weights=small & ~dis, minlength=m) > 0
    # numpy takes None as an object scalar (a missing reason); its stubs type only numbers and text
    reason = np.where(~suppressed, None, np.where(  # type: ignore[call-overload]
        small_dis[row], TOO_FEW_DISADVANTAGED, np.where(small_other[row], TOO_FEW_OTHERS, PROTECTS_ANOTHER_GROUP)))
    return suppressed, reason
