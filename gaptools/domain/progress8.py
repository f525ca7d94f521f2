"""Progress 8 from Attainment 8 and KS2 prior attainment, with the DfE estimates."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .formatting import count
from .measures import as_floats
from .reference import p8_estimates

#: Cohorts with no KS2 tests (summers 2020 and 2021 were cancelled): no P8.
NO_P8_YEARS = (2025, 2026)


def p8_group(prior: pd.Series | np.ndarray, estimates: pd.DataFrame) -> np.ndarray:
    """The DfE prior-attainment group (1-34) of each KS2 average scaled score.

    Scores sit on a half-point grid; a score between two groups' ranges goes to
    the nearer one.
    """
    idx = group_row(prior, estimates)
    groups = estimates["group"].to_numpy(dtype=float)[np.maximum(idx, 0)]
    groups[idx < 0] = np.nan
    return groups


def group_row(prior, estimates: pd.DataFrame) -> np.ndarray:
    """Row of ``estimates`` (sorted by group) for each prior score; -1 where unknown."""
    highs = estimates["ks2_high"].to_numpy(dtype=float) + 0.25
    values = as_floats(prior)
    idx = np.searchsorted(highs, values, side="left").clip(0, len(highs) - 1)
    idx[np.isnan(values)] = -1
    return idx


def progress8_from(attainment8, prior, year: int | None = None) -> np.ndarray:
    """Pupil P8 = (A8 - national average A8 of the pupil's prior group) / 10."""
    _, est = p8_estimates(year)
    idx = group_row(prior, est)
    expected = est["attainment8"].to_numpy(dtype=float)[np.maximum(idx, 0)]
    expected[idx < 0] = np.nan
    return (as_floats(attainment8) - expected) / 10


def fill_progress8(pupils: pd.DataFrame) -> list[str]:
    """Derive missing ``progress8`` for KS4 pupils in place; return notes for people."""
    if not {"attainment8", "prior_attainment"} <= set(pupils.columns):
        return []
    p8 = (as_floats(pupils["progress8"]) if "progress8" in pupils.columns
          else np.full(len(pupils), np.nan))
    a8, prior = as_floats(pupils["attainment8"]), as_floats(pupils["prior_attainment"])
    year = pupils["year"].to_numpy(dtype="float64", na_value=np.nan)
    notes = []
    need = (pupils["key_stage"] == "KS4").to_numpy(dtype=bool, na_value=False) \
        & np.isnan(p8) & ~np.isnan(a8) & ~np.isnan(prior)
    blocked = need & np.isin(year, NO_P8_YEARS)
    if blocked.any():
        notes.append(f"no Progress 8 derived for {count(int(blocked.sum()), 'pupil')} in "
                     f"{sorted(set(year[blocked].astype(int).tolist()))}: those cohorts sat no KS2 tests, "
                     "so their prior attainment is not the DfE measure")
    need &= ~blocked
    for y in np.unique(year[need]).astype(int).tolist():
        rows = need & (year == y)
        est_year, _ = p8_estimates(y)
        p8[rows] = progress8_from(a8[rows], prior[rows], y)
        if est_year != y:
            notes.append(f"Progress 8 for {y} derived with the DfE {est_year - 1}/{str(est_year)[2:]} "
                         "estimates (the nearest available): an approximation of the published figure")
    if need.any() or "progress8" not in pupils.columns:
        pupils["progress8"] = pd.array(p8, dtype="Float64")  # NaN becomes <NA>
    return notes
