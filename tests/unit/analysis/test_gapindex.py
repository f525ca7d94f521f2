"""The DfE gap index: properties (hypothesis) and the rank formula."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import mannwhitneyu

from gaptools.analysis.gapindex import index_value

scores = st.lists(st.integers(0, 18), min_size=1, max_size=40)


@given(scores)
def test_identical_distributions_give_zero(values):
    both = values + values
    dis = [True] * len(values) + [False] * len(values)
    assert index_value(both, dis) == pytest.approx(0, abs=1e-12)


@given(st.lists(st.integers(0, 50), min_size=1, max_size=30), st.lists(st.integers(51, 100), min_size=1, max_size=30))
def test_complete_separation_gives_ten(low, high):
    assert index_value(low + high, [True] * len(low) + [False] * len(high)) == pytest.approx(10)


@given(scores, scores, st.integers(2, 5))
@settings(max_examples=60)
def test_independent_of_disadvantaged_share(dis_vals, oth_vals, k):
    base = index_value(dis_vals + oth_vals, [True] * len(dis_vals) + [False] * len(oth_vals))
    more = index_value(dis_vals * k + oth_vals, [True] * (len(dis_vals) * k) + [False] * len(oth_vals))
    assert more == pytest.approx(base, abs=1e-9)


@given(scores, scores)
def test_equals_twenty_times_auc_minus_half(dis_vals, oth_vals):
    u = mannwhitneyu(oth_vals, dis_vals).statistic  # pairs (other > disadvantaged), ties half
    auc = u / (len(oth_vals) * len(dis_vals))
    got = index_value(dis_vals + oth_vals, [True] * len(dis_vals) + [False] * len(oth_vals))
    assert got == pytest.approx(20 * (auc - 0.5), abs=1e-9)


def test_by_hand_with_ties():
    # scores 1,2,2,3 ; disadvantaged = 1 and one of the 2s. ranks 1, 2.5, 2.5, 4 (N=4)
    got = index_value([1, 2, 2, 3], [True, True, False, False])
    assert got == pytest.approx(20 * (((2.5 + 4) / 2) / 4 - ((1 + 2.5) / 2) / 4))


def test_school_table_and_suppression(sample_pupils):
    import gaptools

    gi = gaptools.gap_index(sample_pupils, reference="school")
    row = gi[(gi.school_id == "900101") & (gi.year == 2024)].iloc[0]
    rows = sample_pupils[(sample_pupils.school_id == "900101") & (sample_pupils.year == 2024)]
    score = (rows.grade_english.astype(float) + rows.grade_maths.astype(float)) / 2
    ok = score.notna()
    assert row.value == pytest.approx(index_value(score[ok], rows.disadvantaged[ok]))
    assert row.national == pytest.approx(3.92)
    small = gi[(gi.school_id == "900202") & (gi.year.isin([2023, 2024]))]
    assert small.suppressed.all() and small.value.isna().all()
