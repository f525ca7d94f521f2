"""Progress measures: DfE Progress 8 and trust-relative value added."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .reference import p8_estimates

#: Cohorts with no KS2 tests (summers 2020 and 2021 were cancelled): no P8.
NO_P8_YEARS = (2025, 2026)


def p8_group(prior: pd.Series | np.ndarray, estimates: pd.DataFrame) -> np.ndarray:
    """The DfE prior-attainment group (1-34) of each KS2 average scaled score.

    Scores sit on a half-point grid; a score between two groups' ranges goes to
    the nearer one.
    """
    highs = estimates["ks2_high"].to_numpy(dtype=float) + 0.25
    values = pd.to_numeric(pd.Series(prior), errors="coerce").to_numpy(dtype=float)
    idx = np.searchsorted(highs, values, side="left").clip(0, len(highs) - 1)
    groups = estimates["group"].to_numpy()[idx].astype(float)
    groups[np.isnan(values)] = np.nan
    return groups


def progress8_from(attainment8, prior, year: int | None = None) -> np.ndarray:
    """Pupil P8 = (A8 - national average A8 of the pupil's prior group) / 10."""
    _, est = p8_estimates(year)
    groups = p8_group(prior, est)
    lookup = dict(zip(est["group"], est["attainment8"]))
    expected = np.array([lookup.get(g, np.nan) for g in groups], dtype=float)
    a8 = pd.to_numeric(pd.Series(attainment8), errors="coerce").to_numpy(dtype=float)
    return (a8 - expected) / 10


def fill_progress8(pupils: pd.DataFrame) -> list[str]:
    """Derive missing ``progress8`` for KS4 pupils in place; return notes for people."""
    if not {"attainment8", "prior_attainment"} <= set(pupils.columns):
        return []
    if "progress8" not in pupils.columns:
        pupils["progress8"] = pd.Series(pd.NA, index=pupils.index, dtype="Float64")
    notes = []
    need = (pupils["key_stage"] == "KS4") & pupils["progress8"].isna() \
        & pupils["attainment8"].notna() & pupils["prior_attainment"].notna()
    blocked = need & pupils["year"].isin(NO_P8_YEARS)
    if blocked.any():
        notes.append(f"no Progress 8 derived for {int(blocked.sum())} pupils in "
                     f"{sorted(set(pupils.loc[blocked, 'year'].astype(int)))}: those cohorts sat no KS2 tests, "
                     "so their prior attainment is not the DfE measure")
    need &= ~blocked
    for year in sorted(set(pupils.loc[need, "year"].astype(int))):
        rows = need & (pupils["year"] == year)
        est_year, _ = p8_estimates(year)
        pupils.loc[rows, "progress8"] = progress8_from(
            pupils.loc[rows, "attainment8"], pupils.loc[rows, "prior_attainment"], year)
        if est_year != year:
            notes.append(f"Progress 8 for {year} derived with the DfE {est_year - 1}/{str(est_year)[2:]} "
                         "estimates (the nearest available): an approximation of the published figure")
    return notes


#: Score measures that get a trust-relative value added, and how it is labelled.
VALUE_ADDED = {
    "grade_english": "English progress (trust-relative value added)",
    "grade_maths": "maths progress (trust-relative value added)",
    "attainment8": "Attainment 8 progress (trust-relative value added)",
}


def value_added(pupils: pd.DataFrame, measures=tuple(VALUE_ADDED), *, reference: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """Trust-relative value added: outcome minus the mean outcome of pupils in
    the same DfE prior-attainment group, key stage and year of the reference population.

    Parameters
    ----------
    pupils : DataFrame
        Pupils to score (need ``prior_attainment``).
    measures : sequence of str
        Outcome columns.
    reference : DataFrame, optional
        The population that sets expectations; default ``pupils`` (the trust).
        It is not a national benchmark, and everything shown from it says so.

    Returns
    -------
    DataFrame
        One ``va_<measure>`` column per measure, aligned with ``pupils``.
    """
    reference = pupils if reference is None else reference
    out = pd.DataFrame(index=pupils.index)
    if "prior_attainment" not in pupils.columns or "prior_attainment" not in reference.columns:
        return out
    _, est = p8_estimates(None)
    keys = ["key_stage", "year", "_grp"]
    ref = reference.assign(_grp=p8_group(reference["prior_attainment"], est))
    own = pupils.assign(_grp=p8_group(pupils["prior_attainment"], est))
    for m in measures:
        if m not in pupils.columns or m not in reference.columns:
            continue
        expected = ref.assign(_y=ref[m].astype("float64")).groupby(keys, dropna=True)["_y"].mean()
        exp_col = own[keys].join(expected.rename("_exp"), on=keys)["_exp"]
        out[f"va_{m}"] = own[m].astype("float64") - exp_col
    return out
