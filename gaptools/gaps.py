"""``gap_table``: every gap between disadvantaged pupils and a reference group, with its interval.

One tidy row per school, key stage, year, measure, comparison and subgroup
(data contract §3). ``gap`` is reference minus disadvantaged, sign-flipped for
measures where lower is better, so a positive gap always means disadvantaged
pupils are worse off. All schools are computed together: one group-by per
split, then vectorised interval arithmetic.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import stats
from .measures import STANDARD_MEASURES, Measure, measures_for, prior_band
from .progress import VALUE_ADDED, value_added
from .reference import national_figures, p8_sd
from .suppression import DEFAULT_THRESHOLD, group_ids, suppress_gaps

CONTRACT_COLUMNS = ["school_id", "key_stage", "year", "measure", "kind", "comparison", "subgroup",
                    "n_disadvantaged", "n_reference", "mean_disadvantaged", "mean_reference",
                    "gap", "ci_low", "ci_high", "significant", "suppressed"]
DETAIL_COLUMNS = ["label", "unit", "higher_is_better", "sd_disadvantaged", "sd_reference", "se",
                  "p_value", "q_value", "clear", "effect_size", "national_source"]
#: Splits shown as subgroups: characteristic -> function of the pupil table giving its values.
SPLITS = ("prior_band", "sex", "sen", "persistent_absence")
#: Measures not split by attendance (the split would be circular).
ATTENDANCE_MEASURES = ("attendance_pct", "persistent_absence", "severe_absence")
#: Whole-cohort measures in the headline false-discovery family (with custom and
#: value-added measures); other GCSE subjects form a family of their own.
HEADLINE_MEASURES = ("grade_english", "grade_maths")


def _va_measures() -> dict[str, Measure]:
    return {f"va_{m}": Measure(f"va_{m}", label, "score", "grades" if m != "attainment8" else "points",
                               True, ("KS4",)) for m, label in VALUE_ADDED.items()}


def _measures(pupils: pd.DataFrame, wanted) -> dict[str, Measure]:
    found: dict[str, Measure] = {}
    for ks in pupils["key_stage"].dropna().unique():
        for m in measures_for(pupils, ks):
            found.setdefault(m.name, m)
    for name, m in _va_measures().items():
        if name in pupils.columns and pupils[name].notna().any():
            found[name] = m
    if wanted is not None:
        found = {k: v for k, v in found.items() if k in set(wanted)}
    return found


def _group_stats(frame: pd.DataFrame, cols: list[str], split: str | None, name: str | None = None) -> pd.DataFrame:
    """count/mean/sd of every measure by school, key stage, year[, split], for each group.

    ``split`` is the key column; ``name`` the characteristic written in ``subgroup``.
    """
    keys = ["school_id", "key_stage", "year"] + ([split] if split else [])
    g = frame.groupby(keys + ["disadvantaged"], sort=True, observed=True, dropna=True)[cols]
    parts = {}
    for stat, values in (("n", g.count()), ("mean", g.mean()), ("sd", g.std(ddof=1))):
        wide = values.unstack("disadvantaged")           # columns: (measure, flag)
        for flag, tag in ((True, "dis"), (False, "ref")):
            block = wide.xs(flag, axis=1, level=1) if flag in wide.columns.get_level_values(1) \
                else pd.DataFrame(np.nan, index=wide.index, columns=cols)
            stacked = block[cols].stack(future_stack=True)
            stacked.index = stacked.index.set_names(keys + ["measure"])
            parts[f"{stat}_{tag}"] = stacked
    out = pd.DataFrame(parts)
    out[["n_dis", "n_ref"]] = out[["n_dis", "n_ref"]].fillna(0)
    out = out[(out["n_dis"] + out["n_ref"]) > 0].reset_index()
    if split:
        out["subgroup"] = (name or split) + "=" + out[split].astype(str)
        out = out.drop(columns=split)
    else:
        out["subgroup"] = None
    return out


def _in_school(w: pd.DataFrame, kinds: pd.Series) -> pd.DataFrame:
    score = (kinds == "score").to_numpy()
    out = pd.DataFrame(index=w.index)
    ws = stats.welch(w["mean_ref"], w["sd_ref"], w["n_ref"], w["mean_dis"], w["sd_dis"], w["n_dis"])
    with np.errstate(invalid="ignore"):
        pr = stats.proportion_diff(np.round(w["mean_ref"] * w["n_ref"]), w["n_ref"],
                                   np.round(w["mean_dis"] * w["n_dis"]), w["n_dis"])
    for key in ("diff", "se", "low", "high", "p"):
        out[key] = np.where(score, ws[key], pr[key])
    g = stats.hedges_g(w["mean_ref"], w["sd_ref"], w["n_ref"], w["mean_dis"], w["sd_dis"], w["n_dis"])
    out["effect_size"] = np.where(score, g, np.nan)
    out["comparison"] = "in_school"
    return out


def _national(w: pd.DataFrame, kinds: pd.Series) -> pd.DataFrame:
    """Disadvantaged pupils in school against national other pupils (same key stage, year, measure)."""
    nat = national_figures()
    nat = nat[nat["group"] == "other"][["key_stage", "year", "measure", "value", "source"]]
    merged = w[["key_stage", "year", "measure"]].merge(nat, how="left", on=["key_stage", "year", "measure"])
    merged.index = w.index
    has = merged["value"].notna() & w["subgroup"].isna()
    w = w[has]
    if w.empty:
        return pd.DataFrame()
    ref, kinds = merged.loc[has, "value"].to_numpy(float), kinds[has].to_numpy()
    out = pd.DataFrame(index=w.index)
    sd_by_year = {y: p8_sd("progress8", int(y)) for y in w["year"].unique()}
    known_sd = np.where(w["measure"] == "progress8", w["year"].map(sd_by_year).to_numpy(float), np.nan)
    t = stats.one_sample(w["mean_dis"], w["sd_dis"], w["n_dis"], ref)
    z = stats.one_sample(w["mean_dis"], w["sd_dis"], w["n_dis"], ref, known_sd=known_sd)
    with np.errstate(invalid="ignore"):
        r = stats.proportion_vs_fixed(np.round(w["mean_dis"] * w["n_dis"]), w["n_dis"], ref)
    use_z = ~np.isnan(known_sd)
    for key in ("diff", "se", "low", "high", "p"):
        out[key] = np.where(kinds == "score", np.where(use_z, z[key], t[key]), r[key])
    out["effect_size"] = np.nan
    out["comparison"] = "national_other"
    out["mean_ref_national"] = ref
    out["national_source"] = merged.loc[has, "source"].to_numpy()
    return out


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
        Groups smaller than this are withheld (with secondary suppression).
    school_id, key_stage, year : optional
        Restrict the rows returned (``school_id`` may be a list). Value added is
        still measured against the whole of ``pupils``.
    measures : list of str, optional
        Measures to include (default: every measure the data has).
    subgroups : sequence of str
        Splits to repeat the in-school gaps within: ``prior_band``, ``sex``, ``sen``,
        ``persistent_absence`` (not for the attendance measures themselves).
    national : bool, default True
        Add ``national_other`` rows where a national figure exists for that year.
    progress : bool, default True
        Add trust-relative value-added measures (``va_grade_english`` ...).
    fdr : float, default 0.05
        False discovery rate for ``clear``: Benjamini-Hochberg within each
        school, key stage and year (one report), in three families: headline
        measures (every non-subject measure plus English and maths), other
        GCSE subjects, and subgroup rows.
    detail : bool, default False
        Add the working columns: label, unit, SDs, se, p_value, q_value,
        clear (BH-significant), effect_size (Hedges' g), national_source.

    Returns
    -------
    DataFrame
        The data-contract §3 gap fields plus ``school_id`` (and the detail
        columns when asked). ``significant`` means the 95% interval excludes 0;
        ``clear`` also survives the false-discovery-rate control.
    """
    frame = pupils
    if progress and "prior_attainment" in pupils.columns:
        va = value_added(pupils)
        if len(va.columns):
            frame = pd.concat([pupils, va], axis=1)
    if school_id is not None:
        ids = [school_id] if isinstance(school_id, str) else list(school_id)
        frame = frame[frame["school_id"].isin(ids)]
    if key_stage is not None:
        frame = frame[frame["key_stage"] == key_stage]
    if year is not None:
        frame = frame[frame["year"] == year]
    registry = _measures(frame, measures)
    cols = list(registry)
    if frame.empty or not cols:
        return pd.DataFrame(columns=CONTRACT_COLUMNS + (DETAIL_COLUMNS if detail else []))
    data = frame[["school_id", "key_stage", "year", "disadvantaged"] + cols].copy()
    for c in cols:  # booleans become 0/1, missing stays missing
        data[c] = data[c].astype("float64")
    data["school_id"] = data["school_id"].astype(str)
    data["key_stage"] = data["key_stage"].astype(str)
    data["year"] = data["year"].astype("int64")
    data["disadvantaged"] = data["disadvantaged"].astype(bool)
    pieces = [_group_stats(data, cols, None)]
    for split in subgroups:
        # the split's values go in a key column of their own: a split may also be a measure
        # (persistent_absence), whose numeric column must stay as it is
        key = f"__split_{split}"
        if split == "prior_band" and "prior_attainment" in frame.columns:
            data[key] = prior_band(frame["prior_attainment"]).astype(object)
        elif split in frame.columns:
            data[key] = frame[split].astype(object)
        else:
            continue
        stats_ = _group_stats(data, cols, key, name=split)
        if split == "persistent_absence":
            stats_ = stats_[~stats_["measure"].isin(ATTENDANCE_MEASURES)]
        pieces.append(stats_)
    w = pd.concat(pieces, ignore_index=True)
    kinds = w["measure"].map({k: m.kind for k, m in registry.items()})
    parts = [w.join(_in_school(w, kinds))]
    if national:
        nat = _national(w, kinds)
        if len(nat):
            parts.append(w.loc[nat.index].join(nat))
    t = pd.concat(parts, ignore_index=True)
    national_rows = t["comparison"] == "national_other"
    lower_better = ~t["measure"].map({k: m.higher_is_better for k, m in registry.items()}).astype(bool)
    sign = np.where(lower_better, -1.0, 1.0)
    low, high = t["low"] * sign, t["high"] * sign
    out = pd.DataFrame({
        "school_id": t["school_id"], "key_stage": t["key_stage"], "year": t["year"].astype("Int64"),
        "measure": t["measure"], "kind": t["measure"].map({k: m.kind for k, m in registry.items()}),
        "comparison": t["comparison"], "subgroup": t["subgroup"],
        "n_disadvantaged": t["n_dis"].astype("Int64"),
        "n_reference": t["n_ref"].where(~national_rows).astype("Int64"),
        "mean_disadvantaged": t["mean_dis"],
        "mean_reference": t["mean_ref"].where(~national_rows, t.get("mean_ref_national")),
        "gap": t["diff"] * sign,
        "ci_low": np.fmin(low, high), "ci_high": np.fmax(low, high),
    })
    out["significant"] = ((out["ci_low"] > 0) | (out["ci_high"] < 0)).astype("boolean")
    out.loc[out["ci_low"].isna(), "significant"] = pd.NA
    out["suppressed"] = False
    out["label"] = out["measure"].map({k: m.label for k, m in registry.items()})
    out["unit"] = out["measure"].map({k: m.unit for k, m in registry.items()})
    out["higher_is_better"] = ~lower_better.to_numpy()
    out["sd_disadvantaged"], out["sd_reference"] = t["sd_dis"], t["sd_ref"].where(~national_rows)
    out["se"], out["p_value"] = t["se"], t["p"]
    out["effect_size"] = t["effect_size"] * sign
    out["national_source"] = t.get("national_source")
    out = suppress_gaps(out, threshold)
    # Benjamini-Hochberg families within one report (school, key stage, year): the
    # headline measures, the other subjects, and the exploratory subgroup splits,
    # so that many subgroup cells do not drown a real whole-cohort gap
    tier = np.where(out["subgroup"].notna(), "subgroup",
                    np.where(out["measure"].isin(HEADLINE_MEASURES) | ~out["measure"].str.startswith("grade_"),
                             "headline", "subjects"))
    family = group_ids(out["school_id"], out["key_stage"], out["year"], tier)
    # a comparison that cannot reach significance (both groups constant and equal,
    # e.g. nobody severely absent) is left out of the count (Tarone's refinement)
    p_for_bh = out["p_value"].astype("float64").where(
        ~((out["sd_disadvantaged"] == 0) & (out["sd_reference"].fillna(0) == 0) & (out["gap"] == 0)))
    out["q_value"] = stats.bh_qvalues(p_for_bh.to_numpy(), family)
    out["clear"] = (out["q_value"] < fdr) & out["significant"].fillna(False).astype(bool)
    out["clear"] = out["clear"].astype("boolean").mask(out["suppressed"] | out["q_value"].isna())
    order = {name: i for i, name in enumerate(list(STANDARD_MEASURES) + list(_va_measures()))}
    out["_m"] = out["measure"].map(order).fillna(len(order))
    out["_s"] = out["subgroup"].fillna("")
    out = out.sort_values(["school_id", "key_stage", "year", "_m", "measure", "comparison", "_s"],
                          kind="stable").drop(columns=["_m", "_s"]).reset_index(drop=True)
    return out[CONTRACT_COLUMNS + (DETAIL_COLUMNS if detail else [])]
