import numpy as np
import pandas as pd
import pytest

import gaptools


def test_profile_counts_match_crosstab(sample_pupils):
    prof = gaptools.cohort_profile(sample_pupils, school_id="900101", year=2024)
    rows = sample_pupils[(sample_pupils.school_id == "900101") & (sample_pupils.year == 2024)]
    xt = pd.crosstab(rows.sen.astype(str), rows.disadvantaged.astype(bool))
    sen = prof[prof.characteristic == "sen"].set_index(["value", "group"])
    codes = {"no SEN": "N", "SEN support": "K", "EHC plan": "E"}
    shown = sen[~sen.suppressed]
    assert len(shown) >= 2
    for (value, group), row in shown.iterrows():
        dis = group == "disadvantaged"
        assert row.n == xt.loc[codes[value], dis]
        assert row.pct == pytest.approx(xt.loc[codes[value], dis] / xt[dis].sum())
    allr = prof[prof.characteristic == "all"].set_index("group")
    assert allr.loc["disadvantaged", "n"] == rows.disadvantaged.astype(bool).sum()


def test_profile_small_counts_withheld_with_a_complement(sample_pupils):
    # the profile on its own (no gap table beside it, whose rates would give some counts away)
    prof = gaptools.cohort_profile(sample_pupils, gaps=False)
    shown = prof[~prof.suppressed]
    assert not ((shown.n > 0) & (shown.n < 6)).any()
    totals = prof[prof.characteristic == "all"].set_index(["school_id", "key_stage", "year", "group"])["suppressed"]
    for key, cells in prof[prof.characteristic != "all"].groupby(
            ["school_id", "key_stage", "year", "characteristic", "group"]):
        total_withheld = totals[(key[0], key[1], key[2], key[4])]
        # a lone withheld cell is recoverable from a shown total
        assert cells.suppressed.sum() != 1 or total_withheld, key


def test_trend_change_and_interval_by_hand(sample_pupils):
    g = gaptools.gap_table(sample_pupils, school_id="900102", measures=["attainment8"], detail=True,
                           subgroups=())
    tr = gaptools.gap_trends(g)
    row = tr[(tr.comparison == "in_school") & (tr.span == "first_to_last")].iloc[0]
    a = g[(g.year == 2023) & (g.comparison == "in_school")].iloc[0]
    b = g[(g.year == 2025) & (g.comparison == "in_school")].iloc[0]
    se = np.sqrt(a.se ** 2 + b.se ** 2)
    assert row.change == pytest.approx(b.gap - a.gap)
    assert row.ci_low == pytest.approx(b.gap - a.gap - 1.959964 * se, rel=1e-5)
    assert row.direction == "closing"


def test_trend_withheld_years_have_no_direction(sample_pupils):
    g = gaptools.gap_table(sample_pupils, school_id="900202", detail=True, subgroups=())
    tr = gaptools.gap_trends(g)
    assert tr[(tr.year_from == 2023) | (tr.year_to == 2024)].direction.isna().all()
