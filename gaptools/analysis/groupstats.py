"""Count, mean and SD of many measures in many groupings, from one pass over the pupils.

A gap table needs, for every school, key stage and year, the count, mean and
SD of each measure for disadvantaged and other pupils: for the whole cohort,
then again within each level of every split (prior band, sex, SEN, ...). That
is one group-by per split over a national cohort. Here every grouping is a
block of rows in one sparse 0/1 matrix with a column per pupil, so three
products, with ``present``, ``x - k`` and ``(x - k)^2``, give every count and
sum of every measure in every grouping at once.

Accuracy: the sums are shifted by ``k`` (0 for whole-number measures such as
grades and yes/no measures, whose sums are then exact; otherwise the mean of
the pupil's group in the first grouping, e.g. the school's disadvantaged
pupils, which every later grouping refines). A group whose values look
constant after that arithmetic is checked directly, so that a constant group
has SD exactly 0 and mean exactly its value, as a two-pass computation gives:
the statistics downstream treat a group with no spread at all specially.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

#: Largest magnitude for which sums of squares of whole numbers stay exact in float64
#: for any realistic cohort (2^20 squared times a million pupils < 2^53).
_EXACT_LIMIT = 2.0 ** 20
#: A variance this small relative to the shifted sum of squares may be rounding
#: error: such groups are re-checked directly.
_RECHECK = 1e-10


def codes(values) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (``-1`` for missing) and the distinct values, in order of appearance."""
    c, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(c, dtype=np.int64), np.asarray(uniques, dtype=object)


def pack(*code_arrays) -> np.ndarray:
    """Non-negative integer keys equal exactly where all the code arrays are equal.

    Cheaper than :func:`combine` where only equality matters (bincount and
    friends): the codes are packed arithmetically, and only made dense when
    the packed range would be much larger than the number of rows.
    """
    n = len(code_arrays[0])
    key = np.zeros(n, dtype=np.int64)
    bound = 1
    for c in code_arrays:
        c = np.asarray(c, dtype=np.int64) + 1
        width = int(c.max(initial=0)) + 1
        if bound * width > max(8 * n, 1 << 20):
            key = pd.factorize(key)[0].astype(np.int64)
            bound = int(key.max(initial=0)) + 1
        key = key * width + c
        bound *= width
    return key


def combine(*code_arrays) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids of the distinct combinations of several code arrays, and one row of each.

    Returns
    -------
    (ids, first)
        ``ids[i]`` is the combination of row ``i`` (0, 1, ... in order of first
        appearance); ``first[j]`` a row holding combination ``j``.
    """
    ids = pd.factorize(pack(*code_arrays))[0].astype(np.int64)
    first = np.empty(int(ids.max(initial=-1)) + 1, dtype=np.int64)
    first[ids[::-1]] = np.arange(len(ids))[::-1]  # any member would do: all share the key
    return ids, first


def grouped_moments(blocks: list[np.ndarray], sizes: list[int], columns: list[np.ndarray], *,
                    whole: list[bool] | None = None, exact_from: int = 2
                    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Count, mean and SD (ddof=1) of every column in every group of every grouping.

    Parameters
    ----------
    blocks : list of int arrays
        One per grouping, each with one element per pupil: the pupil's group
        in that grouping (``0 .. size - 1``), or ``-1`` where the pupil is in
        none of its groups. Every later grouping must refine the first (its
        groups lie inside the first grouping's groups), as subgroups of a
        school's disadvantaged and other pupils do.
    sizes : list of int
        The number of groups in each grouping.
    columns : list of float arrays
        One per measure, one element per pupil, NaN where a pupil has no value.
    whole : list of bool, optional
        Columns known to hold whole numbers only (typed integer or yes/no
        columns); found by looking where not given.
    exact_from : int, default 2
        Smallest group whose constancy is confirmed exactly (smaller groups
        are withheld by the caller anyway; their figures are still accurate
        to rounding).

    Returns
    -------
    list of (count, mean, sd)
        One triple per grouping, each array of shape ``(size, measures)``.
        Count 0 gives mean and SD NaN; count 1 gives SD NaN.
    """
    n_measures = len(columns)
    n = len(blocks[0])
    n_blocks = len(blocks)
    starts = np.cumsum([0] + [s + 1 for s in sizes])  # one spare row a block for "in none"
    rows = np.empty((n, n_blocks), dtype=np.int64)
    for b, (g, size) in enumerate(zip(blocks, sizes)):
        rows[:, b] = np.where(g < 0, starts[b] + size, starts[b] + g)
    # every pupil is in exactly one row of every block: a CSC matrix built directly
    indicator = sparse.csc_matrix((np.ones(n * n_blocks), rows.ravel(), np.arange(0, n * n_blocks + 1, n_blocks)),
                                  shape=(int(starts[-1]), n))
    del rows
    present = np.empty((n, n_measures), order="F")
    d = np.empty((n, n_measures), order="F")
    # each pupil's values are shifted by the mean of their group in the first grouping
    # (the one the others refine), so every sum stays small beside the spread it measures
    base = np.where(blocks[0] < 0, sizes[0], blocks[0])
    shifts = np.zeros((sizes[0] + 1, n_measures))
    exact = np.zeros(n_measures, dtype=bool)
    for j, x in enumerate(columns):
        x = np.asarray(x, dtype=np.float64)
        missing = np.isnan(x)
        present[:, j] = ~missing
        filled = np.where(missing, 0.0, x)
        if whole is not None and whole[j]:
            exact[j] = True
        else:
            exact[j] = bool(np.all(filled == np.round(filled)) and np.all(np.abs(filled) < _EXACT_LIMIT))
        if exact[j]:  # whole numbers: unshifted sums are exact
            d[:, j] = filled
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            shifts[:, j] = np.nan_to_num(np.bincount(base, weights=filled, minlength=sizes[0] + 1)
                                         / np.bincount(base, weights=~missing, minlength=sizes[0] + 1))
        np.subtract(x, shifts[base, j], out=d[:, j])
        d[missing, j] = 0.0
    count = indicator @ present
    del present
    s1 = indicator @ d
    # a group's shift: any member's (all members of a group share one group of the first grouping)
    shift = np.zeros((int(starts[-1]), n_measures))
    for b, g in enumerate(blocks):
        inside = g >= 0
        owner = np.full(sizes[b], sizes[0], dtype=np.int64)  # empty groups: no figures anyway
        owner[g[inside]] = base[inside]
        if not np.array_equal(owner[g[inside]], base[inside]):
            raise ValueError(f"grouping {b} does not refine the first grouping")
        shift[starts[b]:starts[b] + sizes[b]] = shifts[owner]
    np.multiply(d, d, out=d)
    s2 = indicator @ d
    del d
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = shift + s1 / count
        m2 = np.maximum(s2 - s1 * s1 / count, 0.0)
        sd = np.sqrt(m2 / (count - 1))
    mean[count == 0] = np.nan
    sd[count < 2] = np.nan
    recheck = ~exact[None, :] & (count >= max(exact_from, 2)) & (s2 > 0) & (m2 <= _RECHECK * s2)
    out = []
    for b, (g, size) in enumerate(zip(blocks, sizes)):
        lo, hi = starts[b], starts[b] + size
        c, m, s = count[lo:hi], mean[lo:hi], sd[lo:hi]
        for j in np.flatnonzero(recheck[lo:hi].any(axis=0)).tolist():
            _recheck(g, np.asarray(columns[j], dtype=np.float64), np.flatnonzero(recheck[lo:hi, j]),
                     m[:, j], s[:, j])
        out.append((c, m, s))
    return out


def _recheck(groups: np.ndarray, x: np.ndarray, suspects: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> None:
    """Recompute, directly from the pupils, groups whose spread may be lost in rounding (in place).

    A group is constant when every value equals one of its members; otherwise
    its mean and SD are computed in two passes.
    """
    flagged = np.zeros(len(mean) + 1, dtype=bool)  # the last slot stands for "in no group"
    flagged[suspects] = True
    rows = np.flatnonzero(flagged[np.where(groups < 0, len(mean), groups)] & ~np.isnan(x))
    g, v = groups[rows], x[rows]
    member = np.empty(len(mean))
    member[g] = v
    n = np.bincount(g, minlength=len(mean))[suspects]
    differ = np.bincount(g, weights=(v != member[g]).astype(float), minlength=len(mean))[suspects]
    avg = np.bincount(g, weights=v, minlength=len(mean)) / np.maximum(np.bincount(g, minlength=len(mean)), 1)
    ss = np.bincount(g, weights=(v - avg[g]) ** 2, minlength=len(mean))[suspects]
    constant = differ == 0
    mean[suspects] = np.where(constant, member[suspects], avg[suspects])
    sd[suspects] = np.where(constant, 0.0, np.sqrt(ss / (n - 1)))
