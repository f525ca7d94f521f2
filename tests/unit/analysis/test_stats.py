"""Each interval and test against scipy/statsmodels or a hand computation."""
import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from gaptools.analysis import stats


def test_welch_matches_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(50, 12, 40), rng.normal(42, 18, 23)
    r = stats.welch(a.mean(), a.std(ddof=1), len(a), b.mean(), b.std(ddof=1), len(b))
    ref = sps.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert r["diff"] == pytest.approx(a.mean() - b.mean())
    assert r["p"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert r["low"] == pytest.approx(ci.low, rel=1e-9) and r["high"] == pytest.approx(ci.high, rel=1e-9)


def _wilson(x, n, z=1.959963984540054):
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_newcombe_by_hand_and_statsmodels():
    x1, n1, x2, n2 = 56, 70, 48, 80
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1)
    l2, u2 = _wilson(x2, n2)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    r = stats.proportion_diff(x1, n1, x2, n2)
    assert float(r["low"]) == pytest.approx(low, abs=1e-9)
    assert float(r["high"]) == pytest.approx(high, abs=1e-9)
    sm = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    assert float(r["low"]) == pytest.approx(sm[0]) and float(r["high"]) == pytest.approx(sm[1])


def test_hedges_g_by_hand():
    ma, sa, na, mb, sb, nb = 5.0, 1.5, 20, 4.0, 2.0, 12
    sp = np.sqrt(((na - 1) * sa ** 2 + (nb - 1) * sb ** 2) / (na + nb - 2))
    j = 1 - 3 / (4 * (na + nb) - 9)
    assert stats.hedges_g(ma, sa, na, mb, sb, nb) == pytest.approx(j * (ma - mb) / sp)


def test_p8_interval_uses_national_sd():
    r = stats.one_sample(-0.4, 1.0, 50, 0.16, known_sd=1.41628)
    half = 1.96 * 1.41628 / np.sqrt(50)
    assert r["diff"] == pytest.approx(0.56)
    assert r["high"] - r["diff"] == pytest.approx(half, rel=1e-3)


def test_proportion_vs_fixed_is_wilson_reflected():
    r = stats.proportion_vs_fixed(10, 40, 0.531)
    lo, hi = _wilson(10, 40)
    assert float(r["low"]) == pytest.approx(0.531 - hi) and float(r["high"]) == pytest.approx(0.531 - lo)


def test_bh_matches_statsmodels_per_family():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.2, 60) ** 2
    fam = rng.integers(0, 4, 60)
    p[[5, 17]] = np.nan
    q = stats.bh_qvalues(p, fam)
    for f in range(4):
        sel = (fam == f) & ~np.isnan(p)
        expected = multipletests(p[sel], method="fdr_bh")[1]
        np.testing.assert_allclose(q[sel], expected, rtol=1e-12)
    assert np.isnan(q[[5, 17]]).all()
