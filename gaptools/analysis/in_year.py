"""The year so far: gaps at each data drop, by year group and teaching group, and how they change.

A school monitors its plan through the year (the EEF guide's "deliver and
monitor"). For every school, year group, subject and drop this module gives
the gap between disadvantaged pupils and the others, for the whole year group
and for each teaching group, with its 95% interval; the change in that gap
since the year's first drop, measured on the same pupils and in standard
deviations of the subject's scores, so that any scale (grades, scaled scores,
percentages, WTS/EXS/GDS mapped to numbers) reads alike; whether the change
stays clear after false-discovery control across the school's comparisons
(``alert``); and, for teaching groups, the gap pulled toward the year group's
as far as the group's few pupils warrant (empirical Bayes).

A teaching group's change is tested against the spread of pupils' changes
within all the year group's groups (the cells of group by disadvantage),
pooled: the same test on the same scale has much the same spread of change in
every class, and pooling gives a group of 25 pupils the power of the year
group's degrees of freedom. Gaps themselves use Welch intervals per group
(sets differ in level and spread).

Small groups are withheld with :func:`gaptools.domain.suppression.protect`:
each teaching group's disadvantaged and other pupils are parts of the year
group's (whose size is known), so a withheld group is never the year group
minus the shown ones.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..domain.suppression import (
    DEFAULT_THRESHOLD,
    NO_COMPARISON_GROUP,
    PROTECTS_ANOTHER_GROUP,
    TOO_FEW_DISADVANTAGED,
    TOO_FEW_OTHERS,
    protect,
)
from .stats import bh_qvalues, welch

UNIT = ["school_id", "year_group", "subject"]
YEAR_GROUP, TEACHING_GROUP = "year_group", "teaching_group"
#: The columns of :func:`in_year_gaps`, in order (results.json ``in_year``).
FIELDS = ["school_id", "year_group", "subject", "drop", "drop_date", "drop_index", "level", "group",
          "n_disadvantaged", "n_other", "mean_disadvantaged", "mean_other", "gap", "ci_low", "ci_high",
          "change_sd", "change_ci_low", "change_ci_high", "change_q_value", "alert", "shrunk_gap",
          "withheld_reason"]
#: Figures a withheld row does not show.
_FIGURES = ["mean_disadvantaged", "mean_other", "gap", "ci_low", "ci_high", "change_sd", "change_ci_low",
            "change_ci_high", "change_q_value", "shrunk_gap"]


def drop_order(assessments: pd.DataFrame) -> pd.DataFrame:
    """Each drop's place in its school's year group and subject: 0 for the year's first, by date."""
    d = assessments.groupby(UNIT + ["drop"], sort=False, observed=True)["drop_date"].min().reset_index()
    d = d.sort_values(UNIT + ["drop_date", "drop"], kind="stable")
    d["drop_index"] = d.groupby(UNIT, sort=False).cumcount()
    return d.reset_index(drop=True)


def typed(assessments: pd.DataFrame) -> pd.DataFrame:
    """``assessments`` as :func:`gaptools.load_assessments` gives them: a table typed already is used as
    it is; any other (dates as text, no ``teaching_group`` column, 0/1 flags) is loaded (and checked) first."""
    from pandas.api import types as pt

    cols = assessments.columns
    ready = ("teaching_group" in cols and {"school_id", "pupil_id", "year_group", "subject", "drop"} <= set(cols)
             and "drop_date" in cols and pt.is_datetime64_any_dtype(assessments["drop_date"])
             and "score" in cols and pt.is_numeric_dtype(assessments["score"])
             and "disadvantaged" in cols and pt.is_bool_dtype(assessments["disadvantaged"]))
    if ready:
        return assessments
    from ..io.assessments import load_assessments

    return load_assessments(assessments)


def with_changes(assessments: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scored rows with ``drop_index``, ``change`` (score minus the pupil's first-drop score) and
    ``unit_sd`` (the subject's spread in the year group: root mean of each drop's variance)."""
    assessments = typed(assessments)
    order = drop_order(assessments)
    a = assessments[assessments["score"].notna()].merge(order[UNIT + ["drop", "drop_index"]], on=UNIT + ["drop"])
    a["score"] = a["score"].astype("float64")
    first = a.loc[a["drop_index"] == 0, UNIT + ["pupil_id", "score"]].rename(columns={"score": "first"})
    a = a.merge(first, on=UNIT + ["pupil_id"], how="left")
    a["change"] = (a["score"] - a["first"]).where(a["drop_index"] > 0)
    var = a.groupby(UNIT + ["drop_index"], sort=False)["score"].var().groupby(level=[0, 1, 2], sort=False).mean()
    a = a.merge(np.sqrt(var).rename("unit_sd").reset_index(), on=UNIT)
    return a, order


def _cell_stats(a: pd.DataFrame) -> pd.DataFrame:
    """One row per school, year group, subject, drop, level and group: each group's count, mean and
    variance of scores and of changes, disadvantaged (``_d``) and others (``_o``)."""
    yg = a.assign(level=YEAR_GROUP, group="")
    tg = a[a["teaching_group"].notna()].assign(level=TEACHING_GROUP)
    tg["group"] = tg["teaching_group"].astype(str)
    long = pd.concat([yg, tg], ignore_index=True)
    keys = UNIT + ["drop_index", "level", "group"]
    long["dis"] = long["disadvantaged"].astype(bool)
    stats = long.groupby(keys + ["dis"], sort=False).agg(
        n=("score", "size"), mean=("score", "mean"), var=("score", "var"),
        cn=("change", "count"), cmean=("change", "mean"), cvar=("change", "var"), unit_sd=("unit_sd", "first"))
    wide = stats.unstack("dis")
    out = pd.DataFrame(index=wide.index)
    for col in ("n", "mean", "var", "cn", "cmean", "cvar"):
        for flag, suffix in ((True, "_d"), (False, "_o")):
            out[col + suffix] = wide[(col, flag)] if (col, flag) in wide.columns else np.nan
    out["unit_sd"] = wide["unit_sd"].max(axis=1)
    for c in ("n_d", "n_o", "cn_d", "cn_o"):
        out[c] = out[c].fillna(0)
    return out.reset_index()


def _withhold(t: pd.DataFrame, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows withheld (and why): each row shows its disadvantaged and other cells; the year group's
    cells are parts of its (public) total, each teaching group's parts of the year group's cells."""
    k = len(t)
    n_d, n_o = t["n_d"].to_numpy(float), t["n_o"].to_numpy(float)
    ud = pd.factorize(pd.MultiIndex.from_frame(t[UNIT + ["drop_index"]]))[0]
    n_ud = int(ud.max()) + 1 if k else 0
    is_yg = (t["level"] == YEAR_GROUP).to_numpy()
    yg_row = np.zeros(n_ud, dtype=np.int64)
    yg_row[ud[is_yg]] = np.flatnonzero(is_yg)
    cell_n = np.empty(2 * k)
    cell_n[0::2], cell_n[1::2] = n_d, n_o
    status = np.tile([0, 1], k)
    cell_ud = np.repeat(ud, 2)
    cell_yg = np.repeat(is_yg, 2)
    # partitions 0..n_ud-1: a year group's total; n_ud + 2*ud + status: its disadvantaged / other pupils
    cell_part = np.where(cell_yg, cell_ud, n_ud + 2 * cell_ud + status)
    in_groups = np.bincount((2 * cell_ud + status)[~cell_yg], weights=cell_n[~cell_yg], minlength=2 * n_ud)
    whole_cell = 2 * np.repeat(yg_row, 2) + np.tile([0, 1], n_ud)
    unknown = np.where(in_groups > 0, cell_n[whole_cell] - in_groups, 0.0)  # pupils with no teaching group
    extra = np.flatnonzero(unknown > 0)
    public_n = n_d[yg_row] + n_o[yg_row]
    first_public = 2 * k + len(extra)
    cells_n = np.concatenate([cell_n, unknown[extra], public_n])
    cells_part = np.concatenate([cell_part, n_ud + extra, np.full(n_ud, -1)])
    part_whole = np.concatenate([first_public + np.arange(n_ud), whole_cell])
    public = np.zeros(len(cells_n), dtype=bool)
    public[first_public:] = True
    rows = np.arange(k)
    few_d, few_o = n_d < threshold, n_o < threshold
    hidden = protect(cells_n, cells_part, part_whole, np.r_[rows, rows], np.r_[2 * rows, 2 * rows + 1],
                     few_d | few_o, threshold, public=public)
    reason = np.full(k, None, dtype=object)
    reason[hidden] = PROTECTS_ANOTHER_GROUP
    reason[few_o] = TOO_FEW_OTHERS
    reason[few_d] = TOO_FEW_DISADVANTAGED
    reason[(n_d == 0) | (n_o == 0)] = NO_COMPARISON_GROUP
    return hidden, reason


def _changes(t: pd.DataFrame, threshold: int) -> dict[str, np.ndarray]:
    """The change in each row's gap since the first drop (same pupils), in SD, with interval and p."""
    from scipy import special

    is_tg = (t["level"] == TEACHING_GROUP).to_numpy()
    cn_d, cn_o = t["cn_d"].to_numpy(float), t["cn_o"].to_numpy(float)
    cvar_d, cvar_o = t["cvar_d"].to_numpy(float), t["cvar_o"].to_numpy(float)
    diff = t["cmean_o"].to_numpy(float) - t["cmean_d"].to_numpy(float)
    # year groups: Welch on the pupils' changes
    w = welch(t["cmean_o"], np.sqrt(cvar_o), cn_o, t["cmean_d"], np.sqrt(cvar_d), cn_d)
    se, df = w["se"], w["df"]
    # teaching groups: the spread of change pooled over the year group's cells (group x disadvantage)
    ud = pd.factorize(pd.MultiIndex.from_frame(t[UNIT + ["drop_index"]]))[0]
    ss = np.where(is_tg, np.nan_to_num(cvar_d) * np.maximum(cn_d - 1, 0)
                  + np.nan_to_num(cvar_o) * np.maximum(cn_o - 1, 0), 0.0)
    dof = np.where(is_tg, np.maximum(cn_d - 1, 0) + np.maximum(cn_o - 1, 0), 0.0)
    pooled_ss, pooled_df = np.bincount(ud, weights=ss), np.bincount(ud, weights=dof)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_p = np.sqrt(pooled_ss[ud] / pooled_df[ud])
        se = np.where(is_tg, s_p * np.sqrt(1 / cn_d + 1 / cn_o), se)
        df = np.where(is_tg, pooled_df[ud], df)
        tcrit = special.stdtrit(df, 0.975)
        p = 2 * special.stdtr(df, -np.abs(diff / se))
        sd = t["unit_sd"].to_numpy(float)
        ok = (t["drop_index"].to_numpy() > 0) & (cn_d >= threshold) & (cn_o >= threshold) & (se > 0) & (sd > 0)
        nan = np.full(len(t), np.nan)
        return {"change_sd": np.where(ok, diff / sd, nan), "change_ci_low": np.where(ok, (diff - tcrit * se) / sd, nan),
                "change_ci_high": np.where(ok, (diff + tcrit * se) / sd, nan), "p": np.where(ok, p, nan)}


def shrink(gap, se, year_group_gap, unit) -> np.ndarray:
    """Teaching groups' gaps pulled toward their year group's (empirical Bayes).

    The spread of true group gaps, tau², is the DerSimonian-Laird estimate over
    the groups of each ``unit`` (school, year group, subject, drop); a group's
    gap then moves toward the year group's by ``se² / (tau² + se²)``: all the
    way where the groups differ no more than their noise, hardly at all for a
    large group in a year group whose groups really differ.
    """
    gap, se, yg = (np.asarray(x, dtype=float) for x in (gap, se, year_group_gap))
    unit = pd.factorize(np.asarray(unit))[0] if len(gap) else np.zeros(0, dtype=np.int64)
    ok = np.isfinite(gap) & np.isfinite(se) & (se > 0)
    w = np.where(ok, 1 / np.where(ok, se, 1) ** 2, 0.0)
    n_u = int(unit.max()) + 1 if len(unit) else 0
    sw, sw2 = np.bincount(unit, w, n_u), np.bincount(unit, w ** 2, n_u)
    k = np.bincount(unit, ok.astype(float), n_u)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(unit, w * np.where(ok, gap, 0), n_u) / sw
        q = np.bincount(unit, w * np.where(ok, gap - mean[unit], 0) ** 2, n_u)
        tau2 = np.where(k >= 2, np.maximum(0.0, (q - (k - 1)) / (sw - sw2 / sw)), 0.0)
        b = tau2[unit] / (tau2[unit] + se ** 2)
    return np.where(ok, yg + b * (gap - yg), np.nan)


def in_year_gaps(assessments: pd.DataFrame, *, threshold: int = DEFAULT_THRESHOLD, fdr: float = 0.05) -> pd.DataFrame:
    """Gaps at every data drop, by year group and teaching group, and how they have changed.

    Parameters
    ----------
    assessments : DataFrame
        From :func:`gaptools.load_assessments` (one or more schools); a table with the same columns
        not typed yet is loaded through it first.
    threshold : int, default 6
        Groups smaller than this are withheld, and further groups wherever a
        withheld one could be worked out from the year group's figures.
    fdr : float, default 0.05
        False-discovery rate for ``alert``, across each school's comparisons.

    Returns
    -------
    DataFrame
        One row per school, year group, subject, drop, ``level``
        (``year_group`` or ``teaching_group``) and ``group`` (the teaching
        group; null for the year group): ``n_disadvantaged``, ``n_other``, the
        means, ``gap`` (others minus disadvantaged, in score units: positive
        means disadvantaged pupils are behind), its 95% interval ``ci_low`` and
        ``ci_high``; ``change_sd`` (the gap now minus at the year's first drop,
        over the pupils assessed at both, in SDs of the subject's scores in
        the year group: positive = wider) with ``change_ci_low``,
        ``change_ci_high`` and ``change_q_value``; ``alert`` (the change is
        clear after Benjamini-Hochberg control across the school's changes);
        ``shrunk_gap`` (teaching groups: the gap pulled toward the year
        group's, empirical Bayes); ``withheld_reason`` (null when shown; a
        withheld row shows only its counts, and null counts where
        ``protects_another_group`` or a group is small).
    """
    a, order = with_changes(assessments)
    if a.empty:
        return pd.DataFrame(columns=FIELDS)
    t = _cell_stats(a)
    g = welch(t["mean_o"], np.sqrt(t["var_o"]), t["n_o"], t["mean_d"], np.sqrt(t["var_d"]), t["n_d"])
    t["gap"], t["ci_low"], t["ci_high"] = g["diff"], g["low"], g["high"]
    t = t.merge(order[UNIT + ["drop_index", "drop", "drop_date"]], on=UNIT + ["drop_index"])
    hidden, reason = _withhold(t, threshold)
    ch = _changes(t, threshold)
    for col in ("change_sd", "change_ci_low", "change_ci_high"):
        t[col] = ch[col]
    p = np.where(hidden, np.nan, ch["p"])
    # one family per school and drop: the alerts a school reads at a drop are decided with what it
    # knew then, and stay as they were when the next drop comes in
    family = pd.factorize(pd.MultiIndex.from_frame(t[["school_id", "drop_index"]]))[0]
    t["change_q_value"] = bh_qvalues(p, family)
    t["alert"] = (t["change_q_value"] < fdr) & ~hidden
    is_tg = (t["level"] == TEACHING_GROUP).to_numpy()
    ud = pd.MultiIndex.from_frame(t[UNIT + ["drop_index"]])
    yg_gap = pd.Series(t["gap"].to_numpy()[~is_tg], index=ud[~is_tg]).reindex(ud).to_numpy()
    shrunk = shrink(np.where(is_tg & ~hidden, t["gap"], np.nan), g["se"], yg_gap, pd.factorize(ud)[0])
    t["shrunk_gap"] = np.where(is_tg & ~hidden, shrunk, np.nan)
    t = t.rename(columns={"n_d": "n_disadvantaged", "n_o": "n_other", "mean_d": "mean_disadvantaged",
                          "mean_o": "mean_other"})
    t["withheld_reason"] = reason
    t.loc[hidden, _FIGURES] = np.nan
    t["n_disadvantaged"] = t["n_disadvantaged"].astype("Int64").mask(hidden)
    t["n_other"] = t["n_other"].astype("Int64").mask(hidden)
    t["group"] = t["group"].where(t["group"] != "", None).astype(object)
    t = t.sort_values(UNIT + ["drop_index", "level", "group"], key=_level_first, kind="stable")
    t["withheld_reason"] = t["withheld_reason"].astype(object).where(t["withheld_reason"].notna(), None)
    return t[FIELDS].reset_index(drop=True)


def _level_first(col: pd.Series) -> pd.Series:
    return col.map({YEAR_GROUP: 0, TEACHING_GROUP: 1}) if col.name == "level" else col



def in_year_records(table: pd.DataFrame) -> list[dict]:
    """The rows of :func:`in_year_gaps` as results.json's ``in_year`` (dates as ``YYYY-MM-DD``, nulls)."""
    out = table[FIELDS].astype(object).where(table[FIELDS].notna(), None)
    out["drop_date"] = [None if v is None else pd.Timestamp(v).date().isoformat() for v in out["drop_date"]]
    records = []
    for row in out.itertuples(index=False):
        rec = {}
        for key, value in zip(FIELDS, row):
            if hasattr(value, "item"):  # a numpy scalar
                value = value.item()
            rec[key] = round(value, 6) if isinstance(value, float) else value
        records.append(rec)
    return records


def add_to_results(path, table: pd.DataFrame) -> Path:
    """Add ``in_year`` (the school's :func:`in_year_gaps` rows) to a ``results.json``, atomically.

    The section is additive (data contract §3): every other field is kept as it is.
    """
    import json

    from ..io.files import atomic_write_text

    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    doc = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    doc["in_year"] = in_year_records(table)
    atomic_write_text(path, json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n")
    return path
