"""Withhold figures for small groups, so that no pupil can be picked out.

Primary suppression withholds any figure about a group smaller than the
threshold (default 6; DfE withholds groups of 5 or fewer). Secondary
(complementary) suppression then withholds a second cell wherever one cell of
a split (e.g. sex=F / sex=M) is withheld but the whole-cohort figure is shown,
since the withheld one could otherwise be recovered from the whole and the
rest (n_total * mean_total = sum of n_i * mean_i). :func:`gaptools.gap_table`
applies :func:`withheld` to its rows before working out any interval.
"""
from __future__ import annotations

import numpy as np

DEFAULT_THRESHOLD = 6


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
