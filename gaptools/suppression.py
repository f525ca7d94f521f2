"""Withhold figures for small groups, so that no pupil can be picked out.

Primary suppression withholds any figure about a group smaller than the
threshold (default 6; DfE withholds groups of 5 or fewer). Secondary
(complementary) suppression then withholds a second cell wherever one cell of
a split (e.g. sex=F / sex=M) is withheld but the whole-cohort figure is shown,
since the withheld one could otherwise be recovered from the whole and the
rest (n_total * mean_total = sum of n_i * mean_i).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_THRESHOLD = 6
#: Figures nulled in a withheld row of a gap table.
WITHHELD = ("n_disadvantaged", "n_reference", "mean_disadvantaged", "mean_reference", "gap",
            "ci_low", "ci_high", "significant")
WITHHELD_DETAIL = ("sd_disadvantaged", "sd_reference", "se", "p_value", "q_value",
                   "effect_size", "clear")


def group_ids(*columns) -> np.ndarray:
    """Dense integer ids of the distinct combinations of ``columns`` (fast at scale)."""
    ids = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        codes, uniques = pd.factorize(np.asarray(col))
        ids = ids * (len(uniques) + 1) + codes
        ids = pd.factorize(ids)[0].astype(np.int64)
    return ids


def withheld(n_dis, n_ref, cell, split, whole, is_sub, threshold: int = DEFAULT_THRESHOLD,
             order=None) -> np.ndarray:
    """Which rows of a gap table to withhold (primary and complementary suppression).

    Parameters
    ----------
    n_dis, n_ref : float arrays
        Group sizes (``n_ref`` NaN where the reference is a national figure).
    cell : int array
        The same id for rows about the same pupils (one school, year, measure
        and subgroup, whatever the comparison).
    split : int array
        The same id for the subgroup rows of one split of one comparison.
    whole : int array
        The same id for the rows of one comparison (whole cohort and subgroups).
    is_sub : bool array
        Subgroup rows (False: the whole-cohort row).
    threshold : int
        Smallest group shown.
    order : int array, optional
        Which of equally small cells to withhold second (lowest first; default row order).

    Returns
    -------
    bool array
    """
    n_dis = np.asarray(n_dis, dtype=float)
    n_ref = np.asarray(n_ref, dtype=float)
    cell, split, whole = (np.asarray(a, dtype=np.int64) for a in (cell, split, whole))
    is_sub = np.asarray(is_sub, dtype=bool)
    small = (n_dis < threshold) | (~np.isnan(n_ref) & (n_ref < threshold))
    if not len(small):
        return small

    def spread(flags, ids):
        """Any flag within a group, given back to every member."""
        return np.bincount(ids, weights=flags.astype(float), minlength=ids.max() + 1)[ids] > 0

    # the in-school row's reference group also stands behind the national row of the same cell
    small = spread(small, cell)
    if is_sub.any():
        whole_small = np.zeros(whole.max() + 1, dtype=bool)
        whole_small[whole[~is_sub]] = small[~is_sub]
        n_small = np.bincount(split, weights=(small & is_sub).astype(float))[split]
        need = is_sub & (n_small == 1) & ~whole_small[whole] & ~small
        if need.any():
            # withhold the next smallest cell of the split, so the first cannot be derived
            size = np.fmin(n_dis, np.where(np.isnan(n_ref), np.inf, n_ref))
            idx = np.flatnonzero(need)
            rank = np.arange(len(small)) if order is None else np.asarray(order)
            by = np.lexsort((rank[idx], size[idx], split[idx]))
            picked = idx[by]
            first = np.r_[True, split[picked][1:] != split[picked][:-1]]
            small[picked[first]] = True
            small = spread(small, cell)
    return small


def suppress_gaps(table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Mark and blank the rows of a gap table that would disclose a small group.

    Rows are withheld when either group has fewer than ``threshold`` pupils,
    in every comparison that shows that group, then complementary cells are
    withheld within each split (see :func:`withheld`).
    """
    t = table.reset_index(drop=True)
    n_dis = t["n_disadvantaged"].to_numpy(dtype=float, na_value=np.nan)
    n_ref = t["n_reference"].to_numpy(dtype=float, na_value=np.nan)
    sub = t["subgroup"].fillna("")
    codes, uniques = pd.factorize(sub)
    split = np.array([u.split("=", 1)[0] for u in uniques], dtype=object)[codes]
    base_id = group_ids(t["school_id"], t["key_stage"], t["year"], t["measure"])
    comp_id = group_ids(t["comparison"])
    small = withheld(n_dis, n_ref, group_ids(base_id, sub), group_ids(base_id, comp_id, split),
                     group_ids(base_id, comp_id), (sub != "").to_numpy(), threshold)
    return blank_withheld(t, small)


def blank_withheld(t: pd.DataFrame, small: np.ndarray) -> pd.DataFrame:
    """Set ``suppressed`` and null every figure of the withheld rows (in place; returns ``t``)."""
    t["suppressed"] = small
    cols = [c for c in (*WITHHELD, *WITHHELD_DETAIL) if c in t.columns]
    for c in cols:
        if t[c].dtype == bool:
            t[c] = t[c].astype("boolean")
        t.loc[small, c] = None
    return t
