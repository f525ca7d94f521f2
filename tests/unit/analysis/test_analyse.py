"""The analyst's library: gaptools.analyse over the public API, checked against direct computations."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import gaptools


def _direct(pupils, school, year, measure, mask=None):
    """Disadvantaged and other pupils' n and mean of ``measure``, straight from the table."""
    p = pupils[(pupils.school_id == school) & (pupils.year == year)]
    if mask is not None:
        p = p[mask(p)]
    v = p[[measure, "disadvantaged"]].dropna()
    dis, oth = v[v.disadvantaged][measure].astype(float), v[~v.disadvantaged][measure].astype(float)
    return len(dis), dis.mean(), len(oth), oth.mean(), dis, oth


@pytest.mark.parametrize("threshold", [6, 15])
def test_any_split_at_any_threshold_equals_a_direct_computation(sample_pupils, threshold):
    """An analyst asks for the EAL split at another threshold: every shown row equals pandas on the raw table,
    the interval is Welch's; a group under the threshold is withheld, and so is the other level (else the
    cohort's total would give it back)."""
    a = gaptools.analyse(sample_pupils, "900103", splits=["eal"], threshold=threshold)
    rows = a.gaps[(a.gaps.comparison == "in_school") & a.gaps.subgroup.astype(str).str.startswith("eal=")
                  & (a.gaps.measure == "attainment8") & (a.gaps.year == 2025)]
    assert sorted(rows.subgroup) == ["eal=False", "eal=True"]
    direct = {flag: _direct(sample_pupils, "900103", 2025, "attainment8",
                            lambda p, flag=flag: p.eal.eq(flag).fillna(False).astype(bool)) for flag in (False, True)}
    small = {flag for flag, d in direct.items() if min(d[0], d[2]) < threshold}
    for _, r in rows.iterrows():
        flag = r.subgroup == "eal=True"
        n_d, m_d, n_o, m_o, dis, oth = direct[flag]
        if small:  # one level too small: withheld, and the other to protect it
            assert r.suppressed and pd.isna(r.gap) and r.withheld_reason == (
                "protects_another_group" if flag not in small else
                "too_few_disadvantaged" if n_d < threshold else "too_few_others")
            continue
        assert (r.n_disadvantaged, r.n_reference) == (n_d, n_o)
        assert r.mean_disadvantaged == pytest.approx(m_d) and r.gap == pytest.approx(m_o - m_d)
        welch = stats.ttest_ind(oth, dis, equal_var=False)
        low, high = welch.confidence_interval(0.95)
        assert (r.ci_low, r.ci_high) == (pytest.approx(low, rel=1e-6), pytest.approx(high, rel=1e-6))
    assert bool(small) == (threshold == 15)  # (900103 had 9 disadvantaged and 23 other EAL pupils in 2025)
    assert {"clear", "unit", "label", "trend", "withheld_reason"} <= set(a.gaps.columns)


def test_an_unknown_split_school_or_measure_names_what_there_is(sample_pupils):
    with pytest.raises(gaptools.AnalysisChoiceError) as err:
        gaptools.analyse(sample_pupils, "900101", splits=["bogus"])
    assert "'bogus'" in str(err.value) and "eal" in str(err.value) and "ethnicity" in str(err.value)
    with pytest.raises(gaptools.UnknownSchoolError) as err:
        gaptools.analyse(sample_pupils, "900109")
    assert isinstance(err.value, KeyError) and "900101" in str(err.value)
    with pytest.raises(gaptools.AnalysisChoiceError) as err:
        gaptools.analyse(sample_pupils, "900201", measures=["attainment8"])
    assert "rwm_expected" in str(err.value)


def test_two_schools_side_by_side_and_a_declared_measure(sample_pupils):
    """Two schools' headline gaps, and a measure of the analyst's own added to the table."""
    p = sample_pupils.copy()
    rng = np.random.default_rng(3)
    p["reading_age_gap"] = rng.normal(0, 12, len(p)) - 6 * p["disadvantaged"]
    p.attrs = dict(sample_pupils.attrs)
    p.attrs["gaptools_measures"] = {"reading_age_gap": gaptools.Measure(
        "reading_age_gap", "Reading age gap", "score", "months", True, None, True)}
    side = pd.concat([gaptools.analyse(p, s, year=2024, measures=["reading_age_gap", "attainment8"]).gaps
                      .assign(school=s) for s in ("900101", "900102")])
    whole = side[(side.comparison == "in_school") & side.subgroup.isna() & (side.year == 2024)]
    assert set(whole.measure) == {"reading_age_gap", "attainment8"} and set(whole.school) == {"900101", "900102"}
    for school in ("900101", "900102"):
        r = whole[(whole.measure == "reading_age_gap") & (whole.school == school)].iloc[0]
        n_d, m_d, n_o, m_o, _, _ = _direct(p, school, 2024, "reading_age_gap")
        assert (r.n_disadvantaged, r.n_reference) == (n_d, n_o)
        assert r.gap == pytest.approx(m_o - m_d) and r.label == "Reading age gap"
    assert side.year.max() == 2024  # as if 2025 were not yet in the data


def test_the_defaults_are_the_pages_analysis(sample_pupils, sample_results):
    """analyse() with its defaults is what every page and results.json show (analyse_school)."""
    from gaptools.analysis.results import results_dict

    a = gaptools.analyse(sample_pupils, "900103")
    assert results_dict(a.to_results()) == results_dict(sample_results["900103"])


def test_an_analysts_table_and_chart_from_the_analysis(sample_pupils):
    """gaptools.tables and gaptools.charts take the analysis' DataFrames as they are."""
    a = gaptools.analyse(sample_pupils, "900102", splits="eal")
    shown = gaptools.tables.gaps(a.gaps, subgroups="eal").data
    rows = a.gaps[(a.gaps.year == 2025) & (a.gaps.comparison == "in_school")
                  & a.gaps.subgroup.astype(str).str.startswith("eal=")]
    assert len(shown) == len(rows) and {"Gap (95% interval)", "What it means"} <= set(shown.columns)
    fig = gaptools.charts.gap_bars(rows[rows.measure == "attainment8"])
    assert fig.axes and fig.gaptools_title
