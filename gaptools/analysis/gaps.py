"""``gap_table``: every gap between disadvantaged pupils and a reference group, with its interval.

One tidy row per school, key stage, year, measure, comparison and subgroup
(data contract §3). ``gap`` is reference minus disadvantaged, sign-flipped for
measures where lower is better, so a positive gap always means disadvantaged
pupils are worse off. All schools are computed together: every count, mean
and SD in one pass (:mod:`gaptools.groupstats`), then vectorised interval
arithmetic over the rows.

The rows are grouped in :mod:`gaptools.analysis.gaprows` and withheld in
:mod:`gaptools.analysis.withholding`; the intervals, the false-discovery
control and the table's order are here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.measures import STANDARD_MEASURES, Measure, measures_for
from ..domain.reference import national_figures, p8_sd
from ..domain.registry import VALUE_ADDED_MEASURES, measure_splits, national_sd_measures, subjects
from ..domain.suppression import DEFAULT_THRESHOLD
from . import stats
from .gaprows import ATTENDANCE_MEASURES, group_rows, units_of
from .progress import VALUE_ADDED, value_added, without_prior_known
from .withholding import withhold

#: (the grouping of rows is in :mod:`.gaprows`, the withholding in :mod:`.withholding`)
__all__ = ["gap_table", "CONTRACT_COLUMNS", "DETAIL_COLUMNS", "SPLITS", "ATTENDANCE_MEASURES", "HEADLINE_MEASURES",
           "COMPARISONS", "NATIONAL_GROUPS"]

CONTRACT_COLUMNS = ["school_id", "key_stage", "year", "measure", "kind", "comparison", "subgroup",
                    "n_disadvantaged", "n_reference", "mean_disadvantaged", "mean_reference",
                    "gap", "ci_low", "ci_high", "significant", "suppressed"]
DETAIL_COLUMNS = ["label", "unit", "higher_is_better", "sd_disadvantaged", "sd_reference", "se",
                  "p_value", "q_value", "clear", "effect_size", "national_source", "withheld_reason"]
#: Splits shown as subgroups: characteristic -> function of the pupil table giving its values.
SPLITS = ("prior_band", "sex", "sen", *measure_splits())
#: Whole-cohort measures in the headline false-discovery family (with custom and
#: value-added measures); other GCSE subjects form a family of their own.
HEADLINE_MEASURES = subjects("KS4")
#: ``comparison`` values in report order; the national ones with the group of
#: the national figures (national.csv ``group``) they compare with.
COMPARISONS = ("in_school", "national_other", "national_all", "national_disadvantaged")
NATIONAL_GROUPS = {"national_other": "other", "national_all": "all", "national_disadvantaged": "disadvantaged"}


def _va_measures() -> dict[str, Measure]:
    return {f"va_{m}": VALUE_ADDED_MEASURES[f"va_{m}"] for m in VALUE_ADDED}  # the registry's


def _extra_measures(va: pd.DataFrame | None, keep: np.ndarray) -> dict[str, np.ndarray]:
    """Value-added columns as float arrays for the kept pupils."""
    if va is None:
        return {}
    return {c: va[c].to_numpy(dtype="float64", na_value=np.nan)[keep] for c in va.columns}


def _measures(frame: pd.DataFrame, extra: dict[str, np.ndarray], wanted) -> dict[str, Measure]:
    found: dict[str, Measure] = {}
    for ks in frame["key_stage"].dropna().unique():
        for m in measures_for(frame, ks):
            found.setdefault(m.name, m)
    for name, m in _va_measures().items():
        if name in extra and not np.isnan(extra[name]).all():
            found[name] = m
    if wanted is not None:
        found = {k: v for k, v in found.items() if k in set(wanted)}
    return found


def _national_lookup(unit_ks: np.ndarray, unit_year: np.ndarray, names: list[str]
                     ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each national comparator's figure (and its source) for every unit and measure, NaN where none.

    ``national_all`` is kept only where no national other pupils' figure exists
    for that key stage, year and measure: it stands in for the DfE's comparison
    where only the all-pupil figure is published (as for KS4 2024/25).
    """
    nat = national_figures()
    nat = nat[nat["value"].notna()]
    table = {(str(g), str(k), int(y), str(m)): (float(v), str(src)) for g, k, y, m, v, src in
             nat[["group", "key_stage", "year", "measure", "value", "source"]].itertuples(index=False)}
    pairs: dict[tuple[str, int], list[int]] = {}
    for i, (k, y) in enumerate(zip(unit_ks, unit_year)):
        pairs.setdefault((str(k), int(y)), []).append(i)
    out = {}
    for comparison, group in NATIONAL_GROUPS.items():
        value = np.full((len(unit_ks), len(names)), np.nan)
        source = np.full((len(unit_ks), len(names)), None, dtype=object)
        for (k, y), units in pairs.items():
            for j, m in enumerate(names):
                if (group, k, y, m) in table and not (group == "all" and ("other", k, y, m) in table):
                    value[units, j], source[units, j] = table[(group, k, y, m)]
        out[comparison] = value, source
    return out


def _in_school(score, n_ref, mean_ref, sd_ref, n_dis, mean_dis, sd_dis) -> dict[str, np.ndarray]:
    """Reference minus disadvantaged: Welch for scores, Newcombe for rates."""
    out = {k: np.full(len(score), np.nan) for k in ("diff", "se", "low", "high", "p", "effect")}
    s, r = score, ~score
    if s.any():
        ws = stats.welch(mean_ref[s], sd_ref[s], n_ref[s], mean_dis[s], sd_dis[s], n_dis[s])
        for k in ("diff", "se", "low", "high", "p"):
            out[k][s] = ws[k]
        out["effect"][s] = stats.hedges_g(mean_ref[s], sd_ref[s], n_ref[s], mean_dis[s], sd_dis[s], n_dis[s])
    if r.any():
        with np.errstate(invalid="ignore"):
            pr = stats.proportion_diff(np.round(mean_ref[r] * n_ref[r]), n_ref[r],
                                       np.round(mean_dis[r] * n_dis[r]), n_dis[r])
        for k in ("diff", "se", "low", "high", "p"):
            out[k][r] = pr[k]
    return out


def _against_national(score, reference, known_sd, n_dis, mean_dis, sd_dis) -> dict[str, np.ndarray]:
    """National other pupils' figure minus the school's disadvantaged pupils'.

    Progress 8 uses the DfE's national pupil-level SD (``known_sd``), as the
    performance tables do; other scores Student's t; rates a Wilson interval.
    """
    out = {k: np.full(len(score), np.nan) for k in ("diff", "se", "low", "high", "p")}
    z, s, r = score & ~np.isnan(known_sd), score & np.isnan(known_sd), ~score
    for rows, sd in ((z, known_sd), (s, None)):
        if rows.any():
            res = stats.one_sample(mean_dis[rows], sd_dis[rows], n_dis[rows], reference[rows],
                                   known_sd=None if sd is None else sd[rows])
            for k in out:
                out[k][rows] = res[k]
    if r.any():
        with np.errstate(invalid="ignore"):
            res = stats.proportion_vs_fixed(np.round(mean_dis[r] * n_dis[r]), n_dis[r], reference[r])
        for k in out:
            out[k][r] = res[k]
    return out


def _str_array(values) -> pd.api.extensions.ExtensionArray:
    return pd.array([None if v is None else str(v) for v in values], dtype="str")


def _ranks(keys: list) -> np.ndarray:
    """Position of each element when ``keys`` are sorted."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return rank


def gap_table(pupils: pd.DataFrame, *, threshold: int = DEFAULT_THRESHOLD, school_id=None,
              key_stage: str | None = None, year: int | None = None, measures=None,
              subgroups=SPLITS, national: bool = True, progress: bool = True,
              fdr: float = 0.05, detail: bool = False) -> pd.DataFrame:
    """Gaps between disadvantaged pupils and others, with 95% intervals.

    Parameters
    ----------
    pupils : DataFrame
        From :func:`gaptools.load_pupils`.
    threshold : int, default 6
        Groups smaller than this are withheld, with further rows withheld
        until none can be worked out from the rest
        (:func:`gaptools.domain.suppression.protect`).
    school_id, key_stage, year : optional
        Restrict the rows returned (``school_id`` may be a list). Value added is
        still measured against the whole of ``pupils``.
    measures : list of str, optional
        Measures to include (default: every measure the data has).
    subgroups : sequence of str
        Splits to repeat the in-school gaps within: ``prior_band``, ``sex``, ``sen``,
        ``persistent_absence`` (not for the attendance measures themselves).
    national : bool, default True
        Add whole-cohort rows against each national figure on file for that key
        stage, year and measure (:func:`gaptools.domain.reference.national_figures`):
        ``national_other`` (national other pupils, the DfE and Ofsted
        comparison), ``national_disadvantaged`` (disadvantaged pupils
        nationally) and ``national_all`` (all pupils nationally, only where no
        other pupils' figure is published). ``mean_reference`` is the national
        figure and ``n_reference`` is null.
    progress : bool, default True
        Add trust-relative value-added measures (``va_grade_english`` ...).
    fdr : float, default 0.05
        False discovery rate for ``clear``: Benjamini-Hochberg within each
        school, key stage and year (one report), in four families: headline
        measures (every non-subject measure plus English and maths, in school
        and against national other or all pupils), other GCSE subjects,
        subgroup rows, and the comparisons with national disadvantaged pupils.
    detail : bool, default False
        Add the working columns: label, unit, SDs, se, p_value, q_value,
        clear (BH-significant), effect_size (Hedges' g), national_source, and
        withheld_reason (None when shown; otherwise one of
        :data:`gaptools.domain.suppression.WITHHELD_REASONS`).

    Returns
    -------
    DataFrame
        The data-contract §3 gap fields plus ``school_id`` (and the detail
        columns when asked). ``significant`` means the 95% interval excludes 0;
        ``clear`` also survives the false-discovery-rate control.
    """
    va = value_added(pupils) if progress and "prior_attainment" in pupils.columns else None
    keep = np.ones(len(pupils), dtype=bool)
    if school_id is not None:
        ids = [school_id] if isinstance(school_id, str) else list(school_id)
        keep &= pupils["school_id"].isin(ids).to_numpy(dtype=bool, na_value=False)
    if key_stage is not None:
        keep &= (pupils["key_stage"] == key_stage).to_numpy(dtype=bool, na_value=False)
    if year is not None:
        keep &= (pupils["year"] == year).to_numpy(dtype=bool, na_value=False)
    frame = pupils if keep.all() else pupils[keep]
    extra = _extra_measures(va, keep)
    registry = _measures(frame, extra, measures)
    names = list(registry)
    empty = pd.DataFrame(columns=CONTRACT_COLUMNS + (DETAIL_COLUMNS if detail else []))
    if frame.empty or not names:
        return empty
    n_measures = len(names)
    # yes/no measures become 0/1, missing stays NaN; typed whole numbers are summed exactly
    values = [extra[name] if name in extra else frame[name].to_numpy(dtype="float64", na_value=np.nan)
              for name in names]
    whole = [name not in extra and (pd.api.types.is_integer_dtype(frame[name].dtype)
                                    or pd.api.types.is_bool_dtype(frame[name].dtype)) for name in names]

    unit, unit_school, unit_ks, unit_year = units_of(frame)
    n_units = len(unit_school)
    by_unit = unit * 2 + frame["disadvantaged"].to_numpy(dtype=bool)

    r, labels = group_rows(frame, by_unit, n_units, names, values, whole, subgroups, threshold)
    del values
    if not len(r["unit"]):
        return empty
    score = np.array([registry[nm].kind == "score" for nm in names])[r["measure"]]
    # national figures (other, all, disadvantaged pupils), for whole-cohort rows where one exists
    national_refs = _national_lookup(unit_ks, unit_year, names) if national else {}
    n_in = len(r["unit"])
    picks, refs, sources, comps = [np.arange(n_in)], [r["mean_ref"]], [np.full(n_in, None, dtype=object)], \
        [np.zeros(n_in, dtype=np.int64)]
    for comparison, (nat_value, nat_source) in national_refs.items():
        ref = nat_value[r["unit"], r["measure"]]
        rows = np.flatnonzero((r["block"] == 0) & ~np.isnan(ref))
        picks.append(rows)
        refs.append(ref[rows])
        sources.append(nat_source[r["unit"][rows], r["measure"][rows]])
        comps.append(np.full(len(rows), COMPARISONS.index(comparison), dtype=np.int64))

    # every row: the in-school comparisons, then the national ones
    src, comp = np.concatenate(picks), np.concatenate(comps)
    is_nat = comp > 0
    u, b, lab, m = (r[k][src] for k in ("unit", "block", "label", "measure"))
    n_dis, mean_dis, sd_dis = r["n_dis"][src], r["mean_dis"][src], r["sd_dis"][src]
    n_ref = np.where(is_nat, np.nan, r["n_ref"][src])
    sd_ref = np.where(is_nat, np.nan, r["sd_ref"][src])
    mean_ref = np.concatenate(refs)
    source = np.concatenate(sources)

    # withhold small groups, and further cells until no withheld one can be derived;
    # intervals are then worked out only for the rows shown
    lab_rank = _ranks([lb or "" for lb in labels])
    small, reason = withhold(r["unit"] * n_measures + r["measure"], r["block"], lab_rank[r["label"]],
                             src, ~is_nat, n_dis, n_ref, np.isnan(mean_ref), threshold,
                             without_prior_known(r, labels, names, by_unit, n_units))
    for arr in (n_dis, n_ref, mean_dis, mean_ref, sd_dis, sd_ref):
        arr[small] = np.nan
    score = score[src]
    st = {k: np.full(len(src), np.nan) for k in ("diff", "se", "low", "high", "p", "effect")}
    i = np.flatnonzero(~small & ~is_nat)
    for k, v in _in_school(score[i], n_ref[i], mean_ref[i], sd_ref[i], n_dis[i], mean_dis[i], sd_dis[i]).items():
        st[k][i] = v
    i = np.flatnonzero(~small & is_nat)
    # Progress 8 against national: the DfE's national pupil-level SD for the year
    known_sd = np.full(len(i), np.nan)
    for known in national_sd_measures():
        sd_by_year = {y: p8_sd(known, int(y)) for y in np.unique(unit_year)}
        known_sd = np.where(np.array(names, dtype=object)[m[i]] == known,
                            np.array([sd_by_year[y] for y in unit_year[u[i]]], dtype=float), known_sd)
    for k, v in _against_national(score[i], mean_ref[i], known_sd, n_dis[i], mean_dis[i], sd_dis[i]).items():
        st[k][i] = v

    higher = np.array([registry[nm].higher_is_better for nm in names], dtype=bool)
    sign = np.where(higher, 1.0, -1.0)[m]
    gap = st["diff"] * sign
    low, high = st["low"] * sign, st["high"] * sign
    ci_low, ci_high = np.fmin(low, high), np.fmax(low, high)
    effect = st["effect"] * sign
    significant = (ci_low > 0) | (ci_high < 0)
    unknown = np.isnan(ci_low)

    # Benjamini-Hochberg families within one report (school, key stage, year): the
    # headline measures, the other subjects, and the exploratory subgroup splits,
    # so that many subgroup cells do not drown a real whole-cohort gap
    subject = np.array([nm.startswith("grade_") and nm not in HEADLINE_MEASURES for nm in names])[m]
    tier = np.where(b > 0, 2, np.where(subject, 1, 0))
    # the comparison with disadvantaged pupils nationally is a further view, not the
    # DfE's: a family of its own, so adding it leaves the headline family as it was
    tier = np.where(comp == COMPARISONS.index("national_disadvantaged"), 3, tier)
    # a comparison that cannot reach significance (both groups constant and equal,
    # e.g. nobody severely absent) is left out of the count (Tarone's refinement)
    flat = (sd_dis == 0) & (np.nan_to_num(sd_ref, nan=0.0) == 0) & (gap == 0)
    q = stats.bh_qvalues(np.where(flat, np.nan, st["p"]), u * 4 + tier)
    clear = (q < fdr) & significant & ~unknown

    # rows in report order: school, key stage, year, measure, comparison, subgroup
    order_of = {name: i for i, name in enumerate(list(STANDARD_MEASURES) + list(_va_measures()))}
    m_rank = _ranks([(order_of.get(nm, len(order_of)), nm) for nm in names])
    u_rank = _ranks([(s, k, y) for s, k, y in zip(unit_school, unit_ks, unit_year)])
    o = np.lexsort((lab_rank[lab], comp, m_rank[m], u_rank[u]))
    u, m, lab, comp = u[o], m[o], lab[o], comp[o]

    def whole_numbers(a):
        return pd.array(a[o], dtype="Float64").astype("Int64")

    measure_info = {k: [getattr(registry[nm], k) for nm in names] for k in ("kind", "label", "unit")}
    out = pd.DataFrame({
        "school_id": _str_array(unit_school).take(u),
        "key_stage": _str_array(unit_ks).take(u),
        "year": pd.array(unit_year[u], dtype="Int64"),
        "measure": _str_array(names).take(m),
        "kind": _str_array(measure_info["kind"]).take(m),
        "comparison": _str_array(COMPARISONS).take(comp),
        "subgroup": pd.Series(np.array(labels, dtype=object)[lab], dtype=object),
        "n_disadvantaged": whole_numbers(n_dis),
        "n_reference": whole_numbers(n_ref),
        "mean_disadvantaged": mean_dis[o], "mean_reference": mean_ref[o],
        "gap": gap[o], "ci_low": ci_low[o], "ci_high": ci_high[o],
        "significant": pd.arrays.BooleanArray(significant[o], (unknown | small)[o]),
        "suppressed": small[o],
    })
    if detail:
        out["label"] = _str_array(measure_info["label"]).take(m)
        out["unit"] = _str_array(measure_info["unit"]).take(m)
        out["higher_is_better"] = higher[m]
        out["sd_disadvantaged"], out["sd_reference"] = sd_dis[o], sd_ref[o]
        out["se"], out["p_value"], out["q_value"] = st["se"][o], st["p"][o], q[o]
        out["clear"] = pd.arrays.BooleanArray(clear[o], (small | np.isnan(q))[o])
        out["effect_size"] = effect[o]
        out["national_source"] = _str_array(source[o]) if is_nat.any() else None
        out["withheld_reason"] = pd.Series(reason[o], dtype=object)
    return out
