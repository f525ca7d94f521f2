"""Vectorised interval estimates for gaps, over arrays of groups at once.

Every function takes NumPy arrays (one element per comparison) so that a whole
trust, or a whole country, is one call. Intervals are 95% unless ``level`` says
otherwise. The formulas are the textbook ones; the tests check each against
scipy and statsmodels.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# scipy.special (0.4 s) and statsmodels (with the scipy.stats it loads, another 0.6 s) are imported
# where a figure is computed: a process that only reads results (the batch runner) never needs them.


def _z(level: float) -> float:
    from scipy import special

    return float(special.ndtri(0.5 + level / 2))


def welch(mean_a, sd_a, n_a, mean_b, sd_b, n_b, level: float = 0.95):
    """Welch interval and test for ``mean_a - mean_b``.

    Returns
    -------
    dict of arrays
        ``diff``, ``se``, ``df``, ``low``, ``high``, ``p``.
    """
    from scipy import special

    mean_a, sd_a, n_a, mean_b, sd_b, n_b = map(lambda x: np.asarray(x, dtype=float),
                                               (mean_a, sd_a, n_a, mean_b, sd_b, n_b))
    va, vb = sd_a ** 2 / n_a, sd_b ** 2 / n_b
    se = np.sqrt(va + vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (va + vb) ** 2 / (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1))
        diff = mean_a - mean_b
        # scipy.special's Student t functions: the same numbers as scipy.stats.t, without
        # its per-call argument checking (hundreds of thousands of rows at national scale)
        tcrit = special.stdtrit(df, 0.5 + level / 2)
        t = diff / se
        p = 2 * special.stdtr(df, -np.abs(t))
    # identical constant groups: no spread, no evidence of a difference
    flat = se == 0
    p = np.where(flat, np.where(diff == 0, 1.0, 0.0), p)
    return {"diff": diff, "se": se, "df": df, "low": diff - tcrit * se, "high": diff + tcrit * se, "p": p}


def one_sample(mean, sd, n, reference, level: float = 0.95, known_sd=None):
    """Interval and test for ``reference - mean`` where ``reference`` is a fixed (national) figure.

    With ``known_sd`` (the national pupil-level SD, as the DfE uses for Progress 8)
    the interval is ``± z * known_sd / sqrt(n)``; otherwise Student's t with the
    sample SD.
    """
    from scipy import special

    mean, sd, n, reference = map(lambda x: np.asarray(x, dtype=float), (mean, sd, n, reference))
    diff = reference - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        if known_sd is not None:
            se = np.asarray(known_sd, dtype=float) / np.sqrt(n)
            crit = _z(level)
            p = 2 * special.ndtr(-np.abs(diff / se))
        else:
            se = sd / np.sqrt(n)
            crit = special.stdtrit(n - 1, 0.5 + level / 2)
            p = 2 * special.stdtr(n - 1, -np.abs(diff / se))
    return {"diff": diff, "se": se, "low": diff - crit * se, "high": diff + crit * se, "p": p}


def proportion_diff(count_a, n_a, count_b, n_b, level: float = 0.95):
    """Newcombe's hybrid score interval (Wilson-based) for ``p_a - p_b``, and a score test.

    Returns
    -------
    dict of arrays
        ``diff``, ``se`` (from the interval's width, for trend arithmetic),
        ``low``, ``high``, ``p``.
    """
    from scipy import special
    from statsmodels.stats.proportion import confint_proportions_2indep

    count_a, n_a, count_b, n_b = map(lambda x: np.asarray(x, dtype=float), (count_a, n_a, count_b, n_b))
    with np.errstate(all="ignore"):  # empty groups give NaN, later withheld
        low, high = confint_proportions_2indep(count_a, n_a, count_b, n_b, method="newcomb",
                                               compare="diff", alpha=1 - level)
    pa, pb = count_a / n_a, count_b / n_b
    pooled = (count_a + count_b) / (n_a + n_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (pa - pb) / np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
        p = 2 * special.ndtr(-np.abs(z))
    p = np.where(np.isnan(z) & (pa == pb), 1.0, p)
    se = (np.asarray(high) - np.asarray(low)) / (2 * _z(level))
    return {"diff": pa - pb, "se": se, "low": np.asarray(low), "high": np.asarray(high), "p": p}


def proportion_vs_fixed(count, n, reference, level: float = 0.95):
    """Interval for ``reference - p`` with a fixed (national) ``reference``: Wilson interval of p."""
    from scipy import special
    from statsmodels.stats.proportion import proportion_confint

    count, n, reference = map(lambda x: np.asarray(x, dtype=float), (count, n, reference))
    with np.errstate(all="ignore"):
        lo, hi = proportion_confint(count, n, alpha=1 - level, method="wilson")
    p_hat = count / n
    with np.errstate(divide="ignore", invalid="ignore"):
        se0 = np.sqrt(reference * (1 - reference) / n)
        p = 2 * special.ndtr(-np.abs((p_hat - reference) / se0))
    low, high = reference - np.asarray(hi), reference - np.asarray(lo)
    return {"diff": reference - p_hat, "se": (high - low) / (2 * _z(level)), "low": low, "high": high, "p": p}


def hedges_g(mean_a, sd_a, n_a, mean_b, sd_b, n_b):
    """Hedges' g for ``mean_a - mean_b`` (pooled SD, small-sample corrected)."""
    mean_a, sd_a, n_a, mean_b, sd_b, n_b = map(lambda x: np.asarray(x, dtype=float),
                                               (mean_a, sd_a, n_a, mean_b, sd_b, n_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = np.sqrt(((n_a - 1) * sd_a ** 2 + (n_b - 1) * sd_b ** 2) / (n_a + n_b - 2))
        j = 1 - 3 / (4 * (n_a + n_b) - 9)
        return j * (mean_a - mean_b) / pooled


def bh_qvalues(p: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values, within each family in ``groups``.

    The same numbers as ``statsmodels.stats.multitest.multipletests(p,
    method='fdr_bh')[1]`` family by family, computed in one vectorised pass
    (thousands of families in a trust or national run). NaN p-values are not
    counted in a family and stay NaN.
    """
    p = np.asarray(p, dtype=float)
    groups = np.zeros(len(p), dtype=np.int64) if groups is None else np.asarray(groups)
    if groups.dtype.kind in "iu" and len(groups) and groups.min() >= 0 and groups.max() < 4 * len(groups):
        gid = groups.astype(np.int64, copy=False)  # usable as they are
    else:
        gid = pd.factorize(groups)[0]
    q = np.full(len(p), np.nan)
    ok = ~np.isnan(p)
    if not ok.any():
        return q
    idx = np.flatnonzero(ok)
    g, pv = gid[idx], p[idx]
    order = np.argsort(-pv)  # largest p first (order among ties does not change q)
    g_o, p_o = g[order], pv[order]
    m = np.bincount(g_o)                     # family sizes
    by_family = pd.Series(p_o).groupby(g_o, sort=False)
    rank = m[g_o] - by_family.cumcount().to_numpy()  # rank among ascending p in the family
    adj = p_o * m[g_o] / rank
    # running minimum from the largest p downwards, restarting in each family
    out = pd.Series(adj).groupby(g_o, sort=False).cummin().to_numpy()
    q_sorted = np.minimum(out, 1.0)
    q[idx[order]] = q_sorted
    return q
