"""The DfE disadvantage gap index.

Rank every pupil of the reference population on the attainment measure (KS2:
reading plus maths scaled score; KS4: mean grade in English and maths), ties
taking their average rank; percentile rank = rank / N. The index is
``20 * (mean percentile rank of others - mean percentile rank of disadvantaged)``:
0 means no gap, 10 means every other pupil outranks every disadvantaged pupil.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.reference import national_gap_index
from ..domain.registry import gap_index_measures
from ..domain.suppression import DEFAULT_THRESHOLD, protect
from .trustcontext import RANK, context_of

COLUMNS = ["school_id", "key_stage", "year", "value", "suppressed", "n_disadvantaged", "n_other",
           "reference", "national"]


def index_value(scores, disadvantaged) -> float:
    """The gap index of one population ranked within itself."""
    scores = pd.Series(np.asarray(scores, dtype=float))
    dis = np.asarray(disadvantaged, dtype=bool)
    ok = scores.notna().to_numpy()
    scores, dis = scores[ok], dis[ok]
    if dis.all() or not dis.any():
        return float("nan")
    pr = scores.rank(method="average").to_numpy() / len(scores)
    return float(20 * (pr[~dis].mean() - pr[dis].mean()))


def index_interval(value, n_disadvantaged, n_other, level: float = 0.95) -> tuple[float, float]:
    """The 95% interval of a gap index whose pupils are ranked within their own school.

    Ranked within one population, the index is ``20 * (A - 1/2)`` where ``A``
    is the probability that an other pupil outranks a disadvantaged one (the
    Mann-Whitney statistic over ``n_disadvantaged * n_other``; ties count a
    half). ``A``'s standard error is Newcombe's (2006) modified Hanley-McNeil
    one; the interval is taken on the logit scale (so it stays inside 0 to 1
    and keeps its coverage for small groups: 95 to 98% in simulations down
    to 6 pupils a group) and mapped back. Not for an index ranked across a
    trust (its pupils' ranks are shared with other schools).

    Returns
    -------
    (low, high) : floats, or arrays for array input (NaN where ``value`` is missing)
    """
    from scipy.special import expit, logit
    from scipy.stats import norm

    v, nd, no = (np.asarray(x, dtype=float) for x in (value, n_disadvantaged, n_other))
    a = np.clip(v / 20 + 0.5, 1e-6, 1 - 1e-6)  # (an index of exactly 0 or 10 keeps a finite interval)
    n_star = (nd + no) / 2 - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(a * (1 - a) * (1 + n_star * (1 - a) / (2 - a) + n_star * a / (1 + a)) / (nd * no))
        half = norm.ppf(0.5 + level / 2) * se / (a * (1 - a))
    low, high = (20 * (expit(logit(a) + s * half) - 0.5) for s in (-1, 1))
    return (float(low), float(high)) if np.ndim(low) == 0 else (low, high)


def attainment_for_index(pupils: pd.DataFrame) -> pd.Series:
    """The measure each pupil is ranked on (NaN where it cannot be formed)."""
    out = pd.Series(np.nan, index=pupils.index)
    ks4 = (pupils["key_stage"] == "KS4").to_numpy()
    ks2 = (pupils["key_stage"] == "KS2").to_numpy()
    # English and maths (the registry's): the mean grade at KS4, the sum of the scaled scores at KS2
    for here, cols, mean in ((ks4, gap_index_measures("KS4"), True), (ks2, gap_index_measures("KS2"), False)):
        if cols and set(cols) <= set(pupils.columns):
            v = sum(pupils[c].astype("float64") for c in cols)
            out[here] = (v / len(cols) if mean else v)[here]
    return out


def _scored(pupils: pd.DataFrame) -> pd.DataFrame:
    """Each pupil's school, cohort, group and the score they are ranked on (NaN where none)."""
    return pd.DataFrame({"school_id": pupils["school_id"].astype(str), "key_stage": pupils["key_stage"].astype(str),
                         "year": pupils["year"].astype("int64"), "dis": pupils["disadvantaged"].astype(bool),
                         "score": attainment_for_index(pupils)})


def _population(data: pd.DataFrame, reference: str) -> str:
    """Who pupils are ranked among: ``reference``, but a trust of one school (with scores) is that school."""
    return "school" if reference == "trust" and data["school_id"].nunique() == 1 else reference


def _ranks(data: pd.DataFrame, reference: str) -> pd.Series:
    """Each scored pupil's percentile rank (ties: their average rank) in their population."""
    pop = ["key_stage", "year"] if reference == "trust" else ["school_id", "key_stage", "year"]
    return data.groupby(pop)["score"].rank(method="average") / data.groupby(pop)["score"].transform("size")


def index_ranks(pupils: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Each pupil's percentile rank in the trust (NaN where no score), as :func:`gap_index` ranks them,
    and the population ('trust', or 'school' where one school has scores)."""
    data = _scored(pupils)
    out = np.full(len(data), np.nan)
    scored = data["score"].notna().to_numpy()
    data = data[scored]
    reference = _population(data, "trust") if len(data) else "trust"
    if len(data):
        out[scored] = _ranks(data, reference).to_numpy(dtype="float64")
    return out, reference


def first_scored_years(pupils: pd.DataFrame) -> dict[str, int]:
    """How many schools have their first gap-index score in each year (year as text: JSON)."""
    data = _scored(pupils).dropna(subset=["score"])
    first = data.groupby("school_id")["year"].min().value_counts()
    return {str(int(y)): int(n) for y, n in first.items()}


def _withhold(n_dis: np.ndarray, n_other: np.ndarray, threshold: int) -> np.ndarray:
    """Rows to withhold: each shows two cells (the school's disadvantaged and other
    pupils), parts of the cohort, whose size is public."""
    k = len(n_dis)
    rows = np.arange(k)
    cells_n = np.concatenate([n_dis, n_other, n_dis + n_other]).astype(float)
    part = np.concatenate([rows, rows, np.full(k, -1)])
    public = np.r_[np.zeros(2 * k, dtype=bool), np.ones(k, dtype=bool)]
    primary = (n_dis < threshold) | (n_other < threshold)
    return protect(cells_n, part, 2 * k + rows, np.r_[rows, rows], np.r_[rows, k + rows], primary,
                   threshold, public=public)


def gap_index(pupils: pd.DataFrame, *, reference: str = "trust", threshold: int = DEFAULT_THRESHOLD,
              school_id=None, key_stage: str | None = None, year: int | None = None) -> pd.DataFrame:
    """The gap index for each school, key stage and year.

    Parameters
    ----------
    pupils : DataFrame
        From :func:`gaptools.load_pupils`.
    reference : {'trust', 'school'}
        Rank pupils within all of ``pupils`` of the same key stage and year
        (the trust: a school's index then says where its pupils sit in the
        trust; a school's rows read with the trust's context keep their ranks
        in that trust) or within each school's own cohort.
    threshold : int, default 6
        Withhold the index (and both counts) where either group is smaller.
    school_id, key_stage, year : optional
        Restrict the rows returned (ranks still use the whole reference).

    Returns
    -------
    DataFrame
        ``school_id, key_stage, year, value, suppressed, n_disadvantaged,
        n_other, reference, national`` (the DfE national index that year, if known).
    """
    data = _scored(pupils)
    ctx = context_of(pupils) if reference == "trust" else None
    if ctx is not None:  # a school's rows read with the trust's context: their ranks in the trust
        data["pr"] = ctx.values[RANK].to_numpy(dtype="float64")
        reference = ctx.reference
    data = data.dropna(subset=["score"])
    if data.empty:
        return pd.DataFrame(columns=COLUMNS)
    if ctx is None:
        reference = _population(data, reference)
        data["pr"] = _ranks(data, reference)
    g = data.groupby(["school_id", "key_stage", "year", "dis"])["pr"].agg(["mean", "size"]).unstack("dis")
    mean_o = g[("mean", False)] if ("mean", False) in g.columns else np.nan
    mean_d = g[("mean", True)] if ("mean", True) in g.columns else np.nan
    out = pd.DataFrame({
        "value": 20 * (mean_o - mean_d),
        "n_disadvantaged": g[("size", True)] if ("size", True) in g.columns else 0,
        "n_other": g[("size", False)] if ("size", False) in g.columns else 0,
    }).reset_index()
    out[["n_disadvantaged", "n_other"]] = out[["n_disadvantaged", "n_other"]].fillna(0).astype("int64")
    out["suppressed"] = _withhold(out["n_disadvantaged"].to_numpy(), out["n_other"].to_numpy(), threshold)
    out.loc[out["suppressed"], ["value"]] = np.nan
    out["n_disadvantaged"] = out["n_disadvantaged"].astype("Int64").mask(out["suppressed"])
    out["n_other"] = out["n_other"].astype("Int64").mask(out["suppressed"])
    out["reference"] = reference
    nat = national_gap_index().set_index(["key_stage", "year"])["value"]
    out["national"] = [nat.get((k, y), np.nan) for k, y in zip(out["key_stage"], out["year"])]
    if school_id is not None:
        ids = [school_id] if isinstance(school_id, str) else list(school_id)
        out = out[out["school_id"].isin([str(i) for i in ids])]
    if key_stage is not None:
        out = out[out["key_stage"] == key_stage]
    if year is not None:
        out = out[out["year"] == year]
    return out[COLUMNS].reset_index(drop=True)
