"""National comparisons: each national group on file, named, from the shipped figures.

Expected figures are the DfE's published ones (shared/domain.md, "Published
since"), typed here by hand, and intervals are recomputed with scipy and
statsmodels.
"""
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

import gaptools
from gaptools.analysis.findings import findings
from gaptools.domain.formatting import comparator
from gaptools.domain.reference import (
    national_figures,
    national_on_file,
    set_reference_dir,
)


@pytest.fixture(autouse=True)
def shipped_only(tmp_path, monkeypatch):
    """Only the shipped figures: an empty user reference folder."""
    monkeypatch.setenv("GAPTOOLS_REFERENCE_DIR", str(tmp_path / "no-user-figures"))
    set_reference_dir(None)


def load(rows):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(pd.DataFrame(rows))


def ks2_cohort(year=2025, n_dis=30, n_oth=50, reached_dis=12, reached_oth=36):
    """KS2 pupils: the first ``reached_*`` of each group reach the expected standard in RWM."""
    rows = []
    for dis, n, reached in ((True, n_dis, reached_dis), (False, n_oth, reached_oth)):
        for i in range(n):
            ok = i < reached
            rows.append({"school_id": "P1", "year": year, "key_stage": "KS2", "pupil_id": f"{dis}-{i}",
                         "disadvantaged": dis, "reading_score": 104 if ok else 95,
                         "maths_score": 103 if ok else 96, "writing_ta": "EXS" if ok else "WTS"})
    return load(rows)


def ks4_cohort(year=2025, n_dis=25, n_oth=45, seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for dis, n, centre in ((True, n_dis, 36.0), (False, n_oth, 48.0)):
        a8 = np.clip(centre + 12 * rng.normal(0, 1, n), 0, 90).round(1)
        for i in range(n):
            g = int(np.clip(round(a8[i] / 10), 0, 9))
            rows.append({"school_id": "S1", "year": year, "key_stage": "KS4", "pupil_id": f"{dis}-{i}",
                         "disadvantaged": dis, "attainment8": a8[i], "grade_english": g, "grade_maths": g})
    return load(rows)


def row(g, measure, comparison):
    r = g[(g.measure == measure) & (g.comparison == comparison) & g.subgroup.isna()]
    assert len(r) == 1, r
    return r.iloc[0]


def test_shipped_figures_are_the_published_ones():
    nat = national_figures().set_index(["key_stage", "year", "measure", "group"])["value"]
    assert nat[("KS2", 2025, "rwm_expected", "disadvantaged")] == 0.47
    assert nat[("KS2", 2025, "rwm_expected", "other")] == 0.69
    assert round(nat[("KS2", 2025, "rwm_expected", "all")], 2) == 0.62
    assert nat[("KS4", 2025, "attainment8", "all")] == 45.9
    assert nat[("KS4", 2025, "basics_4plus", "all")] == 0.645
    assert nat[("KS4", 2025, "basics_5plus", "all")] == 0.452
    assert nat[("KS4", 2025, "pupils", "all")] == 625673
    assert np.isnan(nat[("KS4", 2025, "progress8", "all")]) and np.isnan(nat[("KS4", 2026, "progress8", "all")])
    assert (nat[("KS4", 2024, "basics_5plus", "disadvantaged")], nat[("KS4", 2024, "basics_5plus", "other")]) \
        == (0.258, 0.531)
    # 2022/23 revised figures replace the earlier ones (43.1% vs 72.6%)
    for measure, dis, oth in (("attainment8", 35.0, 50.3), ("basics_4plus", 0.434, 0.728),
                              ("basics_5plus", 0.252, 0.524), ("progress8", -0.57, 0.17)):
        assert (nat[("KS4", 2023, measure, "disadvantaged")], nat[("KS4", 2023, measure, "other")]) == (dis, oth)
    assert not national_figures().duplicated(["key_stage", "year", "measure", "group"]).any()
    every = national_figures()
    assert every["source"].notna().all() and every["as_of"].notna().all()
    index = gaptools.domain.reference.national_gap_index().set_index(["key_stage", "year"])["value"]
    assert index[("KS2", 2025)] == 3.14 and index[("KS2", 2024)] == 3.13


def test_ks2_2025_compares_with_national_other_and_disadvantaged_pupils():
    g = gaptools.gap_table(ks2_cohort(), progress=False)
    p = 12 / 30
    for comparison, national in (("national_other", 0.69), ("national_disadvantaged", 0.47)):
        r = row(g, "rwm_expected", comparison)
        assert r.mean_reference == pytest.approx(national)
        assert r.mean_disadvantaged == pytest.approx(p)
        assert r.gap == pytest.approx(national - p)          # positive: ours behind
        lo, hi = proportion_confint(12, 30, method="wilson")
        assert (r.ci_low, r.ci_high) == (pytest.approx(national - hi), pytest.approx(national - lo))
        assert pd.isna(r.n_reference) and r.n_disadvantaged == 30
    # the all-pupil figure (62%) stands in only where no other-pupils' figure is published
    assert not (g.comparison == "national_all").any()


def test_ks4_2025_compares_with_all_pupils_nationally():
    p = ks4_cohort()
    g = gaptools.gap_table(p, progress=False)
    d = p.loc[p.disadvantaged, "attainment8"].astype(float).to_numpy()
    r = row(g, "attainment8", "national_all")
    assert r.mean_reference == pytest.approx(45.9)
    assert r.gap == pytest.approx(45.9 - d.mean())
    half = sps.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    assert (r.ci_low, r.ci_high) == (pytest.approx(45.9 - d.mean() - half), pytest.approx(45.9 - d.mean() + half))
    assert pd.isna(r.n_reference)
    b4 = p.loc[p.disadvantaged, "basics_4plus"].astype(bool)
    r4 = row(g, "basics_4plus", "national_all")
    assert r4.mean_reference == pytest.approx(0.645) and r4.gap == pytest.approx(0.645 - b4.mean())
    assert row(g, "basics_5plus", "national_all").mean_reference == pytest.approx(0.452)
    # no other/disadvantaged split is published for 2024/25 yet, and no Progress 8
    assert set(g.loc[g.comparison != "in_school", "comparison"]) == {"national_all"}


def test_ks4_2023_revised_figures_and_both_national_groups():
    g = gaptools.gap_table(ks4_cohort(year=2023), progress=False)
    assert row(g, "attainment8", "national_other").mean_reference == pytest.approx(50.3)
    assert row(g, "attainment8", "national_disadvantaged").mean_reference == pytest.approx(35.0)
    assert row(g, "basics_4plus", "national_other").mean_reference == pytest.approx(0.728)
    assert not (g.comparison == "national_all").any()


def test_findings_and_school_page_name_the_comparator():
    p = ks4_cohort(n_dis=60, n_oth=60)
    g = gaptools.gap_table(p, progress=False, detail=True)
    f = findings(g)
    national = f[f.category.isin(["national", "ahead"]) & f.text.str.contains("nationally")]
    a8 = row(g, "attainment8", "national_all")
    assert a8.clear  # the planted cohort is far below 45.9
    assert national.text.str.contains("all pupils nationally").any()
    assert not f.text.str.contains("national other pupils").any()
    assert comparator("national_other") == "national other pupils"
    assert comparator("national_disadvantaged") == "national disadvantaged pupils"
    assert comparator("national_all") == "all pupils nationally"

    from gaptools.reporting.school import SchoolReport

    [table] = SchoolReport(p, "S1").national_table()
    shown = table.data.set_index("Measure")
    assert shown.loc["Attainment 8", "Compared with"] == "all pupils nationally"
    assert shown.loc["Attainment 8", "National figure"] == "45.9"


def test_no_national_figure_names_the_years_on_file():
    assert national_on_file("KS4") == "KS4 figures are on file for 2018/19, 2022/23, 2023/24, 2024/25."
    from gaptools.reporting.school import SchoolReport

    [note] = SchoolReport(ks4_cohort(year=2022), "S1").national_table()
    text = note.data
    assert "No national figure is on file for KS4 2021/22" in text and "reference import" in text
