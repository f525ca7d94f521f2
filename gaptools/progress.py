"""Progress measures: DfE Progress 8 and trust-relative value added."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .groupstats import pack
from .measures import as_floats
from .reference import p8_estimates

#: Cohorts with no KS2 tests (summers 2020 and 2021 were cancelled): no P8.
NO_P8_YEARS = (2025, 2026)


def p8_group(prior: pd.Series | np.ndarray, estimates: pd.DataFrame) -> np.ndarray:
    """The DfE prior-attainment group (1-34) of each KS2 average scaled score.

    Scores sit on a half-point grid; a score between two groups' ranges goes to
    the nearer one.
    """
    idx = _group_row(prior, estimates)
    groups = estimates["group"].to_numpy(dtype=float)[np.maximum(idx, 0)]
    groups[idx < 0] = np.nan
    return groups


def _group_row(prior, estimates: pd.DataFrame) -> np.ndarray:
    """Row of ``estimates`` (sorted by group) for each prior score; -1 where unknown."""
    highs = estimates["ks2_high"].to_numpy(dtype=float) + 0.25
    values = as_floats(prior)
    idx = np.searchsorted(highs, values, side="left").clip(0, len(highs) - 1)
    idx[np.isnan(values)] = -1
    return idx


def progress8_from(attainment8, prior, year: int | None = None) -> np.ndarray:
    """Pupil P8 = (A8 - national average A8 of the pupil's prior group) / 10."""
    _, est = p8_estimates(year)
    idx = _group_row(prior, est)
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
        notes.append(f"no Progress 8 derived for {int(blocked.sum())} pupils in "
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
    same = reference is None or reference is pupils
    reference = pupils if reference is None else reference
    out = pd.DataFrame(index=pupils.index)
    if "prior_attainment" not in pupils.columns or "prior_attainment" not in reference.columns:
        return out
    _, est = p8_estimates(None)
    # one id per key stage, year and prior-attainment group, shared by both tables
    frames = [reference] if same else [reference, pupils]

    def joined(col):
        return frames[0][col] if same else pd.concat([f[col] for f in frames], ignore_index=True)

    ks, yr = pd.factorize(joined("key_stage"))[0], pd.factorize(joined("year"))[0]
    grp = np.concatenate([_group_row(f["prior_attainment"], est) for f in frames])
    key = pack(ks, yr, grp)
    key[(ks < 0) | (yr < 0) | (grp < 0)] = -1
    n_ref = len(reference)
    ref_key, own_key = key[:n_ref], (key[:n_ref] if same else key[n_ref:])
    slots = int(key.max(initial=-1)) + 2  # the last slot collects pupils with no group
    ref_slot, own_slot = np.where(ref_key < 0, slots - 1, ref_key), np.where(own_key < 0, slots - 1, own_key)
    for m in measures:
        if m not in pupils.columns or m not in reference.columns:
            continue
        y_ref = as_floats(reference[m])
        use = ~np.isnan(y_ref) & (ref_key >= 0)
        total = np.bincount(ref_slot[use], weights=y_ref[use], minlength=slots)
        count = np.bincount(ref_slot[use], minlength=slots)
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = np.where(count > 0, total / count, np.nan)
        expected[-1] = np.nan
        out[f"va_{m}"] = (y_ref if same else as_floats(pupils[m])) - expected[own_slot]
    return out
