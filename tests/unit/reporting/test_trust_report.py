"""The trust page's derived numbers, checked against the pupil data directly."""
import numpy as np
import pytest

import gaptools
from gaptools.analysis.trust import pupil_sd as _pupil_sd


@pytest.fixture(scope="module")
def trust(sample_pupils):
    return gaptools.TrustReport(sample_pupils)


def test_pupil_sd_recovered_from_intervals_matches_the_data(trust, sample_pupils):
    # results.json keeps intervals, not SDs: the SD the trust page recovers from them
    # must agree with the pooled SD of the pupils themselves
    g = trust.gaps
    row = g[(g.school_id == "900101") & (g.year == 2025) & (g.measure == "attainment8")
            & (g.comparison == "in_school") & g.subgroup.isna()]
    rows = sample_pupils[(sample_pupils.school_id == "900101") & (sample_pupils.year == 2025)]
    d = rows.loc[rows.disadvantaged, "attainment8"].astype(float)
    o = rows.loc[~rows.disadvantaged, "attainment8"].astype(float)
    pooled = np.sqrt(((len(d) - 1) * d.var() + (len(o) - 1) * o.var()) / (len(d) + len(o) - 2))
    assert float(_pupil_sd(row).iloc[0]) == pytest.approx(pooled, rel=0.05)


def test_support_table_lists_exactly_the_schools_with_a_concern(trust):
    # Saint Émile's (no real gap) and Little Brook (too few disadvantaged pupils) have none
    from gaptools.reporting.display import Table

    table = next(p for p in trust.support_table() if isinstance(p, Table)).data
    assert set(table["School"]) == {"Hillcrest High School", "Northfield Academy", "Oakwood Primary School",
                                    "Riverside School"}
    assert table["School"].iloc[0] == "Hillcrest High School"  # the planted widening gap, standing out
    assert table["Concerns"].is_monotonic_decreasing
    assert table["Rank"].tolist() == list(range(1, len(table) + 1))
    assert table["Why"].str.len().gt(0).all()


def test_funnel_flags_the_widening_school_and_says_which_way(trust):
    titles = [c.title for c in trust.funnel()]
    assert any("Hillcrest High School stands out: its gap is larger than the trust's" in t for t in titles), titles


def test_long_trust_tables_fold_after_their_first_rows_widening_gaps_first(trust, monkeypatch):
    """At hundreds of schools the overview's tables would run to thousands of pixels: each shows its first
    rows and folds the rest (a printed overview opens them); the trends table puts widening gaps first."""
    from gaptools.reporting import trust as trust_module
    from gaptools.reporting.summary import Folded

    g = trust._latest()
    moving = g[g["trend"].isin(["closing", "widening"])]
    assert moving["trend"].nunique() == 2  # the sample has both: the order is tested
    monkeypatch.setattr(trust_module, "LONG_TABLE", 3)
    table = trust.trends_table()
    assert isinstance(table, Folded) and table.keep == 3 and len(table.data) == len(moving)
    verdicts = table.data["Verdict"].str.startswith("widening").tolist()
    assert verdicts == sorted(verdicts, reverse=True) and 0 < sum(verdicts) < len(verdicts)  # widening first
    html = table._repr_html_()
    assert f"Show {len(moving) - 3} more changes" in html
    schools = [p for p in trust.schools_table() if isinstance(p, Folded)][0]
    assert len(schools.data) == g.groupby(["school_id", "key_stage"]).ngroups
