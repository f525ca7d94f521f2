"""The in-school rows of a gap table: each pupil's unit and split level, and both groups' count, mean and SD.

A unit is one school, key stage and year; every split (``prior_band``,
``sex``, ...) repeats the whole cohort's rows within each of its levels. All
units, splits and measures are grouped in one pass
(:func:`gaptools.analysis.groupstats.grouped_moments`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.measures import prior_band_codes
from ..domain.registry import attendance_measures
from .groupstats import codes, combine, grouped_moments

#: Measures not split by attendance (the split would be circular).
ATTENDANCE_MEASURES = attendance_measures()


def split_levels(frame: pd.DataFrame, split: str) -> tuple[np.ndarray, list[str]] | None:
    """Each pupil's level of a split (-1 where unknown) and the levels' names; None if absent."""
    if split == "prior_band" and "prior_attainment" in frame.columns:
        return prior_band_codes(frame["prior_attainment"])
    if split not in frame.columns:
        return None
    c, uniques = codes(frame[split])
    return c, [str(u) for u in uniques]


def units_of(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One unit per school, key stage and year: each pupil's unit, and each unit's school, key stage and year."""
    school, school_names = codes(frame["school_id"])
    ks, ks_names = codes(frame["key_stage"])
    yr, yr_values = codes(frame["year"])
    unit, first = combine(school, ks, yr)
    unit_school = np.array([str(v) for v in school_names[school[first]]], dtype=object)
    unit_ks = np.array([str(v) for v in ks_names[ks[first]]], dtype=object)
    return unit, unit_school, unit_ks, yr_values[yr[first]].astype(np.int64)


def group_rows(frame, by_unit, n_units, names, values, whole, subgroups, threshold
               ) -> tuple[dict[str, np.ndarray], list[str | None]]:
    """Count, mean and SD of both groups for every unit, subgroup and measure with any pupil.

    Returns the in-school rows (arrays ``unit``, ``block`` (0 whole cohort, then
    one per split), ``label`` (index into the returned subgroup texts),
    ``measure``, ``n_ref``, ``n_dis``, ``mean_ref``, ``mean_dis``, ``sd_ref``,
    ``sd_dis``) and the subgroup texts (None for the whole cohort).
    """
    n_measures = len(names)
    # grouping 0: whole cohort; then one grouping per split, levels within each unit
    blocks, sizes, split_names = [by_unit], [2 * n_units], [None]
    level_names: list[list] = [[None]]  # each grouping's level texts ([None]: the whole cohort)
    for split in subgroups:
        got = split_levels(frame, split)
        if got is None or not got[1]:
            continue
        level, levels = got
        blocks.append(np.where(level >= 0, by_unit * len(levels) + level, -1))
        sizes.append(2 * n_units * len(levels))
        split_names.append(split)
        level_names.append(levels)
    moments = grouped_moments(blocks, sizes, values, whole=whole, exact_from=threshold)
    del blocks

    labels: list[str | None] = []  # subgroup text of every (grouping, level)
    rows: dict[str, list] = {k: [] for k in ("unit", "block", "label", "measure", "n_ref", "n_dis",
                                             "mean_ref", "mean_dis", "sd_ref", "sd_dis")}
    not_attendance = ~np.isin(names, ATTENDANCE_MEASURES)
    for b, ((count, mean, sd), split, levels) in enumerate(zip(moments, split_names, level_names)):
        shape = (n_units, 2, len(levels), n_measures)
        count, mean, sd = (a.reshape(shape) for a in (count, mean, sd))
        shown = count[:, 0] + count[:, 1] > 0
        if split in ATTENDANCE_MEASURES:  # attendance split by attendance would be circular
            shown &= not_attendance
        u, lv, m = np.nonzero(shown)
        rows["unit"].append(u)
        rows["block"].append(np.full(len(u), b))
        rows["label"].append(len(labels) + lv)
        rows["measure"].append(m)
        for key, arr, flag in (("n_ref", count, 0), ("n_dis", count, 1), ("mean_ref", mean, 0),
                               ("mean_dis", mean, 1), ("sd_ref", sd, 0), ("sd_dis", sd, 1)):
            rows[key].append(arr[u, flag, lv, m])
        labels += [None] if split is None else [f"{split}={v}" for v in levels]
    return {k: np.concatenate(v) for k, v in rows.items()}, labels
