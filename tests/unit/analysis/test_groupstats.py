"""grouped_moments against pandas' own group-by, and exactness where it matters."""
import numpy as np
import pandas as pd
import pytest

from gaptools.analysis.groupstats import combine, grouped_moments


def _pandas_moments(groups, x, size):
    """count/mean/std by pandas, laid out like grouped_moments' arrays."""
    s = pd.Series(x)[groups >= 0]
    g = s.groupby(groups[groups >= 0])
    out = {k: np.full(size, np.nan) for k in ("count", "mean", "std")}
    out["count"][:] = 0
    for k in out:
        vals = getattr(g, k)()
        out[k][vals.index.to_numpy()] = vals.to_numpy()
    return out


def test_counts_means_and_sds_match_pandas_in_every_grouping():
    rng = np.random.default_rng(7)
    n = 5000
    school = rng.integers(0, 40, n)
    band = rng.integers(-1, 3, n)          # -1: not in the split
    values = [
        np.where(rng.random(n) < 0.1, np.nan, rng.normal(94, 5, n).round(1)),  # attendance-like
        np.where(rng.random(n) < 0.05, np.nan, rng.integers(0, 10, n).astype(float)),  # grades
        np.where(rng.random(n) < 0.2, np.nan, (rng.random(n) < 0.3).astype(float)),  # yes/no
        rng.normal(0, 1e-3, n) + 1e6,  # large offset, small spread
    ]
    blocks = [school, np.where(band >= 0, school * 3 + band, -1)]
    sizes = [40, 120]
    got = grouped_moments(blocks, sizes, values, exact_from=2)
    for (count, mean, sd), g, size in zip(got, blocks, sizes):
        for j, x in enumerate(values):
            want = _pandas_moments(g, x, size)
            np.testing.assert_array_equal(count[:, j], want["count"])
            np.testing.assert_allclose(mean[:, j], want["mean"], rtol=1e-12, equal_nan=True)
            np.testing.assert_allclose(sd[:, j], want["std"], rtol=1e-7, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("value", [0.1, 94.3, 100.0, -0.37, 1e6 + 0.1])
def test_a_constant_group_has_exactly_no_spread_and_exactly_its_value(value):
    rng = np.random.default_rng(1)
    n = 300
    groups = np.repeat(np.arange(3), 100)
    x = rng.normal(50, 10, n)
    x[100:200] = value  # group 1 constant, far from the column's mean
    x[250] = np.nan     # a missing value in another group changes nothing here
    for exact_from in (2, 6):
        (count, mean, sd), = grouped_moments([groups], [3], [x], exact_from=exact_from)
        assert count[1, 0] == 100
        assert mean[1, 0] == value  # exactly, not to rounding
        assert sd[1, 0] == 0.0
        assert sd[0, 0] == pytest.approx(np.std(x[:100], ddof=1), rel=1e-12)


def test_whole_numbers_sum_exactly():
    # 0/1 and grades: a group all 1 (or all 7) is exactly constant whatever the shift
    groups = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    flags = np.array([1, 1, 1, 0, 1, 0, np.nan, 1.0])
    grades = np.array([7, 7, 7, 3, 4, 5, 9, 9.0])
    (count, mean, sd), = grouped_moments([groups], [3], [flags, grades], whole=[True, False])
    assert list(count[:, 0]) == [3, 3, 1]
    assert mean[0, 0] == 1.0 and sd[0, 0] == 0.0
    assert mean[1, 0] == pytest.approx(1 / 3) and sd[1, 0] == pytest.approx(np.std([0, 1, 0], ddof=1))
    assert np.isnan(sd[2, 0])  # one pupil: no SD
    assert mean[0, 1] == 7.0 and sd[0, 1] == 0.0 and sd[2, 1] == 0.0
    assert sd[1, 1] == pytest.approx(1.0)


def test_empty_groups_give_no_figures():
    (count, mean, sd), = grouped_moments([np.array([0, 0, -1])], [2], [np.array([1.0, 2.0, 3.0])])
    assert list(count[:, 0]) == [2, 0]
    assert np.isnan(mean[1, 0]) and np.isnan(sd[1, 0])
    assert mean[0, 0] == 1.5


def test_combine_gives_one_id_per_distinct_combination():
    rng = np.random.default_rng(3)
    a, b, c = rng.integers(-1, 4, 1000), rng.integers(0, 3, 1000), rng.integers(0, 50, 1000)
    ids, first = combine(a, b, c)
    tuples = list(zip(a, b, c))
    assert len(first) == len(set(tuples))
    for i in range(0, 1000, 37):
        assert tuples[first[ids[i]]] == tuples[i]
    same = {}
    for t, i in zip(tuples, ids):
        assert same.setdefault(t, i) == i


def test_a_grouping_that_does_not_refine_the_first_is_refused():
    with pytest.raises(ValueError, match="does not refine"):
        grouped_moments([np.array([0, 0, 1, 1]), np.array([0, 1, 1, 0])], [2, 2], [np.arange(4.0) + 0.5])
